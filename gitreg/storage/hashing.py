"""Hashing files on disk: the SHA-256 pass that names a blob before it is stored (register, upload) and
that checks a folder already on disk against its manifest (the controller's kept versions)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gitreg.errors import StorageError
from gitreg.storage import progress
from gitreg.storage.protocol import CHUNK_SIZE, Blob


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
