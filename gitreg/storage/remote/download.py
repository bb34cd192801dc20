"""A remote blob read as a raw stream, for ``artifact.fetch_file``'s verifying reader: one GET that streams,
re-opened at the current offset after a transient error (what had arrived is kept)."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING, Any

from gitreg.errors import GitregError, StorageError
from gitreg.storage.remote.retry import ATTEMPTS, is_transient, pause

if TYPE_CHECKING:
    from gitreg.storage.remote import Reader, RemoteStore


class Download(io.RawIOBase):
    """A download as a raw stream; a transient error mid-stream re-opens it at the current offset."""

    def __init__(self, store: RemoteStore, digest: str) -> None:
        super().__init__()
        self.store = store
        self.digest = digest
        self.key = store.key(digest)
        self.offset = 0
        self.reader: Reader | None = None

    def readable(self) -> bool:
        return True

    async def reopen(self) -> Reader:
        what = f"cannot read blob {self.digest} from {self.store.url}"
        try:
            return await self.store._retry(what, self.store.driver.open, self.key, self.offset)
        except StorageError:
            if self.offset == 0 and await self._absent():
                raise self.store._missing(self.digest) from None
            raise

    async def _absent(self) -> bool:
        with contextlib.suppress(Exception):
            return await self.store.driver.head(self.key) is None
        return False

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
                raise self.store._error(
                    f"cannot read blob {self.digest} from {self.store.url}", exc
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.store._run(self._read, len(view))
        view[: len(data)] = data
        return len(data)

    async def release(self) -> None:
        """Close the download's connection (on the I/O loop)."""
        reader, self.reader = self.reader, None
        if reader is not None:
            await reader.close()
