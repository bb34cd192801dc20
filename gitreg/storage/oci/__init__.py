"""An OCI registry (Harbor, GitHub/GitLab container registries, ECR, ACR, Artifact Registry, distribution)
as gitreg's blob store: ``oci://HOST[:PORT]/REPOSITORY``.

An OCI blob is addressed by the SHA-256 of its bytes, as a gitreg blob is, so a gitreg digest names the
same blob in the registry: ``RemoteStore`` does the hashing, verification, concurrency and retries, and
``OciDriver`` the requests (see ``driver.py``). So that the registry's garbage collector keeps them (and so
that ``gitreg gc`` can list them: the API lists no blobs), gitreg's blobs are listed by small OCI manifests
of artifactType ``application/vnd.gitreg.blobs.v1+json``: one per registered version, tagged
``<model>-v<version>-<first 12 hex digits of the artifact digest>``, and one per batch of blobs stored,
tagged ``gitreg-blobs-<16 hex digits of the batch's digests>``.

Plain HTTP only for a registry on this machine, when asked for: ``storage.options: {insecure: true}`` or
``GITREG_OCI_INSECURE=1``."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gitreg.credentials import redact_url
from gitreg.errors import StorageError, UsageError
from gitreg.storage.oci.client import MANIFEST, Client
from gitreg.storage.oci.driver import VERSION_ARTIFACT, OciDriver
from gitreg.storage.protocol import Blob
from gitreg.storage.remote import RemoteStore

SCHEME = "oci"
#: The empty JSON object, the config of an artifact that has none (OCI image spec, "guidance for an empty
#: descriptor").
EMPTY = b"{}"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
URL_HINT = "OCI URLs look like oci://HOST[:PORT]/REPOSITORY"


@dataclass(frozen=True)
class Reference:
    """``oci://HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]`` taken apart."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        at = f"@{self.digest}" if self.digest else (f":{self.tag}" if self.tag else "")
        return f"oci://{self.host}/{self.repository}{at}"


def parse(url: str, *, reference: bool = False) -> Reference:
    """Take ``url`` apart; with ``reference``, a ``:TAG`` or ``@sha256:...`` may (and one must) follow."""
    parsed = urlparse(url)
    if "@" in parsed.netloc:
        raise UsageError(
            f"{redact_url(url)!r} carries credentials, which oci:// URLs cannot",
            "use docker login, or GITREG_OCI_USERNAME and GITREG_OCI_PASSWORD",
        )
    if parsed.scheme != SCHEME or not parsed.netloc:
        raise UsageError(f"{url!r} is not an OCI URL", URL_HINT)
    if parsed.query or parsed.fragment or parsed.params:
        raise UsageError(f"{url!r}: an OCI URL has no query or fragment", URL_HINT)
    path = parsed.path.strip("/")
    tag = digest = None
    if reference:
        path, at, digest_part = path.partition("@")
        if at:
            digest = digest_part
            if not _DIGEST.fullmatch(digest):
                raise UsageError(
                    f"{url!r}: {digest!r} is not a sha256 digest", "write @sha256:<64 hex digits>"
                )
        else:
            last = path.rsplit("/", 1)[-1]
            if ":" in last:
                path, _, tag = path.rpartition(":")
                if not _TAG.fullmatch(tag):
                    raise UsageError(
                        f"{url!r}: {tag!r} is not a valid tag", "tags are [A-Za-z0-9_.-], up to 128"
                    )
    if not _REPOSITORY.fullmatch(path):
        raise UsageError(
            f"{url!r} names no valid repository",
            "repositories are lower-case path components: oci://HOST/team/model",
        )
    return Reference(parsed.netloc, path, tag, digest)


def insecure_wanted(options: dict[str, Any]) -> bool:
    value = options.get("insecure", os.environ.get("GITREG_OCI_INSECURE", ""))
    return value is True or str(value).lower() in ("1", "true", "yes")


