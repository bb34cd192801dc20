"""The validator: schema and stage rules over one snapshot, and change rules against a base.

The same ``validate`` runs in the pre-commit hook (working tree), in CI (``--base`` the target branch) and
in the deployment controller (a fetched commit). With a base, per-file rules run only on the files that
changed and stage rules only on the entries a change can affect, so a one-file pull request costs about the
same in a registry of 100 versions as in one of 10,000."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import assert_never

from gitreg.layout import MODEL_PATH, REGISTRY_FILE, STAGE_FILE, stage_path
from gitreg.validate.catalogue import RULES, Rule, Scope, scopes
from gitreg.validate.findings import Finding
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
from gitreg.validate.view import View

#: A rule over one file of the snapshot: (view, path) -> findings. ``validate`` takes extra ones from its
#: caller (the blob store check of ``--check-artifacts``, see ``gitreg.validate.store``).
FileRule = Callable[[View, str], list[Finding]]


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


@dataclass
class Targets:
    """What one run checks, by scope (see ``gitreg.validate.catalogue.SCOPES``)."""

    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    entries: dict[str, set[str]] = field(default_factory=dict)
    registry: bool = False


def validate(view: View, base: Base | None = None, extra: Sequence[FileRule] = ()) -> Report:
    """Run every rule that applies. ``extra`` rules run over the same files as the file rules: the caller
    hands in those that need more than the snapshot (the blob store)."""
    with _no_cyclic_collection():
        return _validate(view, base, extra)


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """Loading thousands of files allocates millions of small containers that all stay alive (the view
    keeps them) and form no cycles: the cyclic collector would walk the growing heap again and again for
    nothing (about a tenth of a full run at 10,000 versions). It is off while the rules run; after, one
    young collection (everything allocated meanwhile is young: about a millisecond) frees what cycles the
    run did leave, so that none waits for the interpreter's exit (where a destructor may fail)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


def _validate(view: View, base: Base | None, extra: Sequence[FileRule]) -> Report:
    targets = _scope(view, base)
    files = targets.files
    if len(files) > 50:
        view.snapshot.prefetch([f for f in files if f.endswith(".yaml")])
    findings = check_config(view, files) if targets.registry else []
    for path in files:
        findings += check_file(view, path)
        for extra_rule in extra:
            findings += extra_rule(view, path)
    for folder in targets.folders:
        if view.snapshot.listdir(f"models/{folder}"):
            findings += check_model_folder(view, folder)
    for stage, models in targets.entries.items():
        findings += check_stage_entries(view, stage, sorted(models), files)
    if base is not None and base.change_rules:
        for path, status in base.changes.items():
            findings += check_version_change(view, base.view, path, status)
        for stage in _changed_stages(base):
            findings += check_transitions(view, base.view, stage, base.held_before)
        for stage, judged in entries_to_judge(view, base.view, base.changes).items():
            findings += check_base_rules(view, base.view, stage, judged)
    return Report(sorted(set(findings)), len(files))


def _scope(view: View, base: Base | None) -> Targets:
    """What to check, for each scope the catalogue's snapshot rules have: everything in a full run; what
    the change can affect with a base."""
    targets = Targets()
    for scope in sorted(scopes("file", "cross-file")):
        _add_targets(targets, scope, view, base)
    return targets


def _add_targets(targets: Targets, scope: Scope, view: View, base: Base | None) -> None:
    """The targets of ``scope``: all of them without a base, else those the change can affect. A change
    to registry.yaml (stages, policies, limits) can break any file or stage entry, so it re-checks them
    all; whether a model folder has its model.yaml does not depend on it."""
    config_changed = base is not None and REGISTRY_FILE in base.changes
    if scope == "file":
        if base is None or config_changed:
            targets.files = view.snapshot.files()
        else:
            targets.files = [p for p, s in base.changes.items() if s != "D" and view.exists(p)]
    elif scope == "model-folder":
        if base is None:
            targets.folders = view.model_folders()
        else:
            targets.folders = sorted({m.group(1) for p in base.changes if (m := MODEL_PATH.match(p))})
    elif scope == "stage-entry":
        if base is None or config_changed:
            targets.entries = {s: set(view.stage(s)) for s in view.stage_files()}
        else:
            targets.entries = _affected_entries(view, base)
    elif scope == "registry":
        targets.registry = True
    else:
        assert_never(scope)


def check_config(view: View, files: list[str]) -> list[Finding]:
    """registry.yaml is there; its own problems are reported even when it is not among ``files``."""
    if view.read(REGISTRY_FILE) is None:
        return [
            Finding(REGISTRY_FILE, 0, 0, "config", "registry.yaml is missing: this is not a gitreg registry")
        ]
    if REGISTRY_FILE not in files:
        view.config  # noqa: B018 - parse it so that its problems are reported even when it did not change
        return list(view.problems.get(REGISTRY_FILE, []))
    return []


def _changed_stages(base: Base) -> list[str]:
    return sorted({m.group(1) for p, s in base.changes.items() if s != "D" and (m := STAGE_FILE.match(p))})


def _affected_entries(view: View, base: Base) -> dict[str, set[str]]:
    """(stage -> models) whose stage entries a change can affect: entries changed in a stage file, and every
    entry of a model whose version files or model.yaml changed."""
    touched_models = {m.group(1) for p in base.changes if (m := MODEL_PATH.match(p))}
    affected: dict[str, set[str]] = {}
    for stage in view.stage_files():
        models = set()
        if stage_path(stage) in base.changes:
            models |= set(changed_entries(view, base.view, stage))
        if touched_models:
            models |= touched_models & set(view.stage(stage))
        if models:
            affected[stage] = models
    return affected


__all__ = ["RULES", "Base", "FileRule", "Finding", "Report", "Rule", "View", "validate"]
