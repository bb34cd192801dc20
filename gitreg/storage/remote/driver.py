"""The seam between ``RemoteStore`` and a storage service: the ``Driver`` protocol, in plain types.

A driver is one service's requests (S3, GCS, Azure Blob; an OCI registry or any HTTP store could be
another), each a coroutine that does one request or a few. ``RemoteStore`` adds everything else the same
way for every driver: the layout of keys, hashing, verification, concurrency, retries and error messages.
A driver raises ``FileNotFoundError`` (or an error with HTTP status 404) when its bucket is missing,
``PermissionError`` (or 401/403) when access is denied; ``remote.retry`` decides what is worth retrying."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import asyncio

from gitreg.storage.protocol import Incomplete

T = TypeVar("T")
MIB = 1024 * 1024
#: Defaults a driver may take: bytes per part of a multipart upload, and parts of one upload in flight.
PART_SIZE = 8 * MIB
UPLOAD_CONCURRENCY = 4


@dataclass(frozen=True)
class StoredObject:
    """An object in the bucket: its key, size in bytes and last modification (seconds since the epoch)."""

    key: str
    size: int
    modified: float | None = None


class LoopThread:
    """An event loop on a daemon thread of its own, started on first use: ``Driver.run`` for a driver
    whose client brings no loop (one per driver kind, shared by every driver of that kind)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        import asyncio  # noqa: PLC0415 - only a store that makes requests needs it

        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True).start()
            return self._loop

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``fn(*args)`` on the loop, from any other thread; its result."""
        import asyncio  # noqa: PLC0415 - see loop

        async def call() -> T:
            return await fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self.loop()).result()


class Reader(Protocol):
    """An open download: ``read`` returns up to n bytes, b"" at the end."""

    async def read(self, n: int) -> bytes: ...
    async def close(self) -> None: ...


class Driver(Protocol):
    """What a storage service provides to ``RemoteStore``. Keys are ``/``-separated paths in the bucket.

    Multipart uploads: ``start`` returns an opaque upload handle, ``put_part`` an opaque receipt for each
    part but the last (parts may be sent concurrently, up to ``part_concurrency``), and ``finish`` sends the
    last part and commits the object from the receipts. Every create is conditional: ``put`` and ``finish``
    return False, creating nothing, when the key already holds an object."""

    bucket: str  # the bucket or container, for messages
    word: str  # "bucket" or "container", for messages
    part_size: int  # bytes per part of a multipart upload (and the most sent in one ``put``)
    part_concurrency: int  # parts of one upload in flight

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn(*args)`` on the driver's event loop and return its result, from a synchronous caller
        (any thread but the loop's): every coroutine of the store goes through here."""
        ...

    async def head(self, key: str) -> StoredObject | None:
        """The object at ``key``, or None if there is none."""
        ...

    async def objects(self, prefix: str) -> list[StoredObject]:
        """Every object whose key starts with ``prefix/``; FileNotFoundError if the bucket is missing."""
        ...

    async def put(self, key: str, data: bytes, sha256: bytes) -> bool:
        """Create ``key`` with ``data`` (whose SHA-256 is ``sha256``) unless it exists; True if created."""
        ...

    async def start(self, key: str, size: int) -> Any:
        """Begin a multipart upload of ``size`` bytes to ``key``; its handle."""
        ...

    async def put_part(self, upload: Any, number: int, offset: int, data: bytes, sha256: bytes) -> Any:
        """Send part ``number`` (from 1) at byte ``offset``; its receipt."""
        ...

    async def finish(
        self, upload: Any, receipts: list[Any], number: int, offset: int, data: bytes, sha256: bytes
    ) -> bool:
        """Send the last part and commit the object unless the key exists; True if created."""
        ...

    async def abort(self, upload: Any) -> None:
        """Give up an upload that ``start`` began (nothing is created)."""
        ...

    async def open(self, key: str, offset: int) -> Reader:
        """Stream the object from byte ``offset``; FileNotFoundError (or 404) if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object at ``key`` (no error if there is none)."""
        ...

    async def touch(self, key: str, size: int) -> bool:
        """Give the object a new modification time without moving its bytes; False if it is gone."""
        ...

    async def incomplete(self, prefix: str) -> list[Incomplete]:
        """Uploads under ``prefix/`` that were started and never finished nor aborted."""
        ...

    async def discard(self, upload: Incomplete) -> None:
        """Abort one upload that ``incomplete`` listed."""
        ...


__all__ = ["PART_SIZE", "UPLOAD_CONCURRENCY", "Driver", "LoopThread", "Reader", "StoredObject"]
