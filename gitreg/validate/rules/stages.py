"""Rules that span files: every model folder has its model.yaml; every stage entry names an existing,
active version that meets the stage's policy (registry.yaml's and the model's own)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING

from gitreg.layout import model_path, stage_path, version_path
from gitreg.records import threshold_holds
from gitreg.validate.findings import Finding
from gitreg.validate.view import View

if TYPE_CHECKING:  # the view gives records where it can: the models are the types the rules read
    from gitreg.manifest import ModelVersion, Policy


def check_model_folder(view: View, folder: str) -> list[Finding]:
    path = model_path(folder)
    if view.exists(path):
        return []
    return [
        Finding(
            f"models/{folder}",
            0,
            0,
            "missing-model-file",
            f"model folder has no model.yaml: add {path} (gitreg register writes it for a new model)",
        )
    ]


def check_stage_entries(
    view: View, stage: str, models: Iterable[str], checked: Collection[str] = ()
) -> list[Finding]:
    """Check the entries of ``stage`` for ``models`` (all of the stage's entries in a full run). ``checked``:
    the files whose own findings the same report holds (an entry naming a version file that is not valid
    is reported here only when its file's findings are not there: a change that leaves the file alone)."""
    config = view.config
    if config is None or config.stage(stage) is None:
        return []  # an undeclared stage is reported by the file rule; its entries mean nothing
    entries = view.stage(stage)
    findings: list[Finding] = []
    for model in models:
        if model in entries:
            findings += _entry(view, stage, model, entries[model], checked)
    return findings


def _entry(view: View, stage: str, model: str, number: int, checked: Collection[str]) -> Iterator[Finding]:
    path = stage_path(stage)
    line, col = view.position(path, (model,))
    if not view.exists(model_path(model)) and not view.version_numbers(model):
        yield Finding(path, line, col, "stage-entry", f"model {model!r} is not in the registry")
        return
    if not view.exists(version_path(model, number)):
        yield Finding(path, line, col, "stage-entry", f"{model}@{number} does not exist")
        return
    version = view.version(model, number)
    if version is None:  # the version file's own findings say why, if this report holds them
        where = version_path(model, number)
        if where not in checked:
            message = f"{model}@{number} is not a valid version: {where} fails validation"
            yield Finding(path, line, col, "stage-entry", f"{message} (gitreg validate says why)")
        return
    if version.status == "archived":
        yield Finding(
            path,
            line,
            col,
            "stage-archived",
            f"{model}@{number} is archived: restore it, or remove it from {stage}",
        )
    for _source, policy in policies(view, stage, model):
        yield from check_policy(path, line, col, stage, version, policy)


def policies(view: View, stage: str, model: str) -> list[tuple[str, Policy]]:
    """(file it comes from, policy) of every policy ``model``'s versions meet to be in ``stage``."""
    config = view.config
    spec = config.stage(stage) if config else None
    found = [("registry.yaml", spec.policy)] if spec else []
    info = view.model(model)
    if info is not None and stage in info.policy:
        found.append((model_path(model), info.policy[stage]))
    return found


def check_policy(
    path: str, line: int, col: int, stage: str, version: ModelVersion, policy: Policy
) -> Iterator[Finding]:
    for field in policy.fields:
        value = version.field_value(field)
        if value is None or value in ("", [], {}):
            yield Finding(
                path,
                line,
                col,
                "policy-field",
                f"{version.ref} has no {field}, which stage {stage!r} requires",
            )
    for metric, threshold in policy.metrics.items():
        value = version.metrics.get(metric)
        if value is None:
            yield Finding(
                path,
                line,
                col,
                "policy-metric",
                f"{version.ref} has no metric {metric!r}; stage {stage!r} requires {metric} {threshold}",
            )
        elif not threshold_holds(threshold, value):
            yield Finding(
                path,
                line,
                col,
                "policy-metric",
                f"{version.ref} has {metric}={value}; stage {stage!r} requires {metric} {threshold}",
            )
