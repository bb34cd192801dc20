"""Synthetic registries of any size, for tests and benchmarks: valid manifests generated from a model's name
and index, so that a registry of 10,000 versions validates clean and reads back the same every time."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitreg.layout import model_path, stage_path, version_path
from gitreg.ops.init import init
from testing import git

_VERSION = """\
apiVersion: gitreg/v1
kind: ModelVersion
model: {model}
version: {version}
artifact:
  digest: sha256:{seed}
  size: {size}
  type: file
  name: model.onnx
  format: onnx
{framework}metrics:
  auc: {auc:.4f}
  f1: {f1:.4f}
{params}lineage:
  code:
    repo: https://git.example.com/ml/train
    commit: {commit}
    path: train.py
{parent}description: Version {version} of {model}
created_at: "2026-{month:02d}-{day:02d}T10:00:00Z"
created_by: Bench User <bench@example.com>
status: active
"""


def model_names(count: int, width: int = 4) -> list[str]:
    """``count`` names model-0000, model-0001, ...: zero-padded to at least ``width`` digits, so that they
    sort in the order they are numbered."""
    width = max(width, len(str(count - 1)))
    return [f"model-{i:0{width}d}" for i in range(count)]


def version_manifest(model: str, version: int, *, index: int, lean: bool = False, month: int = 11) -> str:
    """A valid ModelVersion of ``model`` (the ``index``-th model): digest and lineage commit derived from the
    name, ``auc >= 0.8``, a description and lineage.code.commit (what a production policy asks for), made in
    ``month`` of 2026. ``lean`` leaves out framework, params and lineage.parent."""
    seed = hashlib.sha256(f"{model}@{version}".encode()).hexdigest()
    return _VERSION.format(
        model=model,
        version=version,
        seed=seed,
        size=1_000_000 + index * 1000 + version,
        framework="" if lean else 'framework:\n  name: sklearn\n  version: "1.5.2"\n',
        auc=0.80 + (version % 10) / 100,
        f1=0.70 + (index % 10) / 100,
        params="" if lean else "params:\n  max_depth: 8\n  learning_rate: 0.1\n",
        commit=seed[:40],
        parent=f"  parent: {version - 1}\n" if version > 1 and not lean else "",
        month=month,
        day=1 + version % 28,
    )


def model_manifest(model: str, index: int, *, production_metrics: Mapping[str, str] | None = None) -> str:
    """The model.yaml of ``model``: owners, tags, and with ``production_metrics`` (e.g.
    ``{"auc": ">= 0.5"}``) a production policy on those metrics."""
    text = (
        f"apiVersion: gitreg/v1\nkind: Model\nname: {model}\ndescription: Synthetic model number {index}\n"
        'owners: ["@ml-team"]\ntags:\n  team: synthetic\n'
    )
    if production_metrics:
        text += "policy:\n  production:\n    metrics:\n"
        text += "".join(f'      {name}: "{rule}"\n' for name, rule in production_metrics.items())
    return text


def stage_manifest(entries: Mapping[str, int]) -> str:
    """A stage file: ``model: version`` lines, sorted by model."""
    return "".join(f"{model}: {number}\n" for model, number in sorted(entries.items()))


def registry_files(
    models: Sequence[str],
    versions: int,
    *,
    stages: Mapping[str, Mapping[str, int]] | None = None,
    lean: bool = False,
    month: int = 11,
    production_metrics: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """{relative path: text}: a model.yaml and versions 1..``versions`` of each of ``models``, and a stage
    file for each of ``stages`` ({stage: {model: version}}). Not registry.yaml: ``gitreg init`` writes it."""
    files: dict[str, str] = {}
    for index, model in enumerate(models):
        files[model_path(model)] = model_manifest(model, index, production_metrics=production_metrics)
        for version in range(1, versions + 1):
            files[version_path(model, version)] = version_manifest(
                model, version, index=index, lean=lean, month=month
            )
    for stage, entries in (stages or {}).items():
        files[stage_path(stage)] = stage_manifest(entries)
    return files


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write {relative path: content} below ``root``, creating folders as needed."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)


def commit_all(root: Path, message: str) -> str:
    """Stage everything in ``root``'s working tree, commit it (hooks skipped), return the commit's sha."""
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "--no-verify", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def make_registry(
    root: Path, store: Path, files: Mapping[str, str | bytes], message: str = "Generated"
) -> str:
    """``gitreg init ROOT`` with its local blob store in ``store``, then ``files`` (see
    :func:`registry_files`) committed in one commit on main; returns the sha of main."""
    init(root, store.as_uri())
    if not files:
        return git(root, "rev-parse", "HEAD").strip()
    write_files(root, files)
    return commit_all(root, message)


def staged_registry(path: Path, models: int, versions: int) -> list[str]:
    """A registry of ``models`` x ``versions``, committed, its blobs beside it (``<path>-blobs``); even models
    are in staging at their latest version and in production at the one before. Returns the model names."""
    names = model_names(models)
    stages = {
        "staging": dict.fromkeys(names[::2], versions),
        "production": dict.fromkeys(names[::2], max(1, versions - 1)),
    }
    make_registry(path, path.with_name(path.name + "-blobs"), registry_files(names, versions, stages=stages))
    return names
