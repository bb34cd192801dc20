"""Pushing blobs to an OCI repository from anywhere gitreg reads them: a streamed, chunked upload that
hashes as it goes (``BlobWriter``), a cross-repository mount when the bytes are in the same registry, and
nothing at all when the repository has them already."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from gitreg.errors import IntegrityError
from gitreg.storage.oci.client import Client
from gitreg.storage.protocol import BlobStore, VerifyingReader

CHUNK = 16 * 1024 * 1024


class BlobWriter:
    """A chunked upload written like a file: ``write`` buffers, each full chunk goes out as a PATCH, and
    ``commit`` sends the rest and closes the session with the digest of everything written (which the
    registry checks again). ``cancel`` (or leaving a ``with`` block on an error) drops the session."""

    def __init__(self, client: Client, chunk: int = CHUNK) -> None:
        self.client = client
        self.chunk = chunk
        self.hasher = hashlib.sha256()
        self.size = 0
        self.sent = 0
        self.buffer = bytearray()
        _, self.location = client.start_upload()
        self.done = False

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.done:
            self.cancel()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.size += len(data)
        self.buffer += data
        while len(self.buffer) >= self.chunk:
            self._send(bytes(self.buffer[: self.chunk]))
            del self.buffer[: self.chunk]
        return len(data)

    def _send(self, data: bytes) -> None:
        self.location = self.client.patch(self.location, self.sent, data)
        self.sent += len(data)

    def commit(self) -> str:
        if self.buffer:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        digest = "sha256:" + self.hasher.hexdigest()
        self.client.commit(self.location, digest)
        self.done = True
        return digest

    def cancel(self) -> None:
        self.done = True
        with contextlib.suppress(Exception):  # best effort: the registry purges stale sessions itself
            self.client.cancel(self.location)


def push_bytes(client: Client, data: bytes) -> str:
    """Store small bytes (a config, a manifest's companion) unless the repository has them; their digest."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if client.blob_size(digest) != len(data):
        client.put_blob(digest, data)
    return digest


def push_blob(client: Client, store: BlobStore, digest: str, size: int) -> str:
    """Make blob ``digest`` (``size`` bytes, in ``store``) present in ``client``'s repository: nothing if it
    is there, a mount if ``store`` is another repository of the same registry, else the bytes streamed
    from ``store`` (verified as they go: a blob that does not hash to its digest is never committed).
    Returns how: "present", "mounted" or "uploaded"."""
    if client.blob_size(digest) == size:
        return "present"
    source: Any = getattr(store, "client", None)
    if isinstance(source, Client) and source.host == client.host and source.repository != client.repository:
        mounted, location = client.start_upload(mount=(digest, source.repository))
        if mounted:
            return "mounted"
        client.cancel(location)  # the registry would not mount (no access, or not there): copy instead
    with store.open(digest) as stream, BlobWriter(client) as writer:
        reader = VerifyingReader(stream, digest, size)
        for chunk in reader.chunks(CHUNK):
            writer.write(chunk)
        if writer.size != size:
            raise IntegrityError(digest, f"{writer.size} bytes instead of {size}")
        writer.commit()
    return "uploaded"


__all__ = ["BlobWriter", "push_blob", "push_bytes"]
