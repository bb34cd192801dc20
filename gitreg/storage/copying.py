"""Copying a stream into a new file while hashing it: the one pass that names and writes a local blob.

Three stages work at once on a few page-aligned buffers that go round in order: the calling thread reads
the source into a free buffer, a hashing thread hashes it, a writing thread writes it and frees it (hashlib,
``readinto`` and ``os.write`` release the GIL). A buffer is read into again only once written, so the
digest is the hash of exactly the bytes written, whatever happens to the source during the copy. Where the
file system takes them (Linux: ext4, xfs, btrfs), the writes bypass the page cache (``O_DIRECT``): the disk
works from the first buffer on, alongside the reading and hashing, instead of receiving a gigabyte of dirty
pages at the final fsync, and no second memory copy is made. Where it refuses them (tmpfs), or a write is
not aligned (the tail of the file), the rest goes through the page cache. Memory: ``BUFFERS`` x
``BUFFER_SIZE`` for each of at most ``COPIES`` copies at once, whatever the size or number of the files."""

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
BUFFERS = 4  # one being read, one hashed, one written, one spare
COPIES = 2  # copies at once (a folder's files); more would wait for the same two cores and one disk
ALIGN = 4096  # direct writes of other lengths, or at other offsets, go through the page cache
_DIRECT = getattr(os, "O_DIRECT", 0)

#: ``read(buffer)`` fills the start of ``buffer`` and returns how many bytes it put there (0 at the end).
Read = Callable[[memoryview], "int | None"]
_Item = tuple[mmap.mmap, int]  # a buffer and how many of its bytes to hash and write
_copying = threading.BoundedSemaphore(COPIES)


def copy_hashed(read: Read, fd: int, update: progress.Update) -> Blob:
    """Copy everything ``read`` gives into ``fd`` (a new, empty file), hashing it on the way; the caller
    fsyncs. A read error is raised as ``read`` raised it, a write error as ``os.write`` raised it; either
    way the threads have ended when this returns or raises, so the caller may close ``fd``."""
    with _copying:
        return _copy_hashed(read, fd, update)


def _copy_hashed(read: Read, fd: int, update: progress.Update) -> Blob:
    copy = _Copy(fd)
    size = 0
    ended = False
    try:
        while copy.error is None:
            buf = copy.free.get()
            if copy.error is not None:
                break
            with memoryview(buf) as view:
                n = read(view)
            if not n:
                break
            copy.to_hash.put((buf, n))
            size += n
            update(n)
        ended = True
    finally:
        copy.stop(abandon=not ended)
    if copy.error is not None:
        raise copy.error
    if not copy.hashed == copy.written == size:  # never name a short file by the whole's hash
        raise OSError(errno.EIO, f"hashed {copy.hashed} and wrote {copy.written} of the {size} bytes read")
    copy.close()
    return Blob("sha256:" + copy.hasher.hexdigest(), size)


class _Copy:
    """The buffers, the queues between the stages, and the hashing and writing threads. After an error
    (or when abandoned) the threads only pass buffers on, so no stage waits for one that does not come."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.hasher = hashlib.sha256()
        self.hashed = 0
        self.written = 0
        self.direct = _direct(fd)
        self.error: BaseException | None = None
        self.abandoned = False
        self.buffers = [mmap.mmap(-1, BUFFER_SIZE) for _ in range(BUFFERS)]
        self.free: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()
        self.to_hash: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self.to_write: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        for buf in self.buffers:
            self.free.put(buf)
        self.threads = [
            threading.Thread(target=self._stage, args=(self.to_hash, self._hash, self.to_write)),
            threading.Thread(target=self._stage, args=(self.to_write, self._write, None)),
        ]
        for thread, name in zip(self.threads, ("hasher", "writer"), strict=True):
            thread.name, thread.daemon = f"gitreg-blob-{name}", True
            thread.start()

    def stop(self, abandon: bool) -> None:
        """Wait for the threads to end, once they have hashed and written what they were given, or
        (``abandon``: the reading failed) without doing any more."""
        self.abandoned = abandon
        self.to_hash.put(None)
        for thread in self.threads:
            thread.join()

    def close(self) -> None:
        for buf in self.buffers:
            with contextlib.suppress(BufferError):  # a view still held by a traceback: freed with it
                buf.close()

    def _stage(
        self,
        todo: queue.SimpleQueue[_Item | None],
        work: Callable[[mmap.mmap, int], None],
        then: queue.SimpleQueue[_Item | None] | None,
    ) -> None:
        while (item := todo.get()) is not None:
            if self.error is None and not self.abandoned:
                try:
                    work(*item)
                except BaseException as exc:  # handed to the reading thread, which raises it
                    self.error = self.error or exc
            if then is None:
                self.free.put(item[0])
            else:
                then.put(item)
        if then is not None:
            then.put(None)

    def _hash(self, buf: mmap.mmap, n: int) -> None:
        with memoryview(buf) as whole:
            self.hasher.update(whole[:n])
        self.hashed += n

    def _write(self, buf: mmap.mmap, n: int) -> None:
        with memoryview(buf) as whole:
            pos = 0
            while pos < n:
                if self.direct and ((n - pos) % ALIGN or self.written % ALIGN):
                    self._buffered()
                try:
                    written = os.write(self.fd, whole[pos:n])
                except OSError as exc:
                    if not (self.direct and exc.errno == errno.EINVAL):
                        raise
                    self._buffered()  # a file system whose direct writes need more alignment than ours
                    continue
                pos += written
                self.written += written

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
