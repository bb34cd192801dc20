"""Reading the parts of a file being uploaded, hashing them as they go (the hash pass itself is
``storage.hashing``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from gitreg.errors import StorageError
from gitreg.storage.protocol import CHUNK_SIZE


def changed(path: Path) -> StorageError:
    return StorageError(
        f"{path} changed while it was being uploaded", "register it again once whatever writes it is done"
    )


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None


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
