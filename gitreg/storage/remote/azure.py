"""Azure Blob Storage through adlfs's azure-storage-blob client: staged blocks, conditional commits."""

from __future__ import annotations

import contextlib
from typing import Any

import adlfs
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from gitreg.storage.protocol import Incomplete
from gitreg.storage.remote.driver import StoredObject
from gitreg.storage.remote.fsspec_driver import FsspecDriver, Ranges, b64, fs_options, timestamp


def make(container: str, options: dict[str, Any]) -> AzureDriver:
    options = fs_options(options)
    if "@" in container:  # abfs://container@account.dfs.core.windows.net/prefix
        container, _, host = container.partition("@")
        options.setdefault("account_name", host.partition(".")[0])
    return AzureDriver(adlfs.AzureBlobFileSystem(**options), container)


class AzureDriver(FsspecDriver):
    word = "container"

    def _blob(self, key: str) -> Any:
        return self.fs.service_client.get_blob_client(self.bucket, key)

    async def head(self, key: str) -> StoredObject | None:
        try:
            props = await self._blob(key).get_blob_properties()
        except ResourceNotFoundError:
            return None
        return StoredObject(key, int(props.size), timestamp(props.last_modified))

    async def put(self, key: str, data: bytes, sha256: bytes) -> bool:
        try:
            await self._blob(key).upload_blob(data, length=len(data), overwrite=False, validate_content=True)
        except ResourceExistsError:
            return False
        return True

    async def start(self, key: str, size: int) -> Any:
        return self._blob(key)

    async def put_part(self, upload: Any, number: int, offset: int, data: bytes, sha256: bytes) -> Any:
        block_id = b64(f"{number:08d}".encode())
        await upload.stage_block(block_id, data, length=len(data), validate_content=True)
        return block_id

    async def finish(
        self, upload: Any, receipts: list[Any], number: int, offset: int, data: bytes, sha256: bytes
    ) -> bool:
        last = await self.put_part(upload, number, offset, data, sha256)
        try:
            await upload.commit_block_list([*receipts, last], if_none_match="*")
        except ResourceExistsError:
            return False
        return True

    async def abort(self, upload: Any) -> None:
        return None  # uncommitted blocks hold no blob, and Azure discards them after a week

    async def open(self, key: str, offset: int) -> Ranges:
        blob = self._blob(key)
        try:
            props = await blob.get_blob_properties()
        except ResourceNotFoundError:
            raise FileNotFoundError(key) from None

        async def fetch(start: int, length: int) -> bytes:
            downloader = await blob.download_blob(offset=start, length=length, max_concurrency=1)
            data: bytes = await downloader.readall()
            return data

        return Ranges(fetch, offset, int(props.size))

    async def delete(self, key: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            await self._blob(key).delete_blob()

    async def touch(self, key: str, size: int) -> bool:
        """A new Last-Modified: set the blob's metadata (no bytes move)."""
        try:
            await self._blob(key).set_blob_metadata({"gitreg_touched": "1"})
        except ResourceNotFoundError:
            return False
        return True

    async def incomplete(self, prefix: str) -> list[Incomplete]:
        return []  # uncommitted blocks are not blobs, and Azure discards them after a week

    async def discard(self, upload: Incomplete) -> None:
        return None
