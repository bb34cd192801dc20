"""The files an import writes: a version manifest from an MLflow version, its run and its MLmodel file, and
a model.yaml from a registered model. What maps to what:

============================  ==========================================================================
MLflow                        gitreg
============================  ==========================================================================
version number                ``version`` (kept as it is)
creation_timestamp            ``created_at`` (UTC, to the millisecond)
user_id                       ``created_by``; where empty, the run's user; else the git identity
description, tags             ``description``, ``tags``
current_stage Archived        ``status: archived``
run metrics, params           ``metrics`` (finite numbers only), ``params`` (strings, as MLflow keeps them)
run tag mlflow.source.*       ``lineage.code``: git.repoURL -> repo, git.commit -> commit, name -> path
run id, link                  ``lineage.run``
MLmodel flavours, signature   ``framework``, ``signature``; ``artifact.format: mlflow``
registered model              model.yaml ``description``, ``tags`` (+ ``mlflow.name``: the MLflow name)
============================  ==========================================================================

A version whose run was deleted or purged in MLflow is imported with what is left, and its manifest says
so with the tag ``mlflow.run: deleted`` (or ``purged``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from gitreg import manifest, yamlio
from gitreg.credentials import redact
from gitreg.errors import GitregError
from gitreg.importers.mlflow.names import NAME_TAG
from gitreg.importers.mlflow.plan import NewVersion
from gitreg.importers.mlflow.source import SourceModel
from gitreg.importers.mlflow.transfer import Transferred, framework, signature
from gitreg.manifest import ModelInfo, ModelVersion

#: The manifest tag that says what happened to a version's run.
T = TypeVar("T", ModelVersion, ModelInfo)

RUN_TAG = "mlflow.run"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_REPO = "mlflow.source.git.repoURL"
SOURCE_NAME = "mlflow.source.name"


def created_at(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def version_manifest(version: NewVersion, stored: Transferred, identity: str) -> ModelVersion:
    mv = version.source
    run = mv.run
    tags = dict(mv.tags)
    if run is not None and run.gone:
        tags[RUN_TAG] = run.gone
    lineage: dict[str, Any] = {}
    if run is not None:
        code = {
            "repo": redact(run.tags[GIT_REPO]) if run.tags.get(GIT_REPO) else None,
            "commit": run.tags.get(GIT_COMMIT) or None,
            "path": run.tags.get(SOURCE_NAME) or None,
        }
        if any(code.values()):
            lineage["code"] = code
        lineage["run"] = {"id": run.id, "url": run.url}
    data = {
        "apiVersion": manifest.API_VERSION,
        "kind": "ModelVersion",
        "model": version.model,
        "version": mv.number,
        "artifact": {
            "digest": stored.artifact.digest,
            "size": stored.artifact.size,
            "type": stored.artifact.type,
            "name": stored.artifact.name,
            "format": "mlflow",
        },
        "framework": framework(stored.mlmodel),
        "metrics": {k: v for k, v in (run.metrics if run else {}).items() if _finite(v)},
        "params": dict(run.params) if run else {},
        "lineage": lineage,
        "signature": signature(stored.mlmodel),
        "tags": tags,
        "description": mv.description,
        "created_at": created_at(mv.created_ms),
        "created_by": mv.user_id or (run.user if run else "") or identity,
        "status": "archived" if version.archived else "active",
    }
    return _validated(ModelVersion, data, version.ref)


def dropped_metrics(version: NewVersion) -> list[str]:
    """Metrics of the run that a manifest cannot hold (NaN, infinities)."""
    run = version.source.run
    return sorted(k for k, v in (run.metrics if run else {}).items() if not _finite(v))


def model_info(model: SourceModel, name: str) -> bytes:
    data = {
        "apiVersion": manifest.API_VERSION,
        "kind": "Model",
        "name": name,
        "description": model.description,
        "tags": {**model.tags, NAME_TAG: model.name},
    }
    info = _validated(ModelInfo, data, name)
    return yamlio.dump(info.model_dump(mode="json", by_alias=True)).encode()


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _validated(cls: type[T], data: dict[str, Any], what: str) -> T:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GitregError(
            f"cannot import {what}: {where}: {first['msg']}", "fix the record in MLflow, or leave it out"
        ) from None


__all__ = ["RUN_TAG", "created_at", "dropped_metrics", "model_info", "version_manifest"]
