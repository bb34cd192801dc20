"""What the stages held along a ref's first-parent history: the one answer to "which versions did this
stage hold before?", for the validator's rollback rule, ``promote``'s rollback and ``history``/``audit``.

Each first-parent commit that changed a stage file is a ``StageStep``: the stage's entries before and
after it, read from the blob ids ``git log --first-parent --raw`` gives (each blob parsed once). A stage
file that does not parse holds nothing. What a stage "held" is what it held after some step: ``Held``
gathers it, in the order the steps come, and every caller asks it the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache

from gitreg.credentials import CREDENTIAL_PATTERNS
from gitreg.errors import GitregError
from gitreg.filesystem import is_name
from gitreg.gitoutput import ZERO_SHA, Patch
from gitreg.gitrepo import GitRepo, LogCommit
from gitreg.layout import STAGE_FILE, STAGES_DIR, stage_path
from gitreg.stage_patches import AHEAD, WINDOW, StagePatches
from gitreg.values import Value
from gitreg.walk_cache import Delta, Transition, WalkCache


class StageStep(Value):
    """A first-parent commit that changed a stage file: what the stage held before it and after it."""

    __match_args__ = ("commit", "stage", "before", "after", "delta")
    __slots__ = __match_args__
    commit: LogCommit
    stage: str
    before: Mapping[str, int]
    after: Mapping[str, int]
    #: The entries that differ, sorted by model, when the step was read from git's diff (else computed).
    delta: tuple[tuple[str, int | None, int | None], ...] | None

    def __init__(
        self,
        commit: LogCommit,
        stage: str,
        before: Mapping[str, int],
        after: Mapping[str, int],
        delta: tuple[tuple[str, int | None, int | None], ...] | None = None,
    ) -> None:
        self.commit = commit  # plain assignments: a walk makes one a step, thousands
        self.stage = stage
        self.before = before
        self.after = after
        self.delta = delta

    def changed(self, model: str | None = None) -> list[tuple[str, int | None, int | None]]:
        """(model, from version, to version) of each entry this step changed (None: not in the stage)."""
        if self.delta is not None:
            return [change for change in self.delta if model is None or change[0] == model]
        names = sorted(set(self.before) | set(self.after))
        return [
            (name, self.before.get(name), self.after.get(name))
            for name in names
            if (model is None or name == model) and self.before.get(name) != self.after.get(name)
        ]


class StageReader:
    """The steps of logged commits, with stage files parsed by blob id (their contents repeat a lot)."""

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.cache: dict[str, dict[str, int]] = {ZERO_SHA: {}}

    def steps(self, commit: LogCommit) -> list[StageStep]:
        """The stage files ``commit`` changed, by path."""
        steps = []
        for path, (old, new, _status) in sorted(commit.changes.items()):
            match = STAGE_FILE.match(path)
            if match:
                steps.append(StageStep(commit, match.group(1), self.entries(old), self.entries(new)))
        return steps

    def entries(self, blob: str) -> dict[str, int]:
        if blob not in self.cache:
            from gitreg import yamlio  # noqa: PLC0415 - the YAML loader, only for a file not in plain lines

            try:
                doc = yamlio.load(self.repo.read_blob(blob), "stage")
                self.cache[blob] = _typed_entries(doc.data)
            except (GitregError, ValueError):
                self.cache[blob] = {}
        return self.cache[blob]


def _typed_entries(data: object) -> dict[str, int]:
    """A stage file's entries as its typed model reads them (pydantic: only for a file not in plain lines)."""
    from gitreg.manifest import StageFile  # noqa: PLC0415 - pydantic is slow to load; most walks never need it

    return dict(StageFile.model_validate(data or {}).root)


#: A line of a stage file in the one form whose meaning is plain without YAML: ``model: version``.
_SIMPLE_LINE = re.compile(r"([a-z][a-z0-9._-]{0,63}): ([1-9][0-9]{0,17})")
#: Names the YAML loader reads as something other than a string.
_NOT_STRINGS = frozenset({"true", "false", "null"})


@lru_cache(maxsize=8192)
def _plain_name(name: str) -> bool:
    """Whether ``name: N`` is a plain line for every version N: a model name, which YAML reads as a string,
    in which nothing looks like a credential. Kept per name: a stage file's lines change versions far more
    often than names. A credential pattern that finds something in a plain line finds it in its name: the
    name is followed by ": " and digits, which no pattern takes in (tests/test_simple_entry_names.py holds
    every pattern to that)."""
    if name in _NOT_STRINGS or not is_name(name):
        return False
    return not any(pattern.search(name) for _what, pattern in CREDENTIAL_PATTERNS)


# a walk meets each line twice or more (added, then removed; and the audit's read-ahead)
@lru_cache(maxsize=8192)
def simple_entry(line: str) -> tuple[str, int] | None:
    """(model, version) of a stage-file line in the plain form, which loads to exactly that; None for any
    other line (a comment, quoting, other spacing, a name YAML reads otherwise, anything credential-like:
    the validator reports it, and such a file is judged in full)."""
    match = _SIMPLE_LINE.fullmatch(line)
    if match is None or not _plain_name(match.group(1)):
        return None
    return match.group(1), int(match.group(2))


