"""Moving a version's artifact folder from MLflow into the blob store, as a tree artifact (see
gitreg.storage.artifact): each file is downloaded by MLflow's client into a private temporary folder
(streamed to disk, never held in memory), checked against the size MLflow lists, stored under the SHA-256 of
the bytes MLflow served (the store hashes as it copies), and removed; the tree listing is stored last, once
every file it names is stored. A failure anywhere stores no listing, so nothing half-imported is named by a
manifest; the files already stored are content-addressed and harmless (``gitreg gc`` collects them).

The version's MLmodel file is read on the way (it is small): its flavours and signature go to the manifest."""

from __future__ import annotations

import contextvars
import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg import yamlio
from gitreg.errors import GitregError, ManifestError, StorageError, UnsafePathError
from gitreg.filesystem import paths_problem
from gitreg.importers.mlflow.plan import NewVersion
from gitreg.importers.mlflow.source import Source, SourceFile
from gitreg.storage import BlobStore, progress
from gitreg.storage import artifact as artifacts

#: The name of an imported artifact folder (MLflow's model directory).
ARTIFACT_NAME = "model"
#: Files downloaded at once (each a request to the server, most of a model folder is small files).
WORKERS = 4
#: Versions transferred at once.
VERSION_WORKERS = 4
MLMODEL = "MLmodel"
MAX_MLMODEL = 1024 * 1024


@dataclass(frozen=True)
class Transferred:
    artifact: artifacts.StoredArtifact
    mlmodel: dict[str, Any] | None  # the parsed MLmodel file, if the folder has one


def transfer_all(source: Source, store: BlobStore, versions: list[NewVersion]) -> list[Transferred]:
    """``transfer`` each version, a few at a time (most model folders are a few small files, each a round
    trip to the server), in order; the first failure is the one raised."""
    with ThreadPoolExecutor(max_workers=VERSION_WORKERS) as pool:
        # each task runs in a copy of this context: the progress reporter is a context variable
        futures = [pool.submit(contextvars.copy_context().run, transfer, source, store, v) for v in versions]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # those not started; the running ones end before the pool closes
            raise


def transfer(source: Source, store: BlobStore, version: NewVersion) -> Transferred:
    """Store ``version``'s files and its tree listing; what the manifest records about them."""
    problem = paths_problem(f.path for f in version.files)
    if problem is not None:
        raise UnsafePathError(
            f"cannot import {version.ref}: {problem}", "rename the file in MLflow, or leave the model out"
        )
    mlmodel: list[dict[str, Any] | None] = [None]
    folder = Path(tempfile.mkdtemp(prefix="gitreg-mlflow-"))
    try:
        with progress.meter(version.size, f"importing {version.ref}") as update:

            def one(file: SourceFile) -> artifacts.TreeEntry:
                entry, parsed = _transfer_file(source, store, version, file, folder)
                if parsed is not None:
                    mlmodel[0] = parsed
                update(file.size or 0)
                return entry

            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                entries = list(pool.map(one, version.files))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    blob = store.put_bytes(artifacts.tree_listing(entries))
    stored = artifacts.StoredArtifact(blob.digest, sum(e.size for e in entries), "tree", ARTIFACT_NAME)
    return Transferred(stored, mlmodel[0])


def _transfer_file(
    source: Source, store: BlobStore, version: NewVersion, file: SourceFile, folder: Path
) -> tuple[artifacts.TreeEntry, dict[str, Any] | None]:
    where = Path(tempfile.mkdtemp(dir=folder))
    try:
        local = source.download(version.source.model, version.source.number, file.path, where)
        try:
            size = local.stat().st_size
            executable = bool(local.stat().st_mode & 0o111)
        except OSError as exc:
            raise StorageError(f"cannot read the download of {file.path}: {exc.strerror}") from None
        if file.size is not None and size != file.size:
            raise GitregError(
                f"{version.ref}: MLflow listed {file.path} as {file.size} bytes and served {size}",
                "the download was cut short or the file changed; run the import again",
            )
        parsed = _mlmodel(local, version.ref) if file.path == MLMODEL else None
        blob = store.put_file(local)
        return artifacts.TreeEntry(file.path, blob.size, blob.digest, executable), parsed
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _mlmodel(path: Path, ref: str) -> dict[str, Any] | None:
    if path.stat().st_size > MAX_MLMODEL:
        return None
    try:
        data = yamlio.load(path.read_text(encoding="utf-8"), f"{ref}:{MLMODEL}").data
    except (ManifestError, UnicodeDecodeError, OSError):
        return None
    return data if isinstance(data, dict) else None


def framework(mlmodel: dict[str, Any] | None) -> dict[str, str | None] | None:
    """The model's framework from its MLmodel flavours: the first one that is not ``python_function`` (or
    that one, alone), with the version the flavour records (``sklearn_version``, ``pytorch_version``...)."""
    flavors = mlmodel.get("flavors") if mlmodel else None
    if not isinstance(flavors, dict) or not flavors:
        return None
    names = [str(n) for n in flavors if n != "python_function"] or ["python_function"]
    name = names[0]
    details = flavors.get(name)
    version = None
    if isinstance(details, dict):
        found = details.get(f"{name}_version") or next(
            (v for k, v in details.items() if str(k).endswith("_version") and k != "python_version"), None
        )
        if name == "python_function":
            found = details.get("python_version")
        version = None if found is None else str(found)
    return {"name": name, "version": version}


def signature(mlmodel: dict[str, Any] | None) -> dict[str, Any] | None:
    """The MLmodel's signature with its JSON strings (inputs, outputs, params) parsed."""
    raw = mlmodel.get("signature") if mlmodel else None
    if not isinstance(raw, dict):
        return None
    found: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if isinstance(value, str):
            try:
                found[str(key)] = json.loads(value)
            except ValueError:
                found[str(key)] = value
        else:
            found[str(key)] = value
    return found or None


__all__ = ["ARTIFACT_NAME", "Transferred", "framework", "signature", "transfer"]
