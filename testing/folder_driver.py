"""A ``Driver`` over a local folder, with no fsspec and no cloud client: a test double of gitreg's own
backend seam (``gitreg.storage.remote.driver``), not of any service. The backend test suite runs through
``RemoteStore`` with it beside the real servers, which shows that a backend needs nothing but the
protocol: no fsspec file system, no event loop of someone else's.

The folder ``<root>/<bucket>`` is the bucket (missing: the bucket does not exist); an object is a file
at its key; a multipart upload is a folder of parts under ``<root>/<bucket>/.uploads/`` until it is
committed (each part's SHA-256 checked, as S3 does) or aborted."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlparse

from gitreg.storage import Incomplete
from gitreg.storage.remote import RemoteStore
from gitreg.storage.remote.driver import PART_SIZE, UPLOAD_CONCURRENCY, LoopThread, StoredObject

T = TypeVar("T")
SCHEME = "folder"
_UPLOADS = ".uploads"
#: One event loop for every folder driver of the process.
_LOOP = LoopThread("folder-driver")


def open_folder_store(url: str, root: Path) -> RemoteStore:
    """The store at ``folder://BUCKET/PREFIX``, its bucket a folder of ``root``."""
    parsed = urlparse(url)
    return RemoteStore(url, lambda: FolderDriver(root, parsed.netloc), parsed.path.strip("/"))


class _FileReader:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    async def read(self, n: int) -> bytes:
        return self.stream.read(n)

    async def close(self) -> None:
        self.stream.close()


class FolderDriver:
    word = "bucket"
    part_size = PART_SIZE
    part_concurrency = UPLOAD_CONCURRENCY

    def __init__(self, root: Path, bucket: str) -> None:
        self.bucket = bucket
        self.folder = root / bucket

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return _LOOP.run(fn, *args)

    def _path(self, key: str) -> Path:
        if not self.folder.is_dir():
            raise FileNotFoundError(self.bucket)
        return self.folder / key

    def _create(self, key: str, write: Callable[[BinaryIO], None]) -> bool:
        """Write a temporary file and link it to ``key`` unless ``key`` exists (a conditional create)."""
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            Path(tmp).unlink()
        return True

    async def head(self, key: str) -> StoredObject | None:
        try:
            st = await asyncio.to_thread(self._path(key).stat)  # off the loop, as a request would be
        except FileNotFoundError:
            self._path("")  # a missing bucket is an error, a missing object is not
            return None
        return StoredObject(key, st.st_size, st.st_mtime)

    async def objects(self, prefix: str) -> list[StoredObject]:
        base = self._path(prefix)
        return [
            StoredObject(path.relative_to(self.folder).as_posix(), st.st_size, st.st_mtime)
            for path in base.rglob("*")
            if path.is_file() and (st := path.stat())
        ]

    async def put(self, key: str, data: bytes, sha256: bytes) -> bool:
        if hashlib.sha256(data).digest() != sha256:
            raise ValueError("the body does not match its checksum")

        def write(out: BinaryIO) -> None:
            out.write(data)

        return self._create(key, write)

    async def start(self, key: str, size: int) -> Any:
        upload = self._path(_UPLOADS) / uuid.uuid4().hex
        upload.mkdir(parents=True)
        (upload / "key").write_text(key)
        return upload

    async def put_part(self, upload: Any, number: int, offset: int, data: bytes, sha256: bytes) -> Any:
        if hashlib.sha256(data).digest() != sha256:
            raise ValueError("the part does not match its checksum")
        (upload / f"{number:05d}.part").write_bytes(data)
        return number

    async def finish(
        self, upload: Any, receipts: list[Any], number: int, offset: int, data: bytes, sha256: bytes
    ) -> bool:
        await self.put_part(upload, number, offset, data, sha256)
        parts = [upload / f"{n:05d}.part" for n in [*receipts, number]]

        def write(out: BinaryIO) -> None:
            for part in parts:
                out.write(part.read_bytes())

        try:
            return self._create((upload / "key").read_text(), write)
        finally:
            await self.abort(upload)

    async def abort(self, upload: Any) -> None:
        shutil.rmtree(upload, ignore_errors=True)

    async def open(self, key: str, offset: int) -> _FileReader:
        stream = self._path(key).open("rb")
        stream.seek(offset)
        return _FileReader(stream)

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    async def touch(self, key: str, size: int) -> bool:
        try:
            os.utime(self._path(key))
        except FileNotFoundError:
            return False
        return True

    async def incomplete(self, prefix: str) -> list[Incomplete]:
        found = []
        with contextlib.suppress(FileNotFoundError):
            for upload in sorted(self._path(_UPLOADS).iterdir()):
                key = (upload / "key").read_text()
                if key.startswith(f"{prefix}/sha256/".lstrip("/")):
                    found.append(Incomplete(f"{key}?uploadId={upload.name}", upload.stat().st_mtime))
        return found

    async def discard(self, upload: Incomplete) -> None:
        await self.abort(self._path(_UPLOADS) / upload.name.partition("?uploadId=")[2])
