"""Reading the files to upload: the hash pass, and the parts of the upload pass."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from gitreg.errors import StorageError
from gitreg.storage import progress
from gitreg.storage.protocol import CHUNK_SIZE, Blob


def changed(path: Path) -> StorageError:
    return StorageError(
        f"{path} changed while it was being uploaded", "register it again once whatever writes it is done"
    )


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None


def hash_file(path: Path, update: progress.Update) -> Blob:
    hasher = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    try:
        with path.open("rb", buffering=0) as src:
            while n := src.readinto(buf):
                hasher.update(view[:n])
                size += n
                update(n)
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None
    return Blob("sha256:" + hasher.hexdigest(), size)


def hash_files(paths: list[Path], update: progress.Update) -> list[Blob]:
    """Hash files on a few threads (hashlib releases the GIL), keeping their order."""
    if len(paths) == 1:
        return [hash_file(paths[0], update)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda p: hash_file(p, update), paths))


def read_exactly(src: BinaryIO, path: Path, n: int) -> bytes:
    chunks = []
    try:
        while n > 0:
            data = src.read(min(n, CHUNK_SIZE * 8))
            if not data:
                break
            chunks.append(data)
            n -= len(data)
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return b"".join(chunks)


def read_part(src: BinaryIO, path: Path, n: int, hasher: Any) -> tuple[bytes, bytes]:
    data = read_exactly(src, path, n)
    hasher.update(data)
    return data, hashlib.sha256(data).digest()
