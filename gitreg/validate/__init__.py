"""The validator: schema and stage rules over one snapshot, and change rules against a base.

The same ``validate`` runs in the pre-commit hook (working tree), in CI (``--base`` the target branch) and
in the deployment controller (a fetched commit). With a base, per-file rules run only on the files that
changed and stage rules only on the entries a change can affect, so a one-file pull request costs about the
same in a registry of 100 versions as in one of 10,000."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitreg.layout import MODEL_PATH, STAGE_FILE, VERSION_FILE
from gitreg.manifest import ModelVersion
from gitreg.storage import BlobStore
from gitreg.validate.rules.change import (
    HeldBefore,
    changed_entries,
    check_base_rules,
    check_transitions,
    check_version_change,
    entries_to_judge,
)
from gitreg.validate.rules.files import check_file
from gitreg.validate.rules.stages import check_model_folder, check_stage_entries
from gitreg.validate.store import check_artifact
from gitreg.validate.view import Finding, View


@dataclass
class Base:
    """What a change is judged against: the base snapshot, the files changed since (path -> A/M/D/T), and a
    way to ask the base's history whether a stage held a version before (for rollbacks)."""

    view: View
    changes: dict[str, str]
    held_before: HeldBefore = field(default=lambda stage, model, version: False)
    #: False: only the snapshot rules, checked incrementally against a base known to pass them (the
    #: previous commit in a pre-commit hook, the last applied commit in the controller): the same verdict
    #: as a full run at the cost of the change.
    change_rules: bool = True


@dataclass
class Report:
    findings: list[Finding]
    files_checked: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


def validate(view: View, base: Base | None = None, store: BlobStore | None = None) -> Report:
    """Run every rule that applies; ``store`` (for --check-artifacts) is the only I/O beyond the snapshot."""
    files, folders, stage_checks = _scope(view, base)
    if len(files) > 50:
        view.snapshot.prefetch([f for f in files if f.endswith(".yaml")])
    findings = _config_findings(view, files)
    for path in files:
        findings += check_file(view, path)
    for folder in folders:
        if view.snapshot.listdir(f"models/{folder}"):
            findings += check_model_folder(view, folder)
    for stage, models in stage_checks.items():
        findings += check_stage_entries(view, stage, sorted(models))
    if base is not None and base.change_rules:
        for path, status in base.changes.items():
            findings += check_version_change(view, base.view, path, status)
        for stage in _changed_stages(base):
            findings += check_transitions(view, base.view, stage, base.held_before)
        for stage, judged in entries_to_judge(view, base.view, base.changes).items():
            findings += check_base_rules(view, base.view, stage, judged)
    if store is not None:
        for path in files:
            if VERSION_FILE.match(path) and (version := _version_at(view, path)) is not None:
                findings += check_artifact(view, path, version, store)
    return Report(sorted(set(findings)), len(files))


def _scope(view: View, base: Base | None) -> tuple[list[str], list[str], dict[str, set[str]]]:
    """(files for per-file rules, model folders, stage -> models whose entries to check): everything in a
    full run; what the change can affect with a base."""
    if base is None:
        return (
            view.snapshot.files(),
            view.model_folders(),
            {s: set(view.stage(s)) for s in view.stage_files()},
        )
    if "registry.yaml" in base.changes:
        # Stages, policies or limits changed: every file may now break a rule, so check them all.
        files = view.snapshot.files()
    else:
        files = [p for p, status in base.changes.items() if status != "D" and view.exists(p)]
    folders = sorted({m.group(1) for p in base.changes if (m := MODEL_PATH.match(p))})
    return files, folders, _affected_entries(view, base)


def _config_findings(view: View, files: list[str]) -> list[Finding]:
    if view.read("registry.yaml") is None:
        return [
            Finding(
                "registry.yaml", 0, 0, "config", "registry.yaml is missing: this is not a gitreg registry"
            )
        ]
    if "registry.yaml" not in files:
        view.config  # noqa: B018 - parse it so that its problems are reported even when it did not change
        return list(view.problems.get("registry.yaml", []))
    return []


def _version_at(view: View, path: str) -> ModelVersion | None:
    return view.parse(path, ModelVersion) if path.endswith(".yaml") else None


def _changed_stages(base: Base) -> list[str]:
    return sorted({m.group(1) for p, s in base.changes.items() if s != "D" and (m := STAGE_FILE.match(p))})


def _affected_entries(view: View, base: Base) -> dict[str, set[str]]:
    """(stage -> models) whose stage entries a change can affect: entries changed in a stage file, and every
    entry of a model whose version files or model.yaml changed; all entries if registry.yaml changed."""
    if "registry.yaml" in base.changes:
        return {s: set(view.stage(s)) for s in view.stage_files()}
    touched_models = {m.group(1) for p in base.changes if (m := MODEL_PATH.match(p))}
    affected: dict[str, set[str]] = {}
    for stage in view.stage_files():
        models = set()
        if f"stages/{stage}.yaml" in base.changes:
            models |= set(changed_entries(view, base.view, stage))
        if touched_models:
            models |= touched_models & set(view.stage(stage))
        if models:
            affected[stage] = models
    return affected


__all__ = ["Base", "Finding", "Report", "View", "validate"]
