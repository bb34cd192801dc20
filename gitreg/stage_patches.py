"""The changes of stage files along a first-parent walk, read ahead a window of commits at a time.

``git log --raw`` gives each commit's old and new blob ids; for each change of a stage file this module
either finds what it did in the walk cache (``gitreg.walk_cache``: no blob is read), or reads the new blob
(and the old one, unless the walk last read it) with every other blob of the window in one ``cat-file``
run, and writes the change as the lines it removed and added in ``LogCommit.patches``, the form
``StageTracker`` follows (``git log --patch`` made git read and diff both blobs of every change, at a cost
that grows with the stage file).

The diff is the one hunk between the longest common prefix and suffix of whole lines: a correct diff of any
two texts, and exactly the changed lines when a promotion changes one entry. It only ever stands for
"these lines went, these came": ``StageTracker`` checks every line of it and reads the file whole when one
is not a plain ``model: version`` line."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from gitreg.gitahead import Ticket
from gitreg.gitoutput import ZERO_SHA, LogCommit, Patch
from gitreg.gitrepo import GitRepo
from gitreg.layout import STAGE_FILE
from gitreg.walk_cache import Transition, WalkCache

#: Commits whose stage blobs are read in one ``cat-file`` run (their texts are held until diffed).
WINDOW = 64
#: Windows whose blobs are asked of git before the one being diffed.
AHEAD = 2
#: Cached transitions held for the commits read ahead (the audit reads further ahead than one window);
#: ``StageTracker.advance`` takes each out as it applies it.
KNOWN_HELD = 16384


def text_patch(old: bytes, new: bytes) -> Patch | None:
    """A diff taking ``old`` to ``new``: (the lines removed, the lines added), the lines between their
    longest common prefix and suffix of whole lines. None if those lines are not UTF-8."""
    start = _common_prefix(old, new)
    start = old.rfind(b"\n", 0, start) + 1  # back to the start of the line the texts first differ in
    end_old, end_new = old.find(b"\n", start) + 1, new.find(b"\n", start) + 1
    if not (end_old and end_new and old[end_old:] == new[end_new:]):  # not one line changed (a promotion)
        limit = min(len(old), len(new)) - start
        tail = _common_suffix(old, new, limit)
        # forward to just after a newline inside the common tail, so that it is whole lines in both texts
        cut = old.find(b"\n", len(old) - tail)
        end_old = len(old) if cut == -1 or tail == 0 else cut + 1
        end_new = len(new) - (len(old) - end_old)
    try:
        removed = _lines(old[start:end_old].decode("utf-8"))
        added = _lines(new[start:end_new].decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return removed, added


def _lines(text: str) -> list[str]:
    if not text:
        return []
    return (text[:-1] if text.endswith("\n") else text).split("\n")


def _common_prefix(a: bytes, b: bytes) -> int:
    """The length of the longest common prefix: by halving, each comparison over bytes not yet compared."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


