"""The upload pass of ``RemoteStore`` (a mixin it inherits: see its module's docstring for the protocol), and
reading the parts of a file being uploaded, hashing them as they go (the hash pass itself is
``storage.hashing``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from gitreg.errors import StorageError
from gitreg.storage import progress
from gitreg.storage.protocol import CHUNK_SIZE, Blob
from gitreg.storage.remote.driver import MIB, PART_SIZE, Driver

T = TypeVar("T")


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


MAX_PARTS = 9000  # S3 allows 10,000; larger files get larger parts
FILE_CONCURRENCY = 8  # files of one tree uploaded at once


class UploadPass:
    """``RemoteStore``'s upload pass: the files the store lacks, sent straight to their final keys."""

    url: str
    opener: Callable[[Path], BinaryIO]
    part_size: int | None
    concurrency: int

    if TYPE_CHECKING:  # what the mixin uses of RemoteStore, which defines them

        @property
        def driver(self) -> Driver: ...

        def key(self, digest: str) -> str: ...

        async def _retry(self, what: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T: ...

    async def _upload_all(self, items: list[tuple[Path, Blob]], update: progress.Update) -> None:
        gate = asyncio.Semaphore(FILE_CONCURRENCY)

        # small files go FILE_CONCURRENCY at a time, large ones (multipart) one at a time, each with its
        # parts in flight: memory stays under (FILE_CONCURRENCY + UPLOAD_CONCURRENCY + 2) parts
        large = asyncio.Semaphore(1)

        async def one(path: Path, blob: Blob) -> None:
            async with gate:
                await self._upload(path, blob, update, large)

        tasks = [asyncio.ensure_future(one(p, b)) for p, b in items]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _put_small(self, key: str, blob: Blob, data: bytes, what: str) -> None:
        sha = hashlib.sha256(data).digest()
        created = await self._retry(f"cannot upload {what} to {self.url}", self.driver.put, key, data, sha)
        if not created:
            await self._confirm(blob)

    async def _confirm(self, blob: Blob) -> None:
        """After a conditional create found the key taken: the stored blob must have our size."""
        found = await self._retry(
            f"cannot check blob {blob.digest} in {self.url}", self.driver.head, self.key(blob.digest)
        )
        if found is not None and found.size != blob.size:
            raise _wrong_size(blob.digest, found.size, blob.size, self.url)

    async def _upload(
        self, path: Path, blob: Blob, update: progress.Update, large: asyncio.Semaphore
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            src = self.opener(path)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
        with src:
            chosen = self.part_size or self.driver.part_size or PART_SIZE
            part_size = max(chosen, -(-blob.size // MAX_PARTS // MIB) * MIB)
            if blob.size <= part_size:
                data = await loop.run_in_executor(None, read_exactly, src, path, blob.size + 1)
                if len(data) != blob.size or "sha256:" + hashlib.sha256(data).hexdigest() != blob.digest:
                    raise changed(path)
                await self._put_small(self.key(blob.digest), blob, data, str(path))
                update(len(data))
                return
            async with large:
                await self._upload_parts(src, path, blob, part_size, update)

    async def _upload_parts(
        self, src: BinaryIO, path: Path, blob: Blob, part_size: int, update: progress.Update
    ) -> None:
        loop = asyncio.get_running_loop()
        driver = self.driver
        what = f"cannot upload {path} to {self.url}"
        upload = await self._retry(what, driver.start, self.key(blob.digest), blob.size)
        gate = asyncio.Semaphore(max(1, min(driver.part_concurrency, self.concurrency)))
        tasks: list[asyncio.Future[Any]] = []

        async def send(number: int, offset: int, data: bytes, sha: bytes) -> Any:
            try:
                receipt = await self._retry(what, driver.put_part, upload, number, offset, data, sha)
                update(len(data))
                return receipt
            finally:
                gate.release()

        try:
            hasher = hashlib.sha256()
            offset = 0
            pending: tuple[int, int, bytes, bytes] | None = None
            while True:
                data, sha = await loop.run_in_executor(None, read_part, src, path, part_size, hasher)
                if not data:
                    break
                if pending is not None:
                    await gate.acquire()
                    tasks.append(asyncio.ensure_future(send(*pending)))
                    for task in tasks:
                        if task.done() and task.exception() is not None:
                            await task  # raises the part's error now, not after reading the whole file
                pending = (len(tasks) + 1, offset, data, sha)
                offset += len(data)
                if offset > blob.size:
                    break
            if pending is None or offset != blob.size or "sha256:" + hasher.hexdigest() != blob.digest:
                raise changed(path)
            receipts = list(await asyncio.gather(*tasks))
            created = await self._retry(what, driver.finish, upload, receipts, *pending)
            update(len(pending[2]))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.shield(driver.abort(upload))
            raise
        if not created:
            await self._confirm(blob)


def _wrong_size(digest: str, stored: int, expected: int, url: str) -> StorageError:
    return StorageError(
        f"blob {digest} is in the store at {url} with {stored} bytes instead of {expected}",
        "the stored copy is damaged: delete it from the store, then register again",
    )
