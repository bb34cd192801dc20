"""Blobs read ahead of a walk: a ``git cat-file --batch`` process of the walk's own, whose replies a thread
reads while the walk works on what came before. A walk asks for the next window's blobs, works on the window
it holds, then takes them: git finds and inflates them on another core meanwhile, instead of the walk
waiting for each window's blobs in turn. Part of the git module family (``gitrepo`` starts it)."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from contextlib import suppress
from pathlib import Path

from gitreg.errors import GitError


class Ticket:
    """Blobs asked for together; ``result`` waits until the reader has read them all."""

    __slots__ = ("blobs", "done", "error", "shas")

    def __init__(self, shas: list[str]) -> None:
        self.shas = shas
        self.blobs: dict[str, bytes] = {}  # sha -> contents; a sha git does not have is left out
        self.error: str | None = None
        self.done = threading.Event()

    def result(self) -> dict[str, bytes]:
        self.done.wait()
        if self.error is not None:
            raise GitError(f"git cat-file failed: {self.error}")
        return self.blobs


class BlobsAhead:
    """``request`` blobs now, take them later (``Ticket.result``); replies come in the order asked. Close it
    (or use it as a context manager) to stop git and the reader."""

    def __init__(self, git_dir: Path) -> None:
        env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C"}
        argv = ["git", f"--git-dir={git_dir}", "cat-file", "--batch"]
        self._process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        self._tickets: queue.SimpleQueue[Ticket | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="gitreg-blobs-ahead", daemon=True)
        self._reader.start()
        self._failed: str | None = None
        self._closed = False
        self.requests = 0  # requests of blobs made (for tests)

    def __enter__(self) -> BlobsAhead:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, shas: list[str]) -> Ticket:
        """Ask git for ``shas`` (blob ids as git log gives them); their contents come with the ticket."""
        ticket = Ticket(shas)
        if not shas or self._closed:
            ticket.error = "the reader is closed" if shas else None
            ticket.done.set()
            return ticket
        self.requests += 1
        self._tickets.put(ticket)  # the reader takes replies in the order the requests go out
        stdin = self._process.stdin
        try:
            if stdin is None:  # pragma: no cover - started with a pipe
                raise OSError("no pipe to git")
            # git answers as it reads; the reader drains its answers, so a long request never blocks for good
            stdin.write("".join(f"{sha}\n" for sha in shas).encode())
            stdin.flush()
        except OSError as exc:  # git is gone: the reader finds its output cut short and fails the ticket
            self._failed = self._failed or f"git cat-file stopped: {exc.strerror or exc}"
        return ticket

    def _read(self) -> None:
        stdout = self._process.stdout
        failed: str | None = None
        while (ticket := self._tickets.get()) is not None:
            try:
                if failed is None and stdout is not None:
                    for sha in ticket.shas:
                        header = stdout.readline().split()
                        if len(header) == 3:
                            ticket.blobs[sha] = _read_exactly(stdout, int(header[2]))
                            stdout.read(1)  # the newline after the contents
                        elif len(header) != 2:  # "<sha> missing" is two words: left out
                            raise OSError("git cat-file stopped")
            except (OSError, ValueError) as exc:
                failed = str(exc)
            ticket.error = failed or self._failed
            ticket.done.set()

    def close(self) -> None:
        """Stop git and the reader (what was asked and not taken is dropped)."""
        self._closed = True
        self._tickets.put(None)
        with suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        with suppress(OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait(timeout=10)
        self._reader.join(timeout=10)
        with suppress(OSError):
            if self._process.stdout is not None:
                self._process.stdout.close()


def _read_exactly(stream: object, size: int) -> bytes:
    read = stream.read  # type: ignore[attr-defined]
    parts, left = [], size
    while left:
        part = read(left)
        if not part:
            raise OSError("git cat-file stopped")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
