"""A remote blob read as a raw stream, for ``artifact.fetch_file``'s verifying reader: one GET that streams,
re-opened at the current offset after a transient error (what had arrived is kept)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Awaitable, Callable
from typing import Any

from gitreg.errors import GitregError, StorageError
from gitreg.storage.remote.driver import Reader
from gitreg.storage.remote.retry import ATTEMPTS, is_transient, pause


class Download(io.RawIOBase):
    """A download as a raw stream; a transient error mid-stream re-opens it at the current offset.

    ``open_at(offset)`` opens the blob from a byte offset (retrying as the store does), ``run`` runs a
    coroutine on the store's event loop, and ``fail(exc)`` turns an error that lasts into the store's
    one-line StorageError."""

    def __init__(
        self,
        open_at: Callable[[int], Awaitable[Reader]],
        run: Callable[..., Any],
        fail: Callable[[BaseException], StorageError],
    ) -> None:
        super().__init__()
        self.open_at = open_at
        self.run = run
        self.fail = fail
        self.offset = 0
        self.reader: Reader | None = None

    def readable(self) -> bool:
        return True

    async def reopen(self) -> Reader:
        return await self.open_at(self.offset)

    async def _read(self, n: int) -> bytes:
        for attempt in range(ATTEMPTS):
            parts: list[bytes] = []
            try:
                if self.reader is None:
                    self.reader = await self.reopen()
                want = n
                while want > 0:
                    data = await self.reader.read(want)
                    if not data:
                        break
                    parts.append(data)
                    want -= len(data)
                    self.offset += len(data)
                return b"".join(parts)
            except GitregError:
                raise
            except Exception as exc:
                if parts and is_transient(exc):  # hand over what arrived; the next read re-opens
                    with contextlib.suppress(Exception):
                        await self.release()
                    return b"".join(parts)
                if attempt + 1 < ATTEMPTS and is_transient(exc):
                    with contextlib.suppress(Exception):
                        await self.release()
                    await pause(attempt)
                    continue
                raise self.fail(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data: bytes = self.run(self._read, len(view))
        view[: len(data)] = data
        return len(data)

    async def release(self) -> None:
        """Close the download's connection (on the I/O loop)."""
        reader, self.reader = self.reader, None
        if reader is not None:
            await reader.close()
