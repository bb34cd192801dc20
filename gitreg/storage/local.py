"""The local filesystem blob store: the zero-setup default.

Layout: ``<root>/sha256/<first two hex digits>/<remaining 62>``, plus ``<root>/tmp/`` for writes in
progress. A blob is written to a temporary file in the same filesystem while it is hashed, flushed to
disk, made read-only and renamed to its digest: a reader sees the whole blob or none of it, and a killed
writer leaves only a temporary file (swept by ``gitreg gc``)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from gitreg.errors import StorageError
from gitreg.storage.base import CHUNK_SIZE, Blob, check_digest


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

    def put_file(self, path: Path) -> Blob:
        try:
            src = path.open("rb")
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror}") from None
        with src:
            return self._write(src)

    def put_bytes(self, data: bytes) -> Blob:
        return self._write(_BytesSource(data))

    def _write(self, src: _Readable) -> Blob:
        tmp_dir = self.root / "tmp"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        except OSError as exc:
            raise StorageError(f"cannot write to the blob store at {self.root}: {exc.strerror}") from None
        tmp = Path(tmp_name)
        try:
            hasher = hashlib.sha256()
            size = 0
            buf = bytearray(CHUNK_SIZE)
            view = memoryview(buf)
            with os.fdopen(fd, "wb", buffering=0) as out:
                while n := _read(src, buf):
                    chunk = view[:n]
                    hasher.update(chunk)
                    out.write(chunk)
                    size += n
                os.fsync(out.fileno())
            blob = Blob("sha256:" + hasher.hexdigest(), size)
            final = self.path(blob.digest)
            # Replace even when the digest is already stored: the same bytes, atomically, and a copy that
            # was corrupted in place is repaired by registering its source again.
            tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(final)
            _fsync_dir(final.parent)
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

    def digests(self) -> Iterator[Blob]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for sub in sorted(base.iterdir()):
            for entry in sorted(sub.iterdir()):
                yield Blob(f"sha256:{sub.name}{entry.name}", entry.stat().st_size)


def _read(src: _Readable, buf: bytearray) -> int | None:
    """``src.readinto(buf)``, with a read error blamed on the source rather than on the store."""
    try:
        return src.readinto(buf)
    except OSError as exc:
        name = getattr(src, "name", "the source")
        raise StorageError(f"cannot read {name}: {exc.strerror or exc}") from None


class _Readable(Protocol):
    def readinto(self, buf: bytearray, /) -> int | None: ...


class _BytesSource:
    """``readinto`` over bytes in memory, so small blobs share the file write path."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.pos = 0

    def readinto(self, buf: bytearray) -> int:
        n = min(len(buf), len(self.view) - self.pos)
        buf[:n] = self.view[self.pos : self.pos + n]
        self.pos += n
        return n


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
