"""What the three cloud drivers share: each runs over an fsspec file system (s3fs, gcsfs, adlfs) and that
file system's native async client, on the file system's event loop. Nothing outside the drivers knows
about fsspec: ``RemoteStore`` sees only the ``Driver`` protocol."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from fsspec.asyn import sync

from gitreg.storage.remote.driver import PART_SIZE, UPLOAD_CONCURRENCY, StoredObject

T = TypeVar("T")


def fs_options(options: dict[str, Any]) -> dict[str, Any]:
    """The user's options, with fsspec's caches off: every store opened is a fresh client, and no listing
    is answered from memory."""
    return {"skip_instance_cache": True, "use_listings_cache": False, **options}


class FsspecDriver:
    """The part of a driver that is the same for every fsspec file system: the event loop, listing."""

    word = "bucket"
    part_size = PART_SIZE
    part_concurrency = UPLOAD_CONCURRENCY

    def __init__(self, fs: Any, bucket: str) -> None:
        self.fs = fs
        self.bucket = bucket

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        result: T = sync(self.fs.loop, fn, *args)
        return result

    async def objects(self, prefix: str) -> list[StoredObject]:
        base = f"{self.bucket}/{prefix}"
        found: dict[str, Any] = await self.fs._find(base, detail=True)
        if not found and not await self.fs._exists(self.bucket):  # some listings hide a missing bucket
            raise FileNotFoundError(self.bucket)
        return [
            StoredObject(path.removeprefix(f"{self.bucket}/"), int(info.get("size") or 0), _mtime(info))
            for path, info in found.items()
            if info.get("type", "file") == "file"
        ]


def _mtime(info: dict[str, Any]) -> float | None:
    for name in ("LastModified", "last_modified", "mtime", "updated"):
        modified = timestamp(info.get(name))
        if modified is not None:
            return modified
    return None


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch of a datetime or an ISO 8601 text, as the services report times."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


async def maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Ranges:
    """``read(n)`` over ranged GETs of ``WINDOW`` bytes, ``AHEAD`` of them in flight: for a service whose
    single streamed GET is slow (Azure's SDK fetches a blob in sequential chunks). Memory: AHEAD windows."""

    WINDOW = 8 * 1024 * 1024
    AHEAD = 4

    def __init__(self, fetch: Callable[[int, int], Awaitable[bytes]], offset: int, size: int) -> None:
        self.fetch = fetch
        self.next = offset
        self.size = size
        self.pending: collections.deque[asyncio.Task[bytes]] = collections.deque()
        self.buffer = memoryview(b"")

    async def read(self, n: int) -> bytes:
        if not self.buffer:
            while len(self.pending) < self.AHEAD and self.next < self.size:
                length = min(self.WINDOW, self.size - self.next)
                self.pending.append(asyncio.ensure_future(self.fetch(self.next, length)))
                self.next += length
            if not self.pending:
                return b""
            self.buffer = memoryview(await self.pending.popleft())
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return bytes(data)

    async def close(self) -> None:
        for task in self.pending:
            task.cancel()
        await asyncio.gather(*self.pending, return_exceptions=True)
        self.pending.clear()


class Body:
    """``read(n)`` over a streaming HTTP body (aiobotocore's, aiohttp's)."""

    def __init__(self, stream: Any, closer: Any) -> None:
        self.stream = stream
        self.closer = closer

    async def read(self, n: int) -> bytes:
        data: bytes = await self.stream.read(n)
        return data

    async def close(self) -> None:
        await maybe_await(self.closer())
