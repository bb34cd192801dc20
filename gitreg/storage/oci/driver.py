"""``RemoteStore``'s driver for an OCI registry: one repository holds the blobs, each under its own digest
(an OCI blob is addressed by the SHA-256 of its bytes, as a gitreg blob is, so the key is the digest).

Requests map as follows. ``head``: ``HEAD /v2/<repo>/blobs/<digest>``. ``put`` (one part): a monolithic
upload, ``POST .../blobs/uploads/`` then ``PUT <location>?digest=`` with the bytes. A multipart upload is
the chunked upload: ``start`` is the POST, each ``put_part`` a ``PATCH`` with its ``Content-Range``, in
order (``part_concurrency`` is 1: a session takes its chunks in sequence), ``finish`` the ``PUT ?digest=``
with the last chunk; the registry computes the digest itself and refuses a mismatch, and a session never
committed leaves no blob (the registry purges stale sessions). ``open``: a streamed ``GET`` (with ``Range``
when resuming), followed to wherever the registry redirects. ``delete``: ``DELETE`` of the blob and of the
gitreg manifests that list it (the registry must have deletes enabled).

The distribution API cannot list blobs. ``objects`` lists what gitreg's own manifests reference: every tag
whose manifest has gitreg's ``artifactType`` (``OciStore`` writes one for each batch of blobs it stores and
one for each registered version), each blob with its newest manifest's creation time as its age (storing
blobs again writes a new manifest: the "touch" of this backend). Deleting a blob rewrites the manifests
that list it without it. Blobs no gitreg manifest lists (an upload killed before its manifest) are the
registry's own garbage collector's to remove."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from gitreg.errors import StorageError
from gitreg.storage.oci.client import Client, Response
from gitreg.storage.protocol import Incomplete
from gitreg.storage.remote.driver import MIB, LoopThread, StoredObject

T = TypeVar("T")
#: The artifactType of gitreg's manifests that keep blobs referenced: one per registered version, and one
#: per batch of blobs stored (a register's files, a tree listing, a ``gitreg copy``).
VERSION_ARTIFACT = "application/vnd.gitreg.blobs.v1+json"
#: One event loop for every OCI driver of the process; its requests run in threads (``_call``).
_LOOP = LoopThread("gitreg-oci")
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


async def _call(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` (a blocking request) on the drivers' own threads: ``asyncio.to_thread``'s default pool
    has cores + 4 threads, fewer than the existence checks ``RemoteStore`` keeps in flight."""
    global _pool  # noqa: PLW0603 - created once, on first use
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="gitreg-oci")
    return await asyncio.get_running_loop().run_in_executor(_pool, partial(fn, *args))


def digest_of_key(key: str) -> str:
    """``sha256:<hex>`` from a key ``<prefix>/sha256/<2 hex>/<62 hex>``."""
    parts = key.split("/")
    return f"sha256:{parts[-2]}{parts[-1]}"


@dataclass
class _Upload:
    location: str
    digest: str
    #: Held while a chunk is on its way: an abort waits for it, or the chunk would land after the DELETE.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def patch(self, client: Client, offset: int, data: bytes) -> None:
        with self.lock:
            self.location = client.patch(self.location, offset, data)

    def cancel(self, client: Client) -> None:
        with self.lock:
            client.cancel(self.location)


@dataclass
class Holders:
    """What ``objects`` found: each blob's age, and the gitreg manifests that list it."""

    ages: dict[str, float] = field(default_factory=dict)
    manifests: dict[str, set[str]] = field(default_factory=dict)  # blob digest -> manifest digests
    bodies: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # manifest -> (tag, JSON)
    sizes: dict[str, int] = field(default_factory=dict)


class _Reader:
    def __init__(self, resp: Response, skip: int) -> None:
        self.resp = resp
        self.skip = skip  # a registry that ignored Range: bytes before the offset

    async def read(self, n: int) -> bytes:
        stream = self.resp.stream
        if stream is None:
            return b""
        while self.skip:
            dropped = await _call(stream.read, min(self.skip, MIB))
            if not dropped:
                return b""
            self.skip -= len(dropped)
        data: bytes = await _call(stream.read, n)
        return data

    async def close(self) -> None:
        self.resp.close()


