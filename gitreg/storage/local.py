"""The local filesystem blob store: the zero-setup default.

Layout: ``<root>/sha256/<first two hex digits>/<remaining 62>``, plus ``<root>/tmp/`` for writes in
progress. A blob is written to a temporary file in the same filesystem while it is hashed, flushed to
disk, made read-only and renamed to its digest: a reader sees the whole blob or none of it, and a killed
writer leaves only a temporary file (swept by ``gitreg gc``)."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gitreg.errors import StorageError
from gitreg.filesystem import fsync_dir
from gitreg.storage import copying, file_digests, progress
from gitreg.storage.protocol import CHUNK_SIZE, Blob, Incomplete, check_digest

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import BinaryIO, Protocol
else:  # see gitreg.storage.protocol
    Protocol = object

WRITERS = 8  # files of a folder written at once
_READ_AHEAD = 4 * copying.BUFFER_SIZE  # of a stored blob being compared with its source


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path(self, digest: str) -> Path:
        hexdigest = check_digest(digest).removeprefix("sha256:")
        return self.root / "sha256" / hexdigest[:2] / hexdigest[2:]

    def size(self, digest: str) -> int | None:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read the blob store at {self.root}: {exc.strerror}") from None

    def sizes(self, digests: Iterable[str]) -> dict[str, int | None]:
        return {d: self.size(d) for d in digests}

    def put_file(self, path: Path) -> Blob:
        try:
            src = path.open("rb")
            st = os.fstat(src.fileno())
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror}") from None
        with contextlib.suppress(OSError, AttributeError):  # a longer read-ahead, where there is one
            os.posix_fadvise(src.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        with src, progress.meter(st.st_size, f"storing {path.name}") as update:
            known = self._already_stored(src, file_digests.recorded(path, st), update)
            if known is not None:
                return known
            blob = self._write(src, update, st.st_size)
        file_digests.record(path, st, blob.digest)
        return blob

    def _already_stored(self, src: BinaryIO, digest: str | None, update: progress.Update) -> Blob | None:
        """When this file was stored before under ``digest``: hash it and compare it byte for byte with the
        stored blob (reading both, writing nothing). Only if the file hashes to ``digest`` and the blob holds
        exactly its bytes is the blob trusted, and then touched so that ``gitreg gc`` sees it young while
        this registration commits. Otherwise rewind for a full write, which replaces a damaged blob."""
        if digest is None:
            return None
        try:
            stored = self.path(digest).open("rb")
        except OSError:
            return None
        hasher = hashlib.sha256()
        size = 0
        same = True
        with stored:
            while chunk := _read_chunk(src):
                if same:  # the blob may not be in the page cache (it was written past it): ask for it early
                    _read_ahead(stored, size + len(chunk))
                hasher.update(chunk)
                size += len(chunk)
                update(len(chunk))
                if same and stored.read(len(chunk)) != chunk:
                    same = False  # keep hashing: the source may have changed, not the blob
            same = same and stored.read(1) == b""
        if same and "sha256:" + hasher.hexdigest() == digest and self.touch(digest):
            return Blob(digest, size)
        src.seek(0)  # changed, damaged or gone after all: store it properly
        return None

    def touch(self, digest: str) -> bool:
        """Mark a blob as just stored (its mtime), so that gc's grace period covers a registration that
        found it already here; False if it is gone (gc took it), and it must be written again. gc decides
        on the mtime after moving the blob aside (``delete_unless_newer``), so the two cannot interleave
        into a deletion of a touched blob."""
        try:
            os.utime(self.path(digest))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(f"cannot write to the blob store at {self.root}: {exc.strerror}") from None
        return True

    def put_files(self, paths: list[Path]) -> list[Blob]:
        """``put_file`` of each, a few at a time: each write waits for its fsync, and those overlap."""
        if len(paths) < 2:
            return [self.put_file(p) for p in paths]
        context = contextvars.copy_context()  # the progress reporter, in the worker threads too
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - it loads logging: writes only

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            return list(pool.map(lambda p: context.copy().run(self.put_file, p), paths))

    def put_bytes(self, data: bytes) -> Blob:
        return self._write(_BytesSource(data), size=len(data))

    def _write(self, src: _Readable, update: progress.Update | None = None, size: int | None = None) -> Blob:
        """Write ``src`` to a temporary file while hashing it, flush it to disk, make it read-only and rename
        it to its digest. A source of ``size`` bytes under one buffer is written in place; anything larger
        (or of unknown size) is copied by ``copying.copy_hashed``, which overlaps the writing with the
        reading and hashing."""
        tmp_dir = self.root / "tmp"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        except OSError as exc:
            raise StorageError(f"cannot write to the blob store at {self.root}: {exc.strerror}") from None
        tmp = Path(tmp_name)
        try:
            try:
                if size is not None and size < copying.BUFFER_SIZE:
                    blob = _write_small(src, fd, update or progress.ignore)
                else:
                    blob = copying.copy_hashed(lambda buf: _read(src, buf), fd, update or progress.ignore)
                os.fsync(fd)
            finally:
                os.close(fd)
            final = self.path(blob.digest)
            # Replace even when the digest is already stored: the same bytes, atomically, and a copy that
            # was corrupted in place is repaired by registering its source again.
            tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(final)
            fsync_dir(final.parent)
            return blob
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            what = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
            raise StorageError(f"cannot write to the blob store at {self.root}: {what}") from None
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[BinaryIO]:
        try:
            stream = self.path(digest).open("rb")
        except FileNotFoundError:
            raise StorageError(
                f"blob {digest} is missing from the store at {self.root}",
                "register the artifact again, or point GITREG_STORAGE_URL at the store that has it",
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot read blob {digest}: {exc.strerror}") from None
        with stream:
            yield stream

    def delete(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def delete_unless_newer(self, digest: str, cutoff: float) -> bool:
        """Delete a blob unless it was modified at or after ``cutoff`` (seconds since the epoch); True if it
        is gone. The blob is first renamed aside and its age read there: a register that touches it before
        the rename makes it young (it is put back), and one that touches it after finds it gone and writes it
        again. Either way the blob a registration commits is in the store."""
        final = self.path(digest)
        aside = self.root / "tmp" / f"gc-{digest.removeprefix('sha256:')}-{os.getpid()}"
        try:
            aside.parent.mkdir(parents=True, exist_ok=True)
            final.rename(aside)
        except FileNotFoundError:
            return True
        except OSError as exc:
            raise StorageError(f"cannot delete blob {digest}: {exc.strerror}") from None
        try:
            if aside.stat().st_mtime >= cutoff:
                with contextlib.suppress(FileExistsError):  # written again meanwhile: that copy stays
                    os.link(aside, final)
                return False
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                aside.unlink()

    def digests(self) -> Iterator[Blob]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for sub in sorted(base.iterdir()):
            for entry in sorted(sub.iterdir()):
                st = entry.stat()
                yield Blob(f"sha256:{sub.name}{entry.name}", st.st_size, st.st_mtime)

    def incomplete(self) -> list[Incomplete]:
        """Temporary files of writes that never finished (a killed ``gitreg register``)."""
        tmp_dir = self.root / "tmp"
        found = []
        with contextlib.suppress(FileNotFoundError):
            for entry in sorted(tmp_dir.iterdir()):
                with contextlib.suppress(FileNotFoundError):
                    st = entry.stat()
                    found.append(Incomplete(f"tmp/{entry.name}", st.st_mtime, st.st_size))
        return found

    def discard(self, upload: Incomplete) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / upload.name).unlink()


def _read_ahead(stored: BinaryIO, offset: int) -> None:
    """Start reading the next few chunks of ``stored`` from disk while this one is hashed and compared."""
    with contextlib.suppress(OSError, AttributeError):  # only a hint, where there is one
        os.posix_fadvise(stored.fileno(), offset, _READ_AHEAD, os.POSIX_FADV_WILLNEED)


def _read_chunk(src: BinaryIO) -> bytes:
    try:
        return src.read(copying.BUFFER_SIZE)
    except OSError as exc:
        raise StorageError(f"cannot read {src.name}: {exc.strerror or exc}") from None


def _write_small(src: _Readable, fd: int, update: progress.Update) -> Blob:
    """Hash and write a source smaller than one of ``copying``'s buffers, in one buffer."""
    hasher = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK_SIZE)
    with memoryview(buf) as view:
        while n := _read(src, view):
            chunk = view[:n]
            hasher.update(chunk)
            while chunk:
                chunk = chunk[os.write(fd, chunk) :]
            size += n
            update(n)
    return Blob("sha256:" + hasher.hexdigest(), size)


def _read(src: _Readable, buf: bytearray | memoryview) -> int | None:
    """``src.readinto(buf)``, with a read error blamed on the source rather than on the store."""
    try:
        return src.readinto(buf)
    except OSError as exc:
        name = getattr(src, "name", "the source")
        raise StorageError(f"cannot read {name}: {exc.strerror or exc}") from None


class _Readable(Protocol):
    def readinto(self, buf: bytearray | memoryview, /) -> int | None: ...


class _BytesSource:
    """``readinto`` over bytes in memory, so small blobs share the file write path."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.pos = 0

    def readinto(self, buf: bytearray | memoryview) -> int:
        n = min(len(buf), len(self.view) - self.pos)
        buf[:n] = self.view[self.pos : self.pos + n]
        self.pos += n
        return n
