"""What changed below some folders between consecutive commits of a walk: one ``git diff-tree --stdin``
process, asked a window ahead and read in order. ``audit`` walks only the commits that change the stage
files or registry.yaml, and learns what every other commit did to models/ from the diff between one walked
commit and the next: git compares two trees once per walked commit instead of following models/ through
every commit that registered a version. Part of the git module family (``gitrepo`` starts it)."""

from __future__ import annotations

import subprocess
from collections import deque
from contextlib import suppress
from pathlib import Path

from gitreg.errors import GitError
from gitreg.gitrun import enlarge_pipe, environment

#: Bytes of requests written and not answered yet, at most (they wait in git's input pipe, 64 KiB at least,
#: while git is held up writing answers nobody reads yet): beyond it, answers are read and kept first.
ASKED_MAX = 32 * 1024
PIPE_SIZE = 1 << 20

#: {path: (old blob, new blob, status letter)}, as ``LogCommit.changes``.
Changes = dict[str, tuple[str, str, str]]


class TreeChanges:
    """``ask(commit, before)`` for each commit in turn, ``finish()`` after the last, and ``take()`` the
    changes below ``paths`` from ``before`` to ``commit`` in the order asked: a pair's answer ends where the
    next one's starts (git writes each pair's header, ``--always``), the last where git's output does, so
    a pair is taken once the one after it is asked, or once the asking is finished. Requests are written a
    batch at a time, before anything is read. Close it (or use it as a context manager) to stop git."""

    def __init__(self, git_dir: Path, paths: list[str]) -> None:
        argv = ["git", f"--git-dir={git_dir}", "diff-tree", "--stdin", "--always", "-r", "-z", "--raw"]
        argv += ["--no-abbrev", "--no-renames", "--no-textconv", "--no-ext-diff", "--", *paths]
        self._process = subprocess.Popen(
            argv,
            bufsize=0,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment(),
        )
        if self._process.stdin is None or self._process.stdout is None:  # pragma: no cover - piped above
            raise GitError("git diff-tree has no pipes")
        self._stdin = self._process.stdin
        self._stdout = self._process.stdout
        enlarge_pipe(self._stdout.fileno(), PIPE_SIZE)
        self._unsent: list[str] = []  # requests not written yet
        self._asked: deque[tuple[str, int]] = deque()  # commits asked, answers not read; request bytes
        self._asked_bytes = 0
        self._ready: deque[Changes] = deque()  # answers read ahead, in order
        self._tokens: deque[bytes] = deque()  # NUL-ended fields read and not parsed yet
        self._rest = b""  # a field not ended yet
        self._finished = False

    def __enter__(self) -> TreeChanges:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def ask(self, commit: str, before: str) -> None:
        request = f"{commit} {before}\n"
        self._unsent.append(request)
        self._asked.append((commit, len(request)))
        self._asked_bytes += len(request)
        if len(self._unsent) >= _BATCH:
            self._send()

    def finish(self) -> None:
        """No more pairs: git's output ends after the last one's answer."""
        self._send()
        self._finished = True
        with suppress(OSError):
            self._stdin.close()

    def take(self) -> Changes:
        """The changes of the oldest pair asked and not taken."""
        if self._ready:
            return self._ready.popleft()
        self._send()
        return self._answer()

    def _send(self) -> None:
        if not self._unsent:
            return
        request = "".join(self._unsent).encode()
        self._unsent = []
        try:
            self._stdin.write(request)
        except (OSError, ValueError) as exc:
            raise GitError(f"git diff-tree stopped: {exc}") from None
        # answers nobody reads hold git up, and the requests behind them wait in its input pipe (64 KiB at
        # least): while more than ASKED_MAX is asked, read (and keep) the oldest answers, each of which ends
        # where the next one, written already, starts
        while len(self._asked) > 1 and self._asked_bytes > ASKED_MAX:
            self._ready.append(self._answer())

    def _answer(self) -> Changes:
        commit, size = self._asked.popleft()
        self._asked_bytes -= size
        if self._field() != commit.encode():
            raise GitError(f"git diff-tree gave no answer for {commit}")
        changes: Changes = {}
        while True:
            field = self._peek()
            if field is None or not field.startswith(b":"):  # the end, or the next pair's header
                return changes
            self._tokens.popleft()
            meta = field.decode("ascii", "replace").split(" ")
            path = self._field().decode("utf-8", "replace")  # as parse_log reads paths
            if len(meta) != 5:
                raise GitError(f"git diff-tree wrote a change it does not write: {field[:80]!r}")
            changes[path] = (meta[2], meta[3], meta[4][:1])

    def _field(self) -> bytes:
        """The next NUL-ended field of git's answers."""
        field = self._peek()
        if field is None:
            raise GitError("git diff-tree stopped before it answered")
        return self._tokens.popleft()

    def _peek(self) -> bytes | None:
        """The next field, left to read; None at the end of git's output."""
        while not self._tokens:
            if not self._asked and not self._finished:
                raise GitError("git diff-tree was asked for nothing more")  # (the caller's mistake)
            chunk = self._stdout.read(1 << 16)
            if not chunk:
                return None
            parts = (self._rest + chunk).split(b"\0")
            self._rest = parts.pop()
            self._tokens.extend(parts)
        return self._tokens[0]

    def close(self) -> None:
        for stream in (self._stdin, self._stdout):
            with suppress(OSError):
                stream.close()
        with suppress(OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait(timeout=0)  # else reaped by subprocess later (see gitahead.BlobsAhead.close)


#: Pairs asked before their requests are written to git.
_BATCH = 32
