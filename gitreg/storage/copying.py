"""Copying a stream into a new file while hashing it: the one pass that names and writes a local blob.

The source is read into a few page-aligned buffers in turn. A buffer, once read, goes to a writer thread
and is hashed here meanwhile (hashlib and ``os.write`` release the GIL); it is read into again only after
the writer has returned it, so the digest is the hash of exactly the bytes written, whatever happens to the
source during the copy. Where the file system takes them (Linux: ext4, xfs, btrfs), the writes bypass the
page cache (``O_DIRECT``): the disk works from the first buffer on, alongside the reading and hashing,
instead of receiving a gigabyte of dirty pages at the final fsync, and no second memory copy is made. Where
it refuses them (tmpfs), or a write is not aligned (the tail of the file), the rest goes through the page
cache. Memory: ``BUFFERS`` x ``BUFFER_SIZE``, whatever the size of the file."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable

from gitreg.storage import progress
from gitreg.storage.protocol import Blob

BUFFER_SIZE = 4 * 1024 * 1024  # a multiple of any block size direct I/O asks offsets and lengths to keep
BUFFERS = 3  # one being read and hashed, one being written, one spare
ALIGN = 4096  # direct writes of other lengths, or at other offsets, go through the page cache
_DIRECT = getattr(os, "O_DIRECT", 0)

#: ``read(buffer)`` fills the start of ``buffer`` and returns how many bytes it put there (0 at the end).
Read = Callable[[memoryview], "int | None"]


def copy_hashed(read: Read, fd: int, update: progress.Update) -> Blob:
    """Copy everything ``read`` gives into ``fd`` (a new, empty file), hashing it on the way; the caller
    fsyncs. A read error is raised as ``read`` raised it, a write error as ``os.write`` raised it; either
    way the writer thread has stopped when this returns or raises, so the caller may close ``fd``."""
    writer = _Writer(fd)
    buffers = [mmap.mmap(-1, BUFFER_SIZE) for _ in range(BUFFERS)]
    for buf in buffers:
        writer.done.put(buf)
    hasher = hashlib.sha256()
    size = 0
    writer.start()
    ended = False
    try:
        while writer.error is None:
            buf = writer.done.get()
            if writer.error is not None:
                break
            with memoryview(buf) as view:
                n = read(view)
                if not n:
                    break
                writer.todo.put((buf, n))
                hasher.update(view[:n])  # while it is written: neither changes the buffer
            size += n
            update(n)
        ended = True
    finally:
        writer.stop(abandon=not ended)
    if writer.error is not None:
        raise writer.error
    if writer.offset != size:  # the writer skipped a buffer: never name a short file by the whole's hash
        raise OSError(errno.EIO, f"wrote {writer.offset} of the {size} bytes read")
    for buf in buffers:
        with contextlib.suppress(BufferError):  # a view still held by a traceback: freed with it
            buf.close()
    return Blob("sha256:" + hasher.hexdigest(), size)


class _Writer(threading.Thread):
    """Writes the buffers put on ``todo`` in order and hands each back on ``done``; after an error it only
    hands them back, so the reader never waits for a buffer that does not come."""

    def __init__(self, fd: int) -> None:
        super().__init__(name="gitreg-blob-writer", daemon=True)
        self.fd = fd
        self.todo: queue.SimpleQueue[tuple[mmap.mmap, int] | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.stopped = False
        self.offset = 0
        self.direct = _direct(fd)

    def run(self) -> None:
        while (item := self.todo.get()) is not None:
            buf, n = item
            if self.error is None and not self.stopped:
                try:
                    self._write(buf, n)
                except BaseException as exc:  # handed to the reading thread, which raises it
                    self.error = exc
            self.done.put(buf)

    def stop(self, abandon: bool) -> None:
        """Wait for the thread to end, once it has written what it was given, or (``abandon``: the reader
        failed) without writing any more."""
        self.stopped = abandon
        self.todo.put(None)
        self.join()

    def _write(self, buf: mmap.mmap, n: int) -> None:
        with memoryview(buf) as whole:
            pos = 0
            while pos < n:
                if self.direct and ((n - pos) % ALIGN or self.offset % ALIGN):
                    self._buffered()
                try:
                    written = os.write(self.fd, whole[pos:n])
                except OSError as exc:
                    if not (self.direct and exc.errno == errno.EINVAL):
                        raise
                    self._buffered()  # a file system whose direct writes need more alignment than ours
                    continue
                pos += written
                self.offset += written

    def _buffered(self) -> None:
        flags = fcntl.fcntl(self.fd, fcntl.F_GETFL)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, flags & ~_DIRECT)
        self.direct = False


def _direct(fd: int) -> bool:
    """Turn on direct writes for ``fd`` if this system and file system have them."""
    if not _DIRECT:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _DIRECT)
    except OSError:
        return False
    return True
