"""A modelcar image for ``gitreg export oci --format modelcar``: the files under ``/models`` in one
uncompressed tar layer, streamed from the blob store into a chunked upload (each file verified as it goes),
on top of a base image's layers when ``--base`` names one (KServe runs the modelcar with a shell, which the
base provides: ``busybox`` for instance). The base's layers and config are mounted from its repository when
it is on the same registry, copied (verified) otherwise."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any, Protocol

from gitreg.errors import NotFoundError, StorageError, UsageError
from gitreg.storage.oci import parse
from gitreg.storage.oci.client import MANIFEST, Client
from gitreg.storage.oci.push import CHUNK, BlobWriter, push_bytes
from gitreg.storage.protocol import BlobStore, VerifyingReader

IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
TAR_LAYER = "application/vnd.oci.image.layer.v1.tar"
#: Docker's media types in a base image, and their OCI names (an OCI manifest lists OCI types).
DOCKER_TO_OCI = {
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar": TAR_LAYER,
    "application/vnd.docker.container.image.v1+json": IMAGE_CONFIG,
}
INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


class ModelFile(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def executable(self) -> bool: ...


class _Verified:
    """A blob of the store as a file for ``tarfile``: verified, so a damaged blob stops the export."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.left = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.left) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.left += chunk
        out, self.left = (self.left, b"") if n < 0 else (self.left[:n], self.left[n:])
        return out


def push_modelcar(
    client: Client,
    store: BlobStore,
    files: Sequence[ModelFile],
    *,
    label: str,
    mtime: int,
    base: str | None,
    insecure: bool,
) -> tuple[dict[str, Any], int]:
    """Push the image's blobs; its manifest (not pushed) and how many layers were sent."""
    base_layers, config = _base(client, base, insecure) if base else ([], _empty_config())
    layer, size = _models_layer(client, store, files, mtime)
    config.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(layer)
    config.setdefault("config", {}).setdefault("Labels", {})["dev.gitreg.ref"] = label
    config.setdefault("history", []).append({"created_by": f"gitreg export oci {label}"})
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {
            "mediaType": IMAGE_CONFIG,
            "digest": push_bytes(client, config_bytes),
            "size": len(config_bytes),
        },
        "layers": [*base_layers, {"mediaType": TAR_LAYER, "digest": layer, "size": size}],
    }
    return manifest, 1


def _empty_config() -> dict[str, Any]:
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
    }


def _models_layer(
    client: Client, store: BlobStore, files: Sequence[ModelFile], mtime: int
) -> tuple[str, int]:
    with BlobWriter(client) as writer:
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            folders = {"models"}
            for f in files:
                folders |= {f"models/{q}" for q in PurePosixPath(f.path).parents if str(q) != "."}
            for folder in sorted(folders):
                info = tarfile.TarInfo(folder)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
                tar.addfile(info)
            for f in files:
                info = tarfile.TarInfo(f"models/{f.path}")
                info.size, info.mode, info.mtime = f.size, 0o755 if f.executable else 0o644, mtime
                with store.open(f.digest) as stream:
                    tar.addfile(info, _Verified(VerifyingReader(stream, f.digest, f.size).chunks()))
        size = writer.size
        return writer.commit(), size


def _base(client: Client, base: str, insecure: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The base image's layers (made present in ``client``'s repository) and its config."""
    ref = parse(base, reference=True)
    source = Client(ref.host, ref.repository, insecure=insecure, actions="pull")
    if source.host == client.host:
        client.scopes.append(f"repository:{source.repository}:pull")
    manifest = _manifest(source, ref.digest or ref.tag or "latest", base)
    if manifest.get("mediaType") in INDEXES or "manifests" in manifest:
        chosen = [
            m
            for m in manifest.get("manifests") or []
            if (m.get("platform") or {}).get("os") == "linux"
            and (m.get("platform") or {}).get("architecture") == "amd64"
        ]
        if not chosen:
            raise UsageError(
                f"the base image {base} has no linux/amd64 image", "name a single-platform image"
            )
        manifest = _manifest(source, chosen[0]["digest"], base)
    try:
        config_desc, layers = manifest["config"], list(manifest["layers"])
        config_bytes = _copy(source, client, config_desc["digest"], config_desc["size"], read=True)
        config = json.loads(config_bytes)
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"the base image {base} is not an image manifest: {exc}") from None
    out = []
    for layer in layers:
        _copy(source, client, layer["digest"], layer["size"])
        media = DOCKER_TO_OCI.get(layer["mediaType"], layer["mediaType"])
        out.append({"mediaType": media, "digest": layer["digest"], "size": layer["size"]})
    return out, config


def _manifest(source: Client, reference: str, shown: str) -> dict[str, Any]:
    resp = source.get_manifest(reference)
    if resp.status == 404:
        raise NotFoundError(f"the base image {shown} does not exist", "check its repository and tag")
    found: dict[str, Any] = json.loads(resp.body)
    return found


def _copy(source: Client, target: Client, digest: str, size: int, *, read: bool = False) -> bytes:
    """Make blob ``digest`` present in ``target``: mounted from ``source`` on the same registry, else copied
    through a verifying reader. With ``read``, also return its bytes (a config: small)."""
    if not read and target.blob_size(digest) == size:
        return b""
    if not read and source.host == target.host:
        mounted, location = target.start_upload(mount=(digest, source.repository))
        if mounted:
            return b""
        target.cancel(location)
    resp = source.open_blob(digest)
    try:
        if resp.stream is None:
            raise StorageError(f"cannot read blob {digest} of {source.host}/{source.repository}")
        reader = VerifyingReader(resp.stream, digest, size)
        if read:
            data = reader.read_all()
            if target.blob_size(digest) != size:
                target.put_blob(digest, data)
            return data
        with BlobWriter(target) as writer:
            for chunk in reader.chunks(CHUNK):
                writer.write(chunk)
            writer.commit()
        return b""
    finally:
        resp.close()


__all__ = ["push_modelcar"]