class OciStore(RemoteStore):
    """A RemoteStore over an OCI repository, which also writes the manifests that keep versions' blobs."""

    def __init__(self, url: str, client: Client) -> None:
        super().__init__(url, lambda: OciDriver(client), client.repository)
        self.client = client
        self._touched: set[str] = set()  # what the last ``_touch`` listed in a manifest

    def put_files(self, paths: list[Path]) -> list[Blob]:
        self._touched = set()
        blobs = super().put_files(paths)
        if blobs and {b.digest for b in blobs} != self._touched:  # else _touch listed them all already
            self._keep(blobs)
        return blobs

    def _touch(self, digests: dict[str, int]) -> set[str]:
        """Renew the age of blobs found stored with one manifest that lists them all: the registry accepts
        it only if every one is there. If one is gone, check them one by one (a HEAD each)."""
        if not digests:
            return set()
        blobs = [Blob(d, s) for d, s in digests.items()]
        try:
            self._keep(blobs)
        except StorageError:
            return super()._touch(digests)
        self._touched = set(digests)
        return set(digests)

    def put_bytes(self, data: bytes) -> Blob:
        self._touched = set()
        blob = super().put_bytes(data)
        if self._touched != {blob.digest}:
            self._keep([blob])
        return blob

    def _keep(self, blobs: list[Blob]) -> None:
        listed = "\n".join(sorted({b.digest for b in blobs})).encode()
        self._tag(f"gitreg-blobs-{_sha(listed)[:16]}", blobs, {"dev.gitreg.kind": "blobs"})

    def reference_version(self, model: str, version: int, artifact: str, kind: str) -> str:
        """``reference`` with the blobs of the artifact: the file, or the tree listing and its files."""
        size = self.size(artifact) or 0
        blobs = [Blob(artifact, size)]
        if kind == "tree":
            from gitreg.storage.artifact import tree_entries  # noqa: PLC0415 - only for trees

            blobs += [Blob(e.digest, e.size) for e in tree_entries(self, artifact)]
        return self.reference(model, version, artifact, blobs)

    def reference(self, model: str, version: int, artifact: str, blobs: list[Blob]) -> str:
        """Tag a manifest that lists ``blobs`` (a version's files and listing), so that the registry's
        garbage collector keeps them; returns the tag."""
        tag = version_tag(model, version, artifact)
        annotations = {
            "dev.gitreg.kind": "version",
            "dev.gitreg.model": model,
            "dev.gitreg.version": str(version),
            "dev.gitreg.artifact": artifact,
        }
        self._tag(tag, blobs, annotations)
        return tag

    def _tag(self, tag: str, blobs: list[Blob], annotations: dict[str, str]) -> None:
        if self.client.blob_size(f"sha256:{_sha(EMPTY)}") is None:
            self.client.put_blob(f"sha256:{_sha(EMPTY)}", EMPTY)
        unique = {b.digest: b for b in blobs}
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": VERSION_ARTIFACT,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": f"sha256:{_sha(EMPTY)}", "size": len(EMPTY)},
            "layers": [
                {"mediaType": "application/octet-stream", "digest": b.digest, "size": b.size}
                for b in sorted(unique.values(), key=lambda b: b.digest)
            ],
            "annotations": {
                "org.opencontainers.image.created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                **annotations,
            },
        }
        data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        self._run(self._retry, f"cannot tag {tag} in {self.url}", _async(self.client.put_manifest), tag, data)


def version_tag(model: str, version: int, artifact: str) -> str:
    return f"{model}-v{version}-{artifact.removeprefix('sha256:')[:12]}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _async(fn: Any) -> Any:
    async def call(*args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    return call


def open_oci(url: str, options: dict[str, Any]) -> OciStore:
    """The store at ``oci://HOST[:PORT]/REPOSITORY``. Makes no request."""
    ref = parse(url)
    unknown = set(options) - {"insecure"}
    if unknown:
        raise UsageError(
            f"unknown storage option(s) for {url}: {', '.join(sorted(unknown))}", "the only one is insecure"
        )
    return OciStore(url, Client(ref.host, ref.repository, insecure=insecure_wanted(options)))


__all__ = ["OciStore", "Reference", "insecure_wanted", "open_oci", "parse", "version_tag"]
