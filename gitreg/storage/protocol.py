"""The blob store protocol and the streaming hash helpers every backend shares.

A blob store maps ``sha256:<hex>`` digests to immutable bytes. Backends implement a handful of primitive
operations; verification (hash while streaming, compare at the end, never expose unverified bytes under
the final name) lives here and in ``artifact.py`` so that every backend gets it the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from gitreg.errors import IntegrityError, UsageError
from gitreg.layout import DIGEST
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import BinaryIO, Protocol
else:  # the protocol is for type checkers: at run time, a plain class, without importing typing
    Protocol = object

CHUNK_SIZE = 1024 * 1024


def digest_of(data: bytes) -> str:
    """The digest of bytes held in memory (a tree listing rebuilt from files on disk)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise UsageError(f"{digest!r} is not a digest", "digests look like sha256:<64 hex digits>")
    return digest


class Blob(Frozen):
    """A stored blob: its digest and size in bytes, and (when listed from a store) when it was stored, in
    seconds since the epoch (not compared: the same blob listed twice is equal)."""

    __match_args__ = ("digest", "size", "modified")
    __slots__ = __match_args__
    digest: str
    size: int
    modified: float | None

    def __init__(self, digest: str, size: int, modified: float | None = None) -> None:
        set_fields(self, digest, size, modified)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Blob) or other.__class__ is not self.__class__:
            return NotImplemented
        return (self.digest, self.size) == (other.digest, other.size)

    def __hash__(self) -> int:
        return hash((self.digest, self.size))


class Incomplete(Frozen):
    """An upload that never finished: a temporary file of the local store, or an S3 multipart upload.
    It holds no blob; garbage collection removes it once it is older than the grace period."""

    __match_args__ = ("name", "started", "size")
    __slots__ = __match_args__
    name: str
    started: float
    size: int | None

    def __init__(self, name: str, started: float, size: int | None = None) -> None:
        set_fields(self, name, started, size)


class BlobStore(Protocol):
    """What a storage backend provides. All methods raise StorageError subclasses on failure."""

    url: str

    def size(self, digest: str) -> int | None:
        """The stored size of ``digest``, or None if the store does not have it."""
        ...

    def put_file(self, path: Path) -> Blob:
        """Store the file's bytes under their digest; return digest and size. The bytes are never all held
        in memory, and nothing appears under the digest unless it hashes to it."""
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
        """Every blob in the store, with its modification time."""
        ...


# What the local and remote stores add to ``BlobStore``, reached through these functions, which fall back
# to the basic protocol for any other store: ``sizes`` of many digests at once (concurrently, for a remote
# store); ``put_files``, which a remote store checks with concurrent requests and uploads only the missing
# ones; ``incomplete`` uploads (for garbage collection), and ``discard`` of one of them.


def sizes(store: BlobStore, digests: Iterable[str]) -> dict[str, int | None]:
    batch = getattr(store, "sizes", None)
    if batch is not None:
        found: dict[str, int | None] = batch(digests)
        return found
    return {d: store.size(d) for d in digests}


def put_files(store: BlobStore, paths: list[Path]) -> list[Blob]:
    batch = getattr(store, "put_files", None)
    if batch is not None:
        blobs: list[Blob] = batch(paths)
        return blobs
    return [store.put_file(p) for p in paths]


def incomplete(store: BlobStore) -> list[Incomplete]:
    lister = getattr(store, "incomplete", None)
    found: list[Incomplete] = lister() if lister is not None else []
    return found


def reference_version(store: BlobStore, model: str, version: int, digest: str, kind: str) -> None:
    """Tell a store that keeps references (an OCI registry: a manifest per version) which blobs a version
    uses, so that the store's own garbage collector keeps them; other stores need nothing."""
    refer = getattr(store, "reference_version", None)
    if refer is not None:
        refer(model, version, digest, kind)


def discard(store: BlobStore, upload: Incomplete) -> None:
    getattr(store, "discard")(upload)  # noqa: B009 - only called with what ``incomplete`` listed


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
