"""S3 through s3fs's aiobotocore client: checksummed, conditional PUTs and multipart uploads."""

from __future__ import annotations

import contextlib
from typing import Any

import s3fs

from gitreg.storage.protocol import Incomplete
from gitreg.storage.remote.driver import StoredObject
from gitreg.storage.remote.fsspec_driver import Body, FsspecDriver, b64, fs_options, timestamp


def make(bucket: str, options: dict[str, Any]) -> S3Driver:
    # one retry policy, gitreg's (remote/retry.py): botocore's and s3fs's own retries would multiply with
    # it, and a server that is down would take minutes to report
    config = dict(options.get("config_kwargs") or {})
    config.setdefault("retries", {"max_attempts": 1, "mode": "standard"})
    fs = s3fs.S3FileSystem(**fs_options({**options, "config_kwargs": config}))
    fs.retries = 1
    return S3Driver(fs, bucket)


class S3Driver(FsspecDriver):
    async def _call(self, method: str, **kwargs: Any) -> Any:
        return await self.fs._call_s3(method, Bucket=self.bucket, **kwargs)

    async def head(self, key: str) -> StoredObject | None:
        try:
            response = await self._call("head_object", Key=key)
        except FileNotFoundError:
            return None
        return StoredObject(key, int(response["ContentLength"]), timestamp(response.get("LastModified")))

    async def put(self, key: str, data: bytes, sha256: bytes) -> bool:
        try:
            await self._call("put_object", Key=key, Body=data, ChecksumSHA256=b64(sha256), IfNoneMatch="*")
        except FileExistsError:
            return False
        return True

    async def start(self, key: str, size: int) -> Any:
        response = await self._call("create_multipart_upload", Key=key, ChecksumAlgorithm="SHA256")
        return (key, response["UploadId"])

    async def put_part(self, upload: Any, number: int, offset: int, data: bytes, sha256: bytes) -> Any:
        key, upload_id = upload
        checksum = b64(sha256)
        response = await self._call(
            "upload_part", Key=key, UploadId=upload_id, PartNumber=number, Body=data, ChecksumSHA256=checksum
        )
        return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}

    async def finish(
        self, upload: Any, receipts: list[Any], number: int, offset: int, data: bytes, sha256: bytes
    ) -> bool:
        key, upload_id = upload
        last = await self.put_part(upload, number, offset, data, sha256)
        parts = {"Parts": [*receipts, last]}
        try:
            await self._call(
                "complete_multipart_upload",
                Key=key,
                UploadId=upload_id,
                MultipartUpload=parts,
                IfNoneMatch="*",
            )
        except FileExistsError:
            await self.abort(upload)
            return False
        return True

    async def abort(self, upload: Any) -> None:
        key, upload_id = upload
        with contextlib.suppress(FileNotFoundError):
            await self._call("abort_multipart_upload", Key=key, UploadId=upload_id)

    async def open(self, key: str, offset: int) -> Body:
        extra = {"Range": f"bytes={offset}-"} if offset else {}
        response = await self._call("get_object", Key=key, **extra)
        body = response["Body"]
        return Body(body, body.close)

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Key=key)

    async def touch(self, key: str, size: int) -> bool:
        """A new LastModified: S3 has no metadata-only update, so copy the object onto itself (server-side,
        no bytes through gitreg). One copy request takes at most 5 GB: larger objects are left as they are
        and rely on the grace period being longer than a registration."""
        if size > 5 * 1024**3:
            return True
        try:
            await self._call(
                "copy_object",
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                Metadata={"gitreg-touched": "1"},
            )
        except FileNotFoundError:
            return False
        return True

    async def incomplete(self, prefix: str) -> list[Incomplete]:
        found = []
        marker: dict[str, str] = {}
        while True:
            page = await self._call(
                "list_multipart_uploads", Prefix=f"{prefix}/sha256/".lstrip("/"), **marker
            )
            for upload in page.get("Uploads", []):
                started = upload["Initiated"].timestamp()
                found.append(Incomplete(f"{upload['Key']}?uploadId={upload['UploadId']}", started))
            if not page.get("IsTruncated"):
                return found
            marker = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}

    async def discard(self, upload: Incomplete) -> None:
        key, _, upload_id = upload.name.partition("?uploadId=")
        await self.abort((key, upload_id))
