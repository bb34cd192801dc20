"""Blobs read ahead of a walk: a ``git cat-file --batch`` process of the walk's own, asked for the next
window's blobs before the walk works on the window it holds, so that git finds and inflates them on another
core meanwhile instead of the walk waiting for each window's blobs in turn. git writes its replies into a
pipe made as large as the system allows (1 MiB on Linux), where they wait until the walk takes them: no
thread, so the walk never waits for Python's lock to read. Part of the git module family (``gitrepo``
starts it)."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

from gitreg.errors import GitError
from gitreg.gitlite import read_replies
from gitreg.gitrun import start_server, stop_server

#: Bytes of requests written and not answered yet, at most: they wait in git's input pipe (64 KiB at least)
#: while git is held up writing replies nobody reads yet, so they must fit in it. A longer request is
#: answered at once (``BlobsAhead.request``).
ASKED_MAX = 32 * 1024
#: The size asked for git's output pipe: replies to a window or two wait there (the system may give less).
PIPE_SIZE = 1 << 20


class Ticket:
    """Blobs asked for together; ``result`` reads their replies (and those of the tickets before it)."""

    __slots__ = ("blobs", "done", "error", "reader", "request", "shas")

    def __init__(self, reader: BlobsAhead, shas: list[str], request: bytes) -> None:
        self.reader = reader
        self.shas = shas
        self.request = request
        self.blobs: dict[str, bytes] = {}  # sha -> contents; a sha git has no blob for is left out
        self.error: str | None = None
        self.done = False

    def result(self) -> dict[str, bytes]:
        self.reader.read_through(self)
        if self.error is not None:
            raise GitError(f"git cat-file failed: {self.error}")
        return self.blobs


class BlobsAhead:
    """``request`` blobs now, take them later (``Ticket.result``), in any order. Close it (or use it as a
    context manager) to stop git."""

    def __init__(self, git_dir: Path) -> None:
        argv = ["git", f"--git-dir={git_dir}", "cat-file", "--batch"]
        self._process, self._stdin, self._stdout = start_server(argv, 1 << 16, PIPE_SIZE)
        self._unread: deque[Ticket] = deque()  # asked, in order, replies not read yet
        self._asked = 0  # bytes of their requests
        self._failed: str | None = None  # why git can answer no more
        self._closed = False
        self.requests = 0  # requests of blobs made (for tests)

    def __enter__(self) -> BlobsAhead:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, shas: list[str]) -> Ticket:
        """Ask git for ``shas`` (blob ids as git log gives them); their contents come with the ticket."""
        ticket = Ticket(self, shas, "".join(f"{sha}\n" for sha in shas).encode())
        if not shas or self._closed:
            ticket.error = "the reader is closed" if shas else None
            ticket.done = True
            return ticket
        self.requests += 1
        while self._unread and self._asked + len(ticket.request) > ASKED_MAX:
            self._read(self._unread[0])  # make room: git may be held up writing those replies
        self._unread.append(ticket)
        self._asked += len(ticket.request)
        if len(ticket.request) <= ASKED_MAX:
            self._write(ticket.request)
            return ticket
        # too long to wait in git's input pipe: written by a thread while its replies are read now
        writer = threading.Thread(target=self._write, args=(ticket.request,), name="gitreg-cat-file")
        writer.start()
        self._read(ticket)
        writer.join()
        return ticket

    def _write(self, request: bytes) -> None:
        try:
            self._stdin.write(request)
            self._stdin.flush()
        except (OSError, ValueError) as exc:  # git is gone: its output ends, and reading says so
            self._failed = self._failed or f"git cat-file stopped: {exc}"

    def read_through(self, ticket: Ticket) -> None:
        """Read the replies of the tickets asked before ``ticket``, and of ``ticket``."""
        while not ticket.done:
            self._read(self._unread[0])

    def _read(self, ticket: Ticket) -> None:
        self._unread.popleft()
        self._asked -= len(ticket.request)
        stdout = self._stdout
        try:
            if self._failed is not None:
                raise OSError(self._failed)
            ticket.blobs = read_replies(stdout, ticket.shas)
        except (OSError, ValueError) as exc:
            self._failed = self._failed or str(exc)
            ticket.error = self._failed
        ticket.done = True

    def close(self) -> None:
        """Stop git (what was asked and not taken is dropped)."""
        self._closed = True
        stop_server(self._process)
        for ticket in self._unread:
            ticket.error, ticket.done = "the reader is closed", True
        self._unread.clear()
