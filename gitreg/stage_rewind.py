"""The stage files along a first-parent walk taken newest first (``GitRepo.first_parent_rewind``), for
``history``: git writes a newest-first log as it walks, so reading the stage files' blobs starts at once
instead of after git has worked out the whole history, and git reads the newest blobs fastest (a pack keeps
them whole and the older ones as deltas of them). ``audit`` walks oldest first (``StageTracker``): its rules
need what came before.

Each file starts from what it holds at the walk's first (newest) change of it, read whole, and is moved back
over each change: by the change the walk cache knows, if it ends where the file stands; by the diff of its
blobs read backwards (``gitreg.stage_patches``, ``rewinding``), if the file is in plain lines; else by its
old blob read whole. The steps are the ones ``StageTracker`` gives the same commits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gitreg.gitoutput import LogCommit
from gitreg.gitrepo import GitRepo
from gitreg.stage_history import (
    StageFileState,
    StageStep,
    StageTracker,
    _Before,
    _change,
    _consistent,
    _difference,
    apply_lines,
    stage_changes_of,
)
from gitreg.stage_patches import StagePatches
from gitreg.walk_cache import Delta, Transition, WalkCache


class StageRewinder(StageTracker):
    """``StageTracker`` for a walk newest first: ``rewind`` each commit in turn. ``files`` holds each
    stage file as it stands before the commit last rewound (a ``plain_size`` of None: not in plain lines,
    or not known)."""

    def __init__(self, repo: GitRepo, cache: WalkCache | None = None) -> None:
        super().__init__(repo, cache)
        self.patches = StagePatches(repo, cache, rewinding=True)

    def read_ahead(self, walk: Iterable[LogCommit], ahead: int = 0) -> Iterator[LogCommit]:
        """``StageTracker.read_ahead`` of a walk newest first."""
        return self.patches.read_ahead(walk)

    def advance(self, commit: LogCommit) -> list[StageStep]:
        raise TypeError("a walk newest first is rewound, not advanced over: call rewind")

    def rewind(self, commit: LogCommit) -> list[StageStep]:
        """The stage steps of ``commit`` (by path), as ``StageTracker.advance`` gives them; the files moved
        back to before it."""
        steps = []
        for path, stage, old, new, status, patch in stage_changes_of(commit):
            state = self.files.get(stage)
            if state is None:  # its newest change: the file as that change left it
                state = self.files[stage] = self._tip(path, new, status)
            after_size = state.plain_size
            known = self.patches.known.pop((old, new), None) if status in ("A", "M") else None
            undone: Delta | None = _undone(known.delta) if known is not None else None
            # a cached change is taken only if it ends where the file stands: undone, it starts there
            if known is not None and undone is not None and _consistent(state.entries, undone):
                delta = known.delta
                _change(state.entries, undone)
                state.plain_size = None  # not known: a change the cache does not know reads the file whole
            else:
                # the diff undone: its added lines go, its removed lines come back
                undone = apply_lines(state, patch[1], patch[0]) if patch is not None else None
                if undone is None:
                    before = self._read(old, "M")
                    delta = _difference(before.entries, state.entries)
                    self.files[stage] = state = before
                else:
                    delta = _undone(undone)
                if self.cache is not None and status in ("A", "M") and after_size is not None:
                    self.cache.add_transition(old, new, Transition(delta, after_size))
            if undone is None:
                undone = _undone(delta)
            steps.append(StageStep(commit, stage, state.entries, _Before(state.entries, undone), delta))
        return steps

    def _tip(self, path: str, new: str, status: str) -> StageFileState:
        """The file as its newest change left it: from the text the read-ahead kept, else read whole."""
        tip = self.patches.tips.pop(path, None)
        return self._read(new, status, tip[1] if tip is not None and tip[0] == new else None)


def _undone(delta: Delta) -> Delta:
    """A change the other way round: what undoes it."""
    return tuple((name, new, old) for name, old, new in delta)
