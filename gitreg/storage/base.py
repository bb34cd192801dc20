"""The blob store protocol and the streaming hash helpers every backend shares.

A blob store maps ``sha256:<hex>`` digests to immutable bytes. Backends implement a handful of primitive
operations; verification (hash while streaming, compare at the end, never expose unverified bytes under
the final name) lives here and in ``artifact.py`` so that every backend gets it the same way."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from gitreg.errors import IntegrityError, UsageError

CHUNK_SIZE = 1024 * 1024
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
        raise UsageError(f"{digest!r} is not a digest", "digests look like sha256:<64 hex digits>")
    return digest


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """A stored blob: its digest and size in bytes."""

    digest: str
    size: int


class BlobStore(Protocol):
    """What a storage backend provides. All methods raise StorageError subclasses on failure."""

    url: str

    def size(self, digest: str) -> int | None:
        """The stored size of ``digest``, or None if the store does not have it."""
        ...

    def put_file(self, path: Path) -> Blob:
        """Store the file's bytes under their digest, reading them once; return digest and size."""
        ...

    def put_bytes(self, data: bytes) -> Blob:
        """Store small bytes (a tree listing) under their digest."""
        ...

    def open(self, digest: str) -> AbstractContextManager[BinaryIO]:
        """A raw (unverified) reader of the blob; callers verify with ``VerifyingReader``."""
        ...

    def delete(self, digest: str) -> None:
        """Remove a blob (used by garbage collection only)."""
        ...

    def digests(self) -> Iterator[Blob]:
        """Every blob in the store."""
        ...


class VerifyingReader:
    """Reads a stream in chunks, hashing as it goes; ``chunks()`` raises IntegrityError at the end if the
    bytes do not hash to the expected digest, so a consumer that writes chunks to a temporary file and only
    renames it after the iteration completes never publishes corrupt bytes."""

    def __init__(self, stream: BinaryIO, expected: str, expected_size: int | None = None) -> None:
        self.stream = stream
        self.expected = expected
        self.expected_size = expected_size
        self.hasher = hashlib.sha256()
        self.size = 0

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        while chunk := self.stream.read(chunk_size):
            self.hasher.update(chunk)
            self.size += len(chunk)
            if self.expected_size is not None and self.size > self.expected_size:
                raise IntegrityError(self.expected, "more bytes than recorded")
            yield chunk
        actual = "sha256:" + self.hasher.hexdigest()
        if actual != self.expected:
            raise IntegrityError(self.expected, actual)

    def read_all(self) -> bytes:
        return b"".join(self.chunks())
