"""``gitreg pull oci://HOST/REPO:TAG|@sha256:... DEST``: download an artifact that ``gitreg export oci``
made (a ModelPack artifact, or a modelcar image), verifying every layer against its digest.

The manifest is fetched by tag or digest (by digest: its own bytes must hash to it). Every layer is
streamed into a temporary folder beside DEST through the same verifying reader and atomic rename as every
download of gitreg; DEST appears only when every file is there and verified. A ModelPack layer's
``org.cncf.model.filepath`` must be a portable relative path (gitreg.filesystem's rule: no ``..``, no
absolute path, no name Windows or macOS would refuse, no two files that would collide); a modelcar layer
may hold only folders and regular files under ``models/``, checked the same way. Anything else is refused
before a byte is written."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg.errors import ConflictError, IntegrityError, NotFoundError, StorageError, UnsafePathError
from gitreg.filesystem import paths_problem
from gitreg.layout import DIGEST
from gitreg.storage.artifact import check_relative_path, fetch_file
from gitreg.storage.oci import OciStore, parse
from gitreg.storage.oci.client import Client

MODEL_ARTIFACT = "application/vnd.cncf.model.manifest.v1+json"
MODEL_CONFIG = "application/vnd.cncf.model.config.v1+json"
FILEPATH = "org.cncf.model.filepath"
TAR_LAYERS = ("application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar")
HOSTILE_HINT = "the artifact was not made by gitreg export, or was altered; pull it from a source you trust"


@dataclass(frozen=True)
class Layer:
    path: str
    digest: str
    size: int
    executable: bool


@dataclass(frozen=True)
class Pulled:
    path: Path
    digest: str  # the manifest's
    files: int
    size: int


def pull_oci(reference: str, dest: Path, *, insecure: bool) -> Pulled:
    ref = parse(reference, reference=True)
    if ref.tag is None and ref.digest is None:
        ref = parse(reference + ":latest", reference=True)
    client = Client(ref.host, ref.repository, insecure=insecure, actions="pull")
    wanted = ref.digest or ref.tag or "latest"
    resp = client.get_manifest(wanted)
    if resp.status == 404:
        raise NotFoundError(
            f"{ref} does not exist", "check the repository and tag (skopeo list-tags lists them)"
        )
    digest = "sha256:" + hashlib.sha256(resp.body).hexdigest()
    if ref.digest is not None and digest != ref.digest:
        raise IntegrityError(ref.digest, digest, "manifest")
    try:
        manifest: Any = json.loads(resp.body)
        layers = manifest["layers"]
        config_type = manifest["config"]["mediaType"]
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"{ref} is not an OCI image manifest: {exc}", HOSTILE_HINT) from None
    store = OciStore(str(ref), client)
    if manifest.get("artifactType") == MODEL_ARTIFACT or config_type == MODEL_CONFIG:
        return _pull_modelpack(store, _modelpack_layers(ref, layers), dest, digest)
    if layers and isinstance(layers[-1], dict) and layers[-1].get("mediaType") in TAR_LAYERS:
        # a modelcar: /models is in its last layer (the layers below are its base image's)
        return _pull_modelcar(store, _descriptor(ref, layers[-1]), dest, digest)
    raise StorageError(
        f"{ref} is neither a ModelPack artifact nor a modelcar image",
        "pull artifacts made by gitreg export oci",
    )


def _descriptor(ref: object, layer: Any) -> tuple[str, int]:
    digest, size = (layer.get("digest"), layer.get("size")) if isinstance(layer, dict) else (None, None)
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest) or type(size) is not int or size < 0:
        raise StorageError(f"{ref} has a layer without a sha256 digest and size", HOSTILE_HINT)
    return digest, size


def _modelpack_layers(ref: object, layers: Any) -> list[Layer]:
    if not isinstance(layers, list):
        raise StorageError(f"{ref}: its layers are not a list", HOSTILE_HINT)
    found = []
    for layer in layers:
        digest, size = _descriptor(ref, layer)
        path = (layer.get("annotations") or {}).get(FILEPATH)
        if not isinstance(path, str):
            raise StorageError(f"{ref}: layer {digest} has no {FILEPATH} annotation", HOSTILE_HINT)
        mode = _mode(layer)
        found.append(Layer(path, digest, size, bool(mode & 0o111)))
    found.sort(key=lambda layer: layer.path)
    problem = paths_problem(layer.path for layer in found)
    if problem is not None:
        raise UnsafePathError(f"cannot pull {ref}: {problem}", HOSTILE_HINT)
    return found


def _mode(layer: dict[str, Any]) -> int:
    try:
        meta = json.loads((layer.get("annotations") or {}).get("org.cncf.model.file.metadata+json", "{}"))
        mode = meta.get("mode", 0o644)
        return mode if type(mode) is int else 0o644
    except (ValueError, AttributeError):
        return 0o644


def _staging(dest: Path) -> Path:
    if dest.exists() or dest.is_symlink():
        raise ConflictError(f"{dest} already exists", "remove it or choose another destination")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name[:40]}.gitreg-"))
    except OSError as exc:
        raise StorageError(f"cannot write to {dest.parent}: {exc.strerror}") from None


def _pull_modelpack(store: OciStore, layers: list[Layer], dest: Path, digest: str) -> Pulled:
    tmp = _staging(dest)
    try:
        staged = tmp / "model"
        for layer in layers:
            target = staged / check_relative_path(layer.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            fetch_file(store, layer.digest, target, layer.size)
            if layer.executable:
                target.chmod(target.stat().st_mode | 0o111)
        staged.mkdir(exist_ok=True)
        staged.rename(dest)
    except OSError as exc:
        raise StorageError(f"cannot write to {dest}: {exc.strerror}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Pulled(dest, digest, len(layers), sum(layer.size for layer in layers))


def _pull_modelcar(store: OciStore, layer: tuple[str, int], dest: Path, digest: str) -> Pulled:
    tmp = _staging(dest)
    files = size = 0
    try:
        archive = tmp / "layer.tar"
        fetch_file(store, layer[0], archive, layer[1])  # verified before a member is read
        staged = tmp / "model"
        staged.mkdir()
        with tarfile.open(archive, mode="r:") as tar:
            members = tar.getmembers()
            regular = []
            for member in members:
                name = member.name.removeprefix("./").rstrip("/")
                if name == "models" and member.isdir():
                    continue
                if not name.startswith("models/") or not (member.isreg() or member.isdir()):
                    raise UnsafePathError(
                        f"cannot pull: the layer holds {name!r}, not a file under models/", HOSTILE_HINT
                    )
                check_relative_path(name.removeprefix("models/"))
                if member.isreg():
                    regular.append((name.removeprefix("models/"), member))
            problem = paths_problem(sorted(path for path, _ in regular))
            if problem is not None:
                raise UnsafePathError(f"cannot pull: {problem}", HOSTILE_HINT)
            for path, member in regular:
                target = staged / path
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:  # not a regular file after all
                    raise UnsafePathError(f"cannot pull: the layer's {path!r} is not a file", HOSTILE_HINT)
                with source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
                if member.mode & stat.S_IXUSR:
                    target.chmod(0o755)
                files += 1
                size += member.size
        staged.rename(dest)
    except (OSError, tarfile.TarError) as exc:
        raise StorageError(f"cannot unpack the modelcar layer into {dest}: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Pulled(dest, digest, files, size)


__all__ = ["Pulled", "pull_oci"]
