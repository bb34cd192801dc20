"""A blob store in a bucket (S3, GCS, Azure Blob) through fsspec: the same guarantees as the local store.

Layout: ``<bucket>/<prefix>/sha256/<first two hex digits>/<remaining 62>``, as on disk.

Uploads. The key is the digest, which is only known once the whole file has been read, so a file is read
twice: a hash pass (local disk, which runs at several hundred MB/s, and costs nothing on the network), then
an existence check, and only if the store lacks the blob an upload pass straight to the final key. The
alternatives cost more: uploading to a temporary key then copying server-side doubles the store's work and
leaves temporary objects behind a killed process, and can never skip the upload of bytes already stored.
The upload pass hashes again and commits only if the bytes it sent hash to the digest:

- up to one part (``PART_SIZE``): one conditional PUT of those bytes, hashed before they are sent;
- larger: a multipart upload (S3 multipart, Azure staged blocks, a GCS resumable session) with at most
  ``UPLOAD_CONCURRENCY`` parts in flight (GCS: one, its sessions are sequential), memory bounded by that many
  parts; the last part is held back until the whole file hashed to the digest, then sent with the commit
  (S3 CompleteMultipartUpload, Azure Put Block List, the final GCS chunk).

Every create is conditional (S3 ``If-None-Match: *``, Azure ``If-None-Match: *``, GCS ``ifGenerationMatch=0``)
and "already there" is success once its size matches, so concurrent registrations of the same bytes are
harmless. On S3 every PUT carries its SHA-256 (``x-amz-checksum-sha256``), so the server rejects a body
corrupted on the way; Azure requests carry a Content-MD5 for the same purpose. A killed upload never
creates the object: an unfinished S3 multipart upload is listed by ``incomplete`` and aborted by
``gitreg gc`` (a bucket lifecycle rule ``AbortIncompleteMultipartUpload`` does the same server-side); Azure
drops uncommitted blocks and GCS resumable sessions by themselves after a week. A retried register starts
that file again and skips every file already stored. Transient errors (connection resets, timeouts, HTTP
408/429/5xx) are retried with exponential backoff.

Downloads stream (one GET, re-opened at the current offset after a transient error) into the verifying
reader of ``artifact.fetch_file``.

The store talks to the service only through a ``Driver`` (``driver.py``): S3, GCS and Azure each have one,
over fsspec (``fsspec_driver.py``); nothing here knows which, nor that fsspec exists."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from gitreg.credentials import redact_url
from gitreg.errors import GitregError, StorageError
from gitreg.storage import progress
from gitreg.storage.hashing import hash_files
from gitreg.storage.protocol import CHUNK_SIZE, Blob, Incomplete, check_digest
from gitreg.storage.remote.download import Download
from gitreg.storage.remote.driver import UPLOAD_CONCURRENCY, Driver, Reader
from gitreg.storage.remote.present_cache import PresentCache
from gitreg.storage.remote.retry import ATTEMPTS, is_transient, one_line, pause, status_of
from gitreg.storage.remote.upload import UploadPass, file_size

CHECK_CONCURRENCY = 32  # existence checks in flight
T = TypeVar("T")
#: A blob's key below ``<prefix>/sha256``.
_BLOB_KEY = re.compile(r"/([0-9a-f]{2})/([0-9a-f]{62})")


def _default_opener(path: Path) -> BinaryIO:
    return path.open("rb")


class RemoteStore(UploadPass):
    def __init__(
        self,
        url: str,
        make_driver: Callable[[], Driver],
        prefix: str,
        *,
        part_size: int | None = None,
        concurrency: int = UPLOAD_CONCURRENCY,
    ) -> None:
        #: The URL as messages show it: credentials in it (from GITREG_STORAGE_URL) are redacted.
        self.url = redact_url(url)
        self.prefix = prefix.strip("/")
        #: Bytes per part of a multipart upload (and the most sent in one PUT); None: the backend's choice.
        self.part_size = part_size
        self.concurrency = concurrency
        self.cache = PresentCache(url)
        #: How the upload pass opens a file (tests wrap it to corrupt or cut the stream).
        self.opener: Callable[[Path], BinaryIO] = _default_opener
        self._make_driver = make_driver
        self._driver: Driver | None = None

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            try:
                self._driver = self._make_driver()
            except GitregError:
                raise
            except Exception as exc:
                raise StorageError(f"cannot open the blob store at {self.url}: {one_line(exc)}") from None
        return self._driver

    def key(self, digest: str) -> str:
        hexdigest = check_digest(digest).removeprefix("sha256:")
        return f"{self.prefix}/sha256/{hexdigest[:2]}/{hexdigest[2:]}".lstrip("/")

    def _run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self.driver.run(fn, *args)

    # --- reading sizes ----------------------------------------------------------------------------------

    def size(self, digest: str) -> int | None:
        return self.sizes([digest])[digest]

    def sizes(self, digests: Iterable[str]) -> dict[str, int | None]:
        wanted = list(dict.fromkeys(digests))
        for d in wanted:
            check_digest(d)
        found = self._run(self._sizes, wanted)
        self.cache.add(Blob(d, s) for d, s in found.items() if s is not None)
        return found

    async def _sizes(self, digests: list[str]) -> dict[str, int | None]:
        gate = asyncio.Semaphore(CHECK_CONCURRENCY)

        async def one(digest: str) -> int | None:
            async with gate:
                found = await self._retry(
                    f"cannot check blob {digest} in {self.url}", self.driver.head, self.key(digest)
                )
                return None if found is None else found.size

        sizes = await asyncio.gather(*(one(d) for d in digests))
        return dict(zip(digests, sizes, strict=True))

    # --- writing ----------------------------------------------------------------------------------------

    def put_file(self, path: Path) -> Blob:
        return self.put_files([path])[0]

    def put_files(self, paths: list[Path]) -> list[Blob]:
        if not paths:
            return []
        total = sum(file_size(p) for p in paths)
        label = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
        with progress.meter(total, f"hashing {label}") as update:
            blobs = hash_files(paths, update)
        unique = {b.digest: (b, p) for b, p in zip(blobs, paths, strict=True)}
        # whole single files are always checked against the store; the cache only spares a tree's files
        unknown = [d for d, (b, _) in unique.items() if len(paths) == 1 or not self.cache.has(b)]
        present: dict[str, int | None] = {d: b.size for d, (b, _) in unique.items()}  # cache's word
        present.update(self.sizes(unknown) if unknown else {})
        missing = []
        found = []
        for digest, size in present.items():
            blob, path = unique[digest]
            if size == blob.size:
                found.append(digest)
            else:
                missing.append((path, blob))
                if size is not None:  # damaged (or cut short): replace it
                    self._run(self._discard_damaged, blob)
        gone = set(found) - self._touch({d: unique[d][0].size for d in found})  # deleted since
        self.cache.forget(gone)
        missing += [(unique[d][1], unique[d][0]) for d in sorted(gone)]
        if missing:
            with progress.meter(sum(b.size for _, b in missing), f"uploading {label}") as update:
                self._run(self._upload_all, missing, update)
            self.cache.add(b for _, b in missing)
        return blobs

    def put_bytes(self, data: bytes) -> Blob:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blob = Blob(digest, len(data))
        size = self.size(digest)
        if size == blob.size and self._touch({digest: blob.size}):
            return blob
        if size is not None and size != blob.size:
            self._run(self._discard_damaged, blob)
        self._run(self._put_small, self.key(digest), blob, data, "tree listing")
        return blob

    async def _discard_damaged(self, blob: Blob) -> None:
        """A blob is stored with another size than its bytes have: delete it, so the upload that follows
        (conditional, like every create) writes the right bytes. No reader could use it anyway: every
        download is verified."""
        key = self.key(blob.digest)
        await self._retry(f"cannot replace damaged blob {blob.digest} in {self.url}", self.driver.delete, key)
        self.cache.forget([blob.digest])

    def _touch(self, digests: dict[str, int]) -> set[str]:
        """Refresh the last-modified time of blobs a registration found already stored, so that gc's grace
        period covers them until the registration commits (a metadata-only update, which each backend
        stamps with a new time: S3 copies the object onto itself, GCS patches it, Azure sets its metadata).
        Returns those that are still there."""
        if not digests:
            return set()
        touched: set[str] = self._run(self._touch_all, digests)
        return touched

    async def _touch_all(self, digests: dict[str, int]) -> set[str]:
        gate = asyncio.Semaphore(CHECK_CONCURRENCY)

        async def one(digest: str) -> bool:
            async with gate:
                what = f"cannot refresh blob {digest} in {self.url}"
                return await self._retry(what, self.driver.touch, self.key(digest), digests[digest])

        there = await asyncio.gather(*(one(d) for d in digests))
        return {d for d, ok in zip(digests, there, strict=True) if ok}

    # --- reading ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[BinaryIO]:
        what = f"cannot read blob {digest} from {self.url}"
        stream = Download(partial(self._open_at, digest), self._run, partial(self._error, what))
        stream.reader = self._run(stream.reopen)
        try:
            yield cast(BinaryIO, io.BufferedReader(stream, buffer_size=CHUNK_SIZE))
        finally:
            with contextlib.suppress(Exception):
                self._run(stream.release)

    async def _open_at(self, digest: str, offset: int) -> Reader:
        """A reader of the blob from byte ``offset``, retried; a blob the store does not have is reported
        as missing."""
        key = self.key(digest)
        try:
            return await self._retry(
                f"cannot read blob {digest} from {self.url}", self.driver.open, key, offset
            )
        except StorageError:
            if offset == 0 and await self._absent(key):
                raise self._missing(digest) from None
            raise

    async def _absent(self, key: str) -> bool:
        with contextlib.suppress(Exception):
            return await self.driver.head(key) is None
        return False

    def _missing(self, digest: str) -> StorageError:
        return StorageError(
            f"blob {digest} is missing from the store at {self.url}",
            "register the artifact again, or point GITREG_STORAGE_URL at the store that has it",
        )

    # --- maintenance ------------------------------------------------------------------------------------

    def delete(self, digest: str) -> None:
        key = self.key(digest)
        self._run(self._retry, f"cannot delete blob {digest} from {self.url}", self.driver.delete, key)
        self.cache.forget([digest])

    def delete_unless_newer(self, digest: str, cutoff: float) -> bool:
        """Delete a blob unless it was modified at or after ``cutoff``; True if it is gone. Its age is read
        again just before the delete; the stores offer no delete conditional on a time, so a touch in the
        instant between the two can still lose (a register checks its blobs again only while uploading)."""
        what = f"cannot check blob {digest} in {self.url}"
        found = self._run(self._retry, what, self.driver.head, self.key(digest))
        if found is None:
            return True
        if found.modified is None or found.modified >= cutoff:
            return False
        self.delete(digest)
        return True

    def digests(self) -> Iterator[Blob]:
        base = f"{self.prefix}/sha256".lstrip("/")
        what = f"cannot list the blob store at {self.url}"
        found = self._run(self._retry, what, self.driver.objects, base)
        for stored in sorted(found, key=lambda o: o.key):
            match = _BLOB_KEY.fullmatch(stored.key.removeprefix(base))
            if match:
                yield Blob(f"sha256:{match[1]}{match[2]}", stored.size, stored.modified)

    def incomplete(self) -> list[Incomplete]:
        what = f"cannot list unfinished uploads in {self.url}"
        found: list[Incomplete] = self._run(self._retry, what, self.driver.incomplete, self.prefix)
        return found

    def discard(self, upload: Incomplete) -> None:
        what = f"cannot abort upload {upload.name} in {self.url}"
        self._run(self._retry, what, self.driver.discard, upload)

    # --- errors and retries -----------------------------------------------------------------------------

    async def _retry(self, what: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``fn(*args)``, retried with backoff on transient errors; any other failure becomes a one-line
        StorageError that starts with ``what``."""
        for attempt in range(ATTEMPTS):
            try:
                return await fn(*args)
            except (GitregError, asyncio.CancelledError):
                raise
            except Exception as exc:
                if attempt + 1 < ATTEMPTS and is_transient(exc):
                    await pause(attempt)
                    continue
                raise self._error(what, exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, what: str, exc: BaseException) -> StorageError:
        driver = self.driver
        if isinstance(exc, PermissionError) or status_of(exc) in (401, 403):
            return StorageError(
                f"{what}: access denied",
                "check the credentials in your environment, profile or instance identity",
            )
        if isinstance(exc, FileNotFoundError) or status_of(exc) == 404:
            return StorageError(
                f"{what}: the {driver.word} {driver.bucket!r} does not exist", "create it, or fix storage.url"
            )
        return StorageError(f"{what}: {one_line(exc)}")


__all__ = ["Driver", "Reader", "RemoteStore"]
