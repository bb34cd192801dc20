"""What changed below some folders between consecutive commits of a walk: one ``git diff-tree --stdin``
process, asked a window ahead and read in order. ``audit`` walks only the commits that change the stage
files or registry.yaml, and learns what every other commit did to models/ from the diff between one walked
commit and the next: git compares two trees once per walked commit instead of following models/ through
every commit that registered a version. Part of the git module family (``gitrepo`` starts it)."""

from __future__ import annotations

from collections import deque
from functools import partial
from pathlib import Path

from gitreg.errors import GitError
from gitreg.gitrun import start_server, stop_server

#: Bytes of requests written and not answered yet, at most (they wait in git's input pipe, 64 KiB at least,
#: while git is held up writing answers nobody reads yet): beyond it, answers are read and kept first.
ASKED_MAX = 32 * 1024
PIPE_SIZE = 1 << 20

#: {path: (old blob, new blob, status letter)}, as ``LogCommit.changes``.
Changes = dict[str, tuple[str, str, str]]


class TreeChanges:
    """``ask(commit, before)`` for each pair in turn, then ``take()`` the changes below ``paths`` from
    ``before`` to ``commit``, in the order asked. git keeps every tree it has read until it exits, so a
    process answers ``PAIRS_PER_PROCESS`` pairs and the next ones go to a new one: memory stays flat however
    many pairs a walk asks (about 30 KiB a pair with a 1,000-model ``models/``)."""

    def __init__(self, git_dir: Path, paths: list[str]) -> None:
        self._start = partial(_Asker, git_dir, paths)
        self._askers: deque[_Asker] = deque([self._start()])

    def __enter__(self) -> TreeChanges:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def ask(self, commit: str, before: str) -> None:
        asker = self._askers[-1]
        if asker.pairs >= PAIRS_PER_PROCESS:
            asker.send()  # what it was asked last: its answers are taken before the new one's
            asker = self._start()
            self._askers.append(asker)
        asker.ask(commit, before)

    def take(self) -> Changes:
        """The changes of the oldest pair asked and not taken (IndexError if there is none)."""
        while len(self._askers) > 1 and not self._askers[0].pending():
            self._askers.popleft().close()
        return self._askers[0].take()

    def close(self) -> None:
        for asker in self._askers:
            asker.close()


class _Asker:
    """One ``git diff-tree --stdin``: ``TreeChanges`` for the pairs asked of it. Each request is the pair,
    then the commit against itself: git writes every pair's header (``--always``), so the second one's, with
    no change after it, ends the first one's answer, whatever is asked next (a walk may ask once in thousands
    of commits). Requests are written a batch at a time, all of them before anything is read."""

    def __init__(self, git_dir: Path, paths: list[str]) -> None:
        self.pairs = 0  # asked in all
        argv = ["git", f"--git-dir={git_dir}", "diff-tree", "--stdin", "--always", "-r", "-z", "--raw"]
        argv += ["--no-abbrev", "--no-renames", "--no-textconv", "--no-ext-diff", "--", *paths]
        self._process, self._stdin, self._stdout = start_server(argv, 0, PIPE_SIZE)
        self._unsent: list[str] = []  # requests not written yet
        self._asked: deque[tuple[str, int]] = deque()  # commits asked, answers not read; request bytes
        self._asked_bytes = 0
        self._ready: deque[Changes] = deque()  # answers read ahead, in order
        self._tokens: deque[bytes] = deque()  # NUL-ended fields read and not parsed yet
        self._rest = b""  # a field not ended yet

    def ask(self, commit: str, before: str) -> None:
        self.pairs += 1
        request = f"{commit} {before}\n{commit} {commit}\n"
        self._unsent.append(request)
        self._asked.append((commit, len(request)))
        self._asked_bytes += len(request)
        if len(self._unsent) >= _BATCH:
            self.send()

    def pending(self) -> bool:
        """Whether a pair asked of it is not taken yet."""
        return bool(self._ready or self._asked)

    def take(self) -> Changes:
        if not self._ready:
            self.send()  # (which may read the oldest answers ahead: they come first)
        return self._ready.popleft() if self._ready else self._answer()

    def send(self) -> None:
        """Write the requests not written yet (then read the oldest answers ahead while too much is asked)."""
        if not self._unsent:
            return
        request = "".join(self._unsent).encode()
        self._unsent = []
        try:
            self._stdin.write(request)
        except (OSError, ValueError) as exc:
            raise GitError(f"git diff-tree stopped: {exc}") from None
        # answers nobody reads hold git up, and the requests behind them wait in its input pipe (64 KiB at
        # least): while more than ASKED_MAX is asked, read (and keep) the oldest answers
        while self._asked and self._asked_bytes > ASKED_MAX:
            self._ready.append(self._answer())

    def _answer(self) -> Changes:
        commit, size = self._asked.popleft()
        self._asked_bytes -= size
        head = commit.encode()
        if self._field() != head:
            raise GitError(f"git diff-tree gave no answer for {commit}")
        changes: Changes = {}
        while True:
            field = self._field()
            if not field.startswith(b":"):
                if field != head:
                    raise GitError(f"git diff-tree gave an answer it was not asked for: {field[:80]!r}")
                return changes  # the commit against itself: the end of the pair's changes
            meta = field.decode("ascii", "replace").split(" ")
            path = self._field().decode("utf-8", "replace")  # as parse_log reads paths
            if len(meta) != 5:
                raise GitError(f"git diff-tree wrote a change it does not write: {field[:80]!r}")
            changes[path] = (meta[2], meta[3], meta[4][:1])

    def _field(self) -> bytes:
        """The next NUL-ended field of git's answers (all of a pair's are asked: none is waited for long)."""
        while not self._tokens:
            chunk = self._stdout.read(1 << 16)
            if not chunk:
                raise GitError("git diff-tree stopped before it answered")
            parts = (self._rest + chunk).split(b"\0")
            self._rest = parts.pop()
            self._tokens.extend(parts)
        return self._tokens.popleft()

    def close(self) -> None:
        stop_server(self._process)


#: Pairs asked before their requests are written to git.
_BATCH = 32
#: Pairs one git process answers (see ``TreeChanges``).
PAIRS_PER_PROCESS = 256