def simple_entries(data: bytes) -> dict[str, int] | None:
    """The entries of a stage file made only of plain lines (each model once), or None if it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    entries: dict[str, int] = {}
    for line in lines:
        entry = simple_entry(line)
        if entry is None or entry[0] in entries:
            return None
        entries[entry[0]] = entry[1]
    return entries


class StageFileState(Value):
    """One stage file as a walk left it: its entries (what the validator reads; empty if it does not
    parse) and, when every line is plain, an upper bound of its size in bytes (else None)."""

    __match_args__ = ("entries", "plain_size")
    __slots__ = __match_args__
    entries: dict[str, int]
    plain_size: int | None

    def __init__(self, entries: dict[str, int], plain_size: int | None) -> None:
        self.entries = entries
        self.plain_size = plain_size


def _bound(lines: Iterable[str]) -> int:
    return sum(len(line.encode()) + 1 for line in lines)


class StageTracker:
    """The stage files along a first-parent walk (``GitRepo.first_parent_walk``, through ``read_ahead``),
    oldest first: a change the walk cache knows is applied as it says, if it starts from what the file
    holds; a file in plain lines follows the diff of its blobs (``gitreg.stage_patches``); any other file
    (or diff) is read whole and parsed by ``StageReader``."""

    def __init__(self, repo: GitRepo, cache: WalkCache | None = None) -> None:
        self.reader = StageReader(repo)
        self.files: dict[str, StageFileState] = {}
        self.patches = StagePatches(repo, cache)
        self.cache = cache

    def read_ahead(self, walk: Iterable[LogCommit], ahead: int = 0) -> Iterator[LogCommit]:
        """A raw walk (no ``--patch``) with the stage changes of each commit prepared to ``advance``
        over: found in the cache, or diffed from blobs read a window at a time (``StagePatches``), their
        blobs asked of git at least ``ahead`` commits before they are given out."""
        return self.patches.read_ahead(walk, depth=AHEAD + ahead // WINDOW)

    def state(self, stage: str) -> StageFileState:
        return self.files.get(stage) or StageFileState({}, 0)

    def advance(self, commit: LogCommit) -> list[StageStep]:
        """The stage steps of ``commit`` (by path), the files' states moved past it."""
        steps = []
        for _path, stage, old, new, status, patch in stage_changes_of(commit):
            state = self.files.setdefault(stage, StageFileState({}, 0))
            known = self.patches.known.pop((old, new), None) if status in ("A", "M") else None
            if known is not None and _consistent(state.entries, known.delta):
                delta = known.delta
                _change(state.entries, delta)
                state.plain_size = known.plain_size
            else:
                applied = None
                if status != "D" and patch is not None and state.plain_size is not None:
                    applied = apply_lines(state, *patch)
                if applied is None:
                    after = self._read(new, status)
                    applied = _difference(state.entries, after.entries)
                    self.files[stage] = state = after
                delta = applied
                if self.cache is not None and status in ("A", "M"):
                    self.cache.add_transition(old, new, Transition(delta, state.plain_size))
            steps.append(StageStep(commit, stage, _Before(state.entries, delta), state.entries, delta))
        return steps

    def _read(self, new: str, status: str, data: bytes | None = None) -> StageFileState:
        """The stage file ``new`` read whole (its text ``data`` when the caller holds it), parsed by
        ``StageReader`` unless it is in plain lines."""
        if status == "D" or new == ZERO_SHA:
            return StageFileState({}, 0)
        data = self.reader.repo.read_blob(new) if data is None else data
        plain = simple_entries(data)
        if plain is not None:
            return StageFileState(plain, _bound(data.decode().split("\n")))
        return StageFileState(dict(self.reader.entries(new)), None)  # a copy: the walk changes it in place


def stage_changes_of(commit: LogCommit) -> list[tuple[str, str, str, str, str, Patch | None]]:
    """(path, stage, old blob, new blob, status, diff if the walk made one) of each stage file ``commit``
    changed, by path."""
    found = []
    for path, (old, new, status) in commit.changes.items():
        match = STAGE_FILE.match(path)
        if match:
            found.append((path, match.group(1), old, new, status, commit.patches.get(path)))
    return found if len(found) < 2 else sorted(found)


def _consistent(entries: Mapping[str, int], delta: Delta) -> bool:
    """Whether a cached change starts from ``entries`` (a cache is never trusted beyond what it can show)."""
    return all(entries.get(name) == old and old != new for name, old, new in delta)


def _change(entries: dict[str, int], delta: Delta) -> None:
    for name, _old, new in delta:
        if new is None:
            del entries[name]
        else:
            entries[name] = new


def _difference(before: Mapping[str, int], after: Mapping[str, int]) -> Delta:
    names = sorted(set(before) | set(after))
    return tuple((n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n))


