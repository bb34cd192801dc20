"""``gitreg export oci``: publish a version as an OCI artifact that serving tools pull.

- ``modelpack`` (default): the CNCF ModelPack model-spec (github.com/modelpack/model-spec, v1). The manifest
  has ``artifactType: application/vnd.cncf.model.manifest.v1+json``; its config
  (``application/vnd.cncf.model.config.v1+json``) holds the descriptor (name, version, createdAt, authors,
  description, sourceURL, revision), the format, and ``modelfs.diff_ids``; each file is one raw layer
  (``application/vnd.cncf.model.{weight,weight.config,doc,code}.v1.raw``) whose digest is the file's
  gitreg digest, with its path in ``org.cncf.model.filepath``. The version manifest (YAML) is the
  manifest annotation ``dev.gitreg.manifest``, the framework ``dev.gitreg.framework``.
- ``modelcar``: an OCI image whose last layer (an uncompressed tar) has the files under ``/models``, the
  layout KServe's modelcars (``storageUri: oci://...``) mount, on top of an optional base image
  (``ops/modelcar.py``).

Layers go to the registry only if the repository lacks them; from an ``oci://`` store on the same registry
they are mounted, not copied."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from gitreg import yamlio
from gitreg.errors import UsageError
from gitreg.ops.modelcar import push_modelcar
from gitreg.records import VersionRecord
from gitreg.registry import Registry
from gitreg.storage import artifact as artifacts
from gitreg.storage.oci import Reference, parse
from gitreg.storage.oci.client import MANIFEST, Client
from gitreg.storage.oci.push import push_blob, push_bytes
from gitreg.storage.protocol import BlobStore

MODEL_ARTIFACT = "application/vnd.cncf.model.manifest.v1+json"
MODEL_CONFIG = "application/vnd.cncf.model.config.v1+json"
FILEPATH = "org.cncf.model.filepath"
FORMATS = ("modelpack", "modelcar")
_DOCS = {".md", ".rst", ".txt", ".pdf", ".html"}
_CONFIGS = {".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".model", ".vocab"}
_CODE = {".py", ".sh", ".ipynb", ".js", ".ts", ".go", ".rs", ".java", ".c", ".cc", ".cpp", ".h"}


@dataclass(frozen=True)
class File:
    path: str  # relative POSIX path inside the model folder
    digest: str
    size: int
    executable: bool


@dataclass(frozen=True)
class Exported:
    reference: str  # oci://HOST/REPO:TAG
    digest: str  # the manifest's digest
    layers: int
    uploaded: int  # layers whose bytes were sent (others were present or mounted)


def layer_media_type(path: str) -> str:
    pure = PurePosixPath(path)
    suffix = pure.suffix.lower()
    if pure.name.upper().startswith(("README", "LICENSE", "NOTICE")) or suffix in _DOCS:
        return "application/vnd.cncf.model.doc.v1.raw"
    if suffix in _CONFIGS:
        return "application/vnd.cncf.model.weight.config.v1.raw"
    if suffix in _CODE:
        return "application/vnd.cncf.model.code.v1.raw"
    return "application/vnd.cncf.model.weight.v1.raw"


def version_files(store: BlobStore, data: dict[str, Any]) -> list[File]:
    art = data["artifact"]
    if art["type"] == "file":
        return [File(art["name"], art["digest"], art["size"], False)]
    return [
        File(e.path, e.digest, e.size, e.executable) for e in artifacts.tree_entries(store, art["digest"])
    ]


def export_oci(
    registry: Registry,
    record: VersionRecord,
    target: str,
    fmt: str,
    *,
    insecure: bool,
    base: str | None = None,
) -> Exported:
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", "use modelpack or modelcar")
    if base is not None and fmt != "modelcar":
        raise UsageError("--base is for --format modelcar only", "drop --base, or add --format modelcar")
    ref = parse(target, reference=True)
    if ref.digest is not None:
        raise UsageError(f"{target}: export needs a tag, not a digest", "write oci://HOST/REPO:TAG")
    data = record.to_yaml_data()
    tag = ref.tag or f"{data['model']}-v{data['version']}"
    client = Client(ref.host, ref.repository, insecure=insecure)
    source = getattr(registry.store, "client", None)
    if isinstance(source, Client) and source.host == client.host:
        client.scopes.append(f"repository:{source.repository}:pull")  # so that the token allows mounts
    store = registry.store
    files = version_files(store, data)
    if fmt == "modelpack":
        manifest, uploaded = _modelpack(client, store, data, files)
    else:
        label = f"{data['model']}@{data['version']}"
        mtime = _timestamp(data)
        manifest, uploaded = push_modelcar(
            client, store, files, label=label, mtime=mtime, base=base, insecure=insecure
        )
        manifest["annotations"] = artifact_annotations(data)
    body = json.dumps(manifest, indent=2, sort_keys=False).encode()
    digest = client.put_manifest(tag, body) or "sha256:" + hashlib.sha256(body).hexdigest()
    shown = Reference(ref.host, ref.repository, tag)
    return Exported(str(shown), digest, len(manifest["layers"]), uploaded)


def artifact_annotations(data: dict[str, Any]) -> dict[str, str]:
    found = {
        "org.opencontainers.image.title": data["model"],
        "org.opencontainers.image.version": str(data["version"]),
        "dev.gitreg.ref": f"{data['model']}@{data['version']}",
        "dev.gitreg.artifact": data["artifact"]["digest"],
        "dev.gitreg.manifest": yamlio.dump(data),
    }
    when = created(data)
    if when:
        found["org.opencontainers.image.created"] = when
    if data.get("description"):
        found["org.opencontainers.image.description"] = str(data["description"])
    framework = data.get("framework") or {}
    if framework.get("name"):
        found["dev.gitreg.framework"] = framework["name"] + (
            f"=={framework['version']}" if framework.get("version") else ""
        )
    return found


def created(data: dict[str, Any]) -> str:
    value = data.get("created_at")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value) if value else ""


def _modelpack(
    client: Client, store: BlobStore, data: dict[str, Any], files: list[File]
) -> tuple[dict[str, Any], int]:
    uploaded = 0
    layers = []
    for f in files:
        uploaded += push_blob(client, store, f.digest, f.size) == "uploaded"
        layers.append(
            {
                "mediaType": layer_media_type(f.path),
                "digest": f.digest,
                "size": f.size,
                "annotations": {
                    FILEPATH: f.path,
                    "org.cncf.model.file.metadata+json": json.dumps(
                        {
                            "name": f.path,
                            "mode": 0o755 if f.executable else 0o644,
                            "size": f.size,
                            "typeflag": 48,
                        },
                        separators=(",", ":"),
                    ),
                },
            }
        )
    descriptor: dict[str, Any] = {"name": data["model"], "version": str(data["version"])}
    if created(data):
        descriptor["createdAt"] = created(data)
    if data.get("created_by"):
        descriptor["authors"] = [str(data["created_by"])]
    if data.get("description"):
        descriptor["description"] = str(data["description"])
    code = (data.get("lineage") or {}).get("code") or {}
    if code.get("repo"):
        descriptor["sourceURL"] = str(code["repo"])
    if code.get("commit"):
        descriptor["revision"] = str(code["commit"])
    config_section: dict[str, Any] = {}
    if data["artifact"].get("format"):
        config_section["format"] = str(data["artifact"]["format"])
    config = {
        "descriptor": descriptor,
        "config": config_section,
        "modelfs": {"type": "layers", "diff_ids": [f.digest for f in files]},
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": MODEL_ARTIFACT,
        "config": {
            "mediaType": MODEL_CONFIG,
            "digest": push_bytes(client, config_bytes),
            "size": len(config_bytes),
        },
        "layers": layers,
        "annotations": artifact_annotations(data),
    }
    return manifest, uploaded


def _timestamp(data: dict[str, Any]) -> int:
    try:
        return int(datetime.fromisoformat(created(data).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


__all__ = ["FORMATS", "Exported", "export_oci", "layer_media_type", "version_files"]