class StagePatches:
    """Reads ahead the stage-file changes of a walk (see the module's docstring), oldest first, or newest
    first if ``rewinding`` (``GitRepo.first_parent_rewind``: then the text held for a file is its old
    blob's, which the next change met, an older one, has as its new). ``known`` holds the cached
    transitions of the windows being walked, by (old blob, new blob)."""

    def __init__(self, repo: GitRepo, cache: WalkCache | None = None, rewinding: bool = False) -> None:
        self.repo = repo
        self.cache = cache
        self.rewinding = rewinding
        self.texts: dict[str, tuple[str, bytes]] = {}  # path -> (blob, text) as last read
        #: Rewinding: each file's text after the newest change of it that was diffed (the first met), by
        #: path, for ``StageRewinder`` to start from instead of reading it again.
        self.tips: dict[str, tuple[str, bytes]] = {}
        self.known: dict[tuple[str, str], Transition] = {}
        self.blobs_read = 0  # stage blobs read (for tests and benchmarks)
        self._planned: dict[str, str] = {}  # path -> the blob ``texts`` will hold once the windows asked for
        self._met: set[str] = set()  # rewinding: the paths whose newest change was diffed
        self._tips_asked: set[str] = set()  # rewinding: the paths whose newest change was planned

    def read_ahead(
        self, walk: Iterable[LogCommit], size: int = WINDOW, depth: int = AHEAD
    ) -> Iterator[LogCommit]:
        """``walk`` as it comes, each window of ``size`` commits prepared before it: the blobs of the next
        ``depth`` windows are asked of git (``GitRepo.blobs_ahead``) before this one is diffed and given out,
        so that git reads them while the walk works (a caller that takes commits in longer runs than a
        window asks for more ahead)."""
        asked: deque[tuple[list[LogCommit], list[_Change], Ticket]] = deque()
        with self.repo.blobs_ahead() as ahead:
            for window in windows(walk, size):
                changes, wanted = self._plan(window)
                asked.append((window, changes, ahead.request(wanted)))
                if len(asked) > depth:
                    done, changed, ticket = asked.popleft()
                    self._diff(changed, ticket.result())
                    yield from done
            while asked:
                done, changed, ticket = asked.popleft()
                self._diff(changed, ticket.result())
                yield from done

    def _plan(self, window: list[LogCommit]) -> tuple[list[_Change], list[str]]:
        """The window's stage changes, their transitions found in the cache, and the blobs the others need:
        each new blob, and its old one unless the walk will hold it by then."""
        changes = [
            (landing, path, old, new, status)
            for landing in window
            for path, (old, new, status) in sorted(landing.changes.items())
            if STAGE_FILE.match(path)
        ]
        pairs = [(old, new) for _l, _p, old, new, status in changes if status in ("A", "M")]
        if len(self.known) > KNOWN_HELD:
            self.known = {}  # a caller reading further ahead than this falls back to reading blobs
        if self.cache is not None and pairs:
            self.known.update(self.cache.transitions(pairs))
        last = self._planned
        wanted: dict[str, None] = {}
        for _landing, path, old, new, status in changes:
            if self.rewinding:
                if path not in self._tips_asked and status != "D":  # its newest blob: where the walk starts
                    self._tips_asked.add(path)
                    wanted[new] = None
                _plan_back(last, wanted, path, old, new, status, (old, new) in self.known)
            elif status not in ("A", "M"):
                last.pop(path, None)
            elif (old, new) not in self.known:
                if old != ZERO_SHA and last.get(path) != old:
                    wanted[old] = None
                wanted[new] = None
                last[path] = new
        return changes, list(wanted)

    def _diff(self, changes: list[_Change], read: dict[str, bytes]) -> None:
        """Write the diff of each change not in the cache, from the blobs ``read`` and those last held."""
        self.blobs_read += len(read)
        if self.rewinding:
            self._diff_back(changes, read)
            return
        for landing, path, old, new, status in changes:
            if status not in ("A", "M"):
                self.texts.pop(path, None)
                continue
            if (old, new) in self.known:
                continue
            held = self.texts.get(path)
            before = b"" if old == ZERO_SHA else held[1] if held and held[0] == old else read.get(old)
            after = read.get(new)
            if after is None:
                self.texts.pop(path, None)
                continue
            self.texts[path] = (new, after)
            patch = text_patch(before, after) if before is not None else None
            if patch is not None:
                landing.patches[path] = patch

    def _diff_back(self, changes: list[_Change], read: dict[str, bytes]) -> None:
        """``_diff`` of changes met newest first: the text held for a file is the old blob's of the change
        met before (a newer one), which is this change's new one."""
        for landing, path, old, new, status in changes:
            if path not in self._met and status != "D" and new in read:
                self.tips[path] = (new, read[new])
            self._met.add(path)
            if status == "D":
                text = read.get(old)
                self._hold(path, old, text)
                continue
            if status not in ("A", "M") or (old, new) in self.known:
                self.texts.pop(path, None)
                continue
            held = self.texts.get(path)
            after = held[1] if held and held[0] == new else read.get(new)
            before = b"" if old == ZERO_SHA else read.get(old)
            self._hold(path, old, before if old != ZERO_SHA else None)
            patch = text_patch(before, after) if before is not None and after is not None else None
            if patch is not None:
                landing.patches[path] = patch

    def _hold(self, path: str, blob: str, text: bytes | None) -> None:
        if text is None:
            self.texts.pop(path, None)
        else:
            self.texts[path] = (blob, text)


def _plan_back(
    last: dict[str, str], wanted: dict[str, None], path: str, old: str, new: str, status: str, known: bool
) -> None:
    """``_plan`` of a change met newest first: its new blob unless the walk will hold it (the old one of the
    change met before), and its old one; the walk holds that one next."""
    if status == "D":
        wanted[old] = None
        last[path] = old
    elif status not in ("A", "M") or known:
        last.pop(path, None)
    else:
        if last.get(path) != new:
            wanted[new] = None
        if old != ZERO_SHA:
            wanted[old] = None
            last[path] = old
        else:
            last.pop(path, None)


#: (commit, path, old blob, new blob, status) of a stage-file change.
_Change = tuple[LogCommit, str, str, str, str]


def windows(walk: Iterable[LogCommit], size: int) -> Iterator[list[LogCommit]]:
    """``walk`` a list of ``size`` commits at a time (the last one shorter)."""
    window: list[LogCommit] = []
    for landing in walk:
        window.append(landing)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window