class _Before(Mapping[str, int]):
    """What a stage held before a step: what it holds now with the step's changes undone. A view, so that a
    step costs what it changed: read it before the walk moves the stage on (``StageTracker.advance``)."""

    __slots__ = ("_delta", "_now", "_undone")

    def __init__(self, now: Mapping[str, int], delta: Delta) -> None:
        self._now = now
        self._delta = delta
        self._undone: dict[str, int | None] | None = None  # made when first read: most steps never are

    @property
    def _old(self) -> dict[str, int | None]:
        if self._undone is None:
            self._undone = {name: old for name, old, _new in self._delta}
        return self._undone

    def __getitem__(self, name: str) -> int:
        if name in self._old:
            old = self._old[name]
            if old is None:
                raise KeyError(name)
            return old
        return self._now[name]

    def __iter__(self) -> Iterator[str]:
        yield from (name for name in self._now if name not in self._old)
        yield from (name for name, old in self._old.items() if old is not None)

    def __len__(self) -> int:
        return sum(1 for _name in self)


def apply_lines(state: StageFileState, removed: list[str], added: list[str]) -> Delta | None:
    """Apply the diff of a file in plain lines (its removed and added lines) to ``state``, in place, if the
    diff keeps it so: the entries it changed. None (``state`` untouched) to read the file whole."""
    if state.plain_size is None:
        return None
    entries = state.entries
    if len(removed) == 1 and len(added) == 1:  # a promotion: one entry's version changed, in place
        was, now = simple_entry(removed[0]), simple_entry(added[0])
        if was is not None and now is not None and was[0] == now[0] and entries.get(was[0]) == was[1]:
            entries[was[0]] = now[1]
            state.plain_size += len(added[0]) - len(removed[0])  # plain lines are ASCII
            return ((was[0], was[1], now[1]),) if was[1] != now[1] else ()
    gone: dict[str, int] = {}
    for line in removed:
        entry = simple_entry(line)
        if entry is None or entry[0] in gone or entries.get(entry[0]) != entry[1]:
            return None
        gone[entry[0]] = entry[1]
    came: dict[str, int] = {}
    for line in added:
        entry = simple_entry(line)
        if entry is None or entry[0] in came or (entry[0] in entries and entry[0] not in gone):
            return None  # a duplicate key: the loader refuses the file
        came[entry[0]] = entry[1]
    delta = tuple(
        (name, gone.get(name), came.get(name))
        for name in sorted(gone.keys() | came.keys())
        if gone.get(name) != came.get(name)
    )
    _change(entries, delta)
    state.plain_size = state.plain_size - _bound(removed) + _bound(added)
    return delta


def stage_log(repo: GitRepo, ref: str, stage: str | None = None) -> Iterator[LogCommit]:
    """The first-parent commits of ``ref`` that changed ``stage``'s file (any stage's if None), newest
    first."""
    return repo.first_parent_log(ref, [stage_path(stage)] if stage else [f"{STAGES_DIR}/"])


def stage_steps(repo: GitRepo, log: Iterable[LogCommit]) -> Iterator[StageStep]:
    """Every stage step of ``log`` (a first-parent log, in the order given)."""
    reader = StageReader(repo)
    for commit in log:
        yield from reader.steps(commit)


class Held:
    """The versions each stage held, gathered from steps in the order they are added."""

    def __init__(self, steps: Iterable[StageStep] = ()) -> None:
        self._held: dict[tuple[str, str], list[int]] = {}
        for step in steps:
            self.add(step)

    def add(self, step: StageStep) -> None:
        """Steps come in history order, each ``before`` the previous step's ``after``: only the entries a
        step changed can be new to what the stage held (its first step's are all new)."""
        for model, _old, number in step.changed():
            if number is None:
                continue
            versions = self._held.setdefault((step.stage, model), [])
            if number not in versions:
                versions.append(number)

    def versions(self, stage: str, model: str) -> list[int]:
        """Versions of ``model`` that ``stage`` held, in the order first met."""
        return list(self._held.get((stage, model), []))

    def __call__(self, stage: str, model: str, version: int) -> bool:
        return version in self._held.get((stage, model), [])


def held_versions(repo: GitRepo, ref: str, stage: str, model: str) -> list[int]:
    """Versions of ``model`` that ``stage`` held along ``ref``'s first-parent history, most recent first."""
    return Held(stage_steps(repo, stage_log(repo, ref, stage))).versions(stage, model)


class HeldAt:
    """``held_before(stage, model, version)`` for the validator: whether ``stage`` held that version at
    some first-parent commit of ``ref`` (``ref`` included); each stage's history is read on first ask."""

    def __init__(self, repo: GitRepo, ref: str) -> None:
        self.repo = repo
        self.ref = ref
        self._stages: dict[str, Held] = {}

    def __call__(self, stage: str, model: str, version: int) -> bool:
        if stage not in self._stages:
            self._stages[stage] = Held(stage_steps(self.repo, stage_log(self.repo, self.ref, stage)))
        return self._stages[stage](stage, model, version)