class OciDriver:
    word = "repository"
    part_concurrency = 1

    def __init__(self, client: Client, part_size: int = 16 * MIB) -> None:
        self.client = client
        self.bucket = f"{client.host}/{client.repository}"
        self.part_size = part_size
        self.holders = Holders()

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return _LOOP.run(fn, *args)

    async def head(self, key: str) -> StoredObject | None:
        digest = digest_of_key(key)
        size = await _call(self.client.blob_size, digest)
        if size is None:
            return None
        return StoredObject(key, size, self.holders.ages.get(digest))

    async def objects(self, prefix: str) -> list[StoredObject]:
        holders = await _call(self._list)
        self.holders = holders
        return [
            StoredObject(f"{prefix}/{d[7:9]}/{d[9:]}", size, holders.ages[d])
            for d, size in holders.sizes.items()
        ]

    def _list(self) -> Holders:
        found = Holders()
        for tag in self.client.tags():
            resp = self.client.get_manifest(tag)
            if resp.status != 200:
                continue  # deleted since the listing
            try:
                manifest = json.loads(resp.body)
            except ValueError:
                continue
            if not isinstance(manifest, dict) or manifest.get("artifactType") != VERSION_ARTIFACT:
                continue  # not gitreg's: an export, or someone else's image
            created = _created(manifest)
            digest = resp.headers.get("docker-content-digest", "")
            found.bodies[digest] = (tag, manifest)
            for layer in manifest.get("layers") or []:
                blob, size = layer.get("digest"), layer.get("size")
                if not isinstance(blob, str) or not isinstance(size, int):
                    continue
                found.ages[blob] = max(found.ages.get(blob, 0.0), created)
                found.manifests.setdefault(blob, set()).add(digest)
                found.sizes[blob] = size
        return found

    async def put(self, key: str, data: bytes, sha256: bytes) -> bool:
        await _call(self.client.put_blob, digest_of_key(key), data)
        return True

    async def start(self, key: str, size: int) -> Any:
        _, location = await _call(self.client.start_upload)
        return _Upload(location, digest_of_key(key))

    async def put_part(self, upload: Any, number: int, offset: int, data: bytes, sha256: bytes) -> Any:
        await _call(upload.patch, self.client, offset, data)
        return number

    async def finish(
        self, upload: Any, receipts: list[Any], number: int, offset: int, data: bytes, sha256: bytes
    ) -> bool:
        await _call(upload.patch, self.client, offset, data)
        await _call(self.client.commit, upload.location, upload.digest)
        return True

    async def abort(self, upload: Any) -> None:
        await _call(upload.cancel, self.client)

    async def open(self, key: str, offset: int) -> _Reader:
        resp = await _call(self.client.open_blob, digest_of_key(key), offset)
        return _Reader(resp, offset if resp.status == 200 else 0)

    async def delete(self, key: str) -> None:
        digest = digest_of_key(key)
        await _call(self._delete, digest)

    def _delete(self, digest: str) -> None:
        try:
            self.client.delete_blob(digest)
            for manifest in sorted(self.holders.manifests.pop(digest, set())):
                self._drop_layer(manifest, digest)
        except Exception as exc:
            if getattr(exc, "status", None) in (405, 501):
                raise StorageError(
                    f"the registry {self.client.host} does not allow deletes",
                    "enable them (distribution: storage.delete.enabled: true), or leave gc to the registry",
                ) from None
            raise

    def _drop_layer(self, manifest: str, digest: str) -> None:
        """Rewrite the gitreg manifest ``manifest`` without the layer ``digest`` (delete it once empty), so
        that it keeps listing the blobs it still holds and stops referencing the deleted one."""
        tag, body = self.holders.bodies.pop(manifest, ("", {}))
        if not manifest or not tag:
            return
        layers = [layer for layer in body.get("layers") or [] if layer.get("digest") != digest]
        self.client.delete_manifest(manifest)  # untags it too: an untagged revision would still hold the blob
        if layers:
            data = json.dumps({**body, "layers": layers}, sort_keys=True, separators=(",", ":")).encode()
            new = self.client.put_manifest(tag, data)
            self.holders.bodies[new] = (tag, {**body, "layers": layers})
            for layer in layers:
                held = self.holders.manifests.setdefault(layer["digest"], set())
                held.discard(manifest)
                held.add(new)

    async def touch(self, key: str, size: int) -> bool:
        """Whether the blob is still there; its age is renewed by the manifest ``OciStore`` writes next."""
        return await _call(self.client.blob_size, digest_of_key(key)) is not None

    async def incomplete(self, prefix: str) -> list[Incomplete]:
        return []  # the API lists no upload sessions; registries purge stale ones themselves

    async def discard(self, upload: Incomplete) -> None:
        return None


def _created(manifest: dict[str, Any]) -> float:
    text = (manifest.get("annotations") or {}).get("org.opencontainers.image.created", "")
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


__all__ = ["VERSION_ARTIFACT", "OciDriver", "digest_of_key"]
