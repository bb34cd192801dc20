"""Rules about a change against a base (a pull request against main): versions are immutable and never
deleted, new version numbers go up, and a version enters a stage only from the stage it requires (a
rollback to a version the stage held before is allowed).

Transitions and policies are judged by the rules on the base as well as the head's: a pull request that
relaxes registry.yaml or a model's policy cannot use the relaxed rule for a promotion in the same diff."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from gitreg.layout import VERSION_FILE, stage_path, version_path
from gitreg.validate.findings import Finding
from gitreg.validate.rules.stages import check_policy, policies
from gitreg.validate.view import View

if TYPE_CHECKING:
    from gitreg.manifest import ModelVersion

#: Fields of a version that may change once it is on the base branch.
MUTABLE_FIELDS = frozenset({"status", "tags", "description"})

#: Why a pull request that changes a rule is still judged by the rule as it was.
RULES_AT_BASE = "a change to the rules takes effect only after it is merged"

#: held_before(stage, model, version): whether the stage held that version at some commit of the base.
HeldBefore = Callable[[str, str, int], bool]


def check_version_change(view: View, base: View, path: str, status: str) -> list[Finding]:
    match = VERSION_FILE.match(path)
    if not match or not match.group(2).endswith(".yaml"):
        return []
    model = match.group(1)
    if status == "D":
        return [
            Finding(
                path,
                0,
                0,
                "version-removed",
                "a version file is never deleted or renamed once merged: set status: archived instead",
            )
        ]
    from gitreg.manifest import ModelVersion  # noqa: PLC0415 - the change rules compare the typed models

    new = view.parse(path, ModelVersion)
    if new is None:
        return []
    if status == "A":
        highest = max(base.version_numbers(model), default=0)
        same_as_base = base.read(path) == view.read(path)  # merged meanwhile: not new
        if new.version <= highest and not same_as_base:
            line, col = view.position(path, ("version",))
            return [
                Finding(
                    path,
                    line,
                    col,
                    "version-number",
                    f"new version {new.version} is not above {model}'s highest version {highest} on the base",
                )
            ]
        return []
    old = base.parse(path, ModelVersion)
    return [] if old is None else list(_immutable(view, path, old, new))


def _immutable(view: View, path: str, old: ModelVersion, new: ModelVersion) -> Iterator[Finding]:
    before = old.model_dump(by_alias=True)
    after = new.model_dump(by_alias=True)
    for field in after:
        if field in MUTABLE_FIELDS or before.get(field) == after.get(field):
            continue
        line, col = view.position(path, (field,))
        yield Finding(
            path,
            line,
            col,
            "immutable",
            f"{field} of {old.ref} changed after it was merged: only status, tags and description "
            "may change; register a new version instead",
        )


def changed_entries(view: View, base: View, stage: str) -> dict[str, int]:
    """Entries of ``stage`` that are new or point at another version than on the base."""
    old = base.stage(stage)
    return {model: number for model, number in view.stage(stage).items() if old.get(model) != number}


def check_transitions(view: View, base: View, stage: str, held_before: HeldBefore) -> list[Finding]:
    """Each entry new in ``stage`` was in the stages it requires on the base, by the head's requirements and
    by the base's: a pull request cannot drop a requirement and skip it at once."""
    config, base_config = view.config, base.config
    spec = config.stage(stage) if config else None
    if spec is None:
        return []  # an undeclared stage is reported by the file rule
    base_spec = base_config.stage(stage) if base_config else None
    base_requires = base_spec.requires if base_spec else []
    requires = [*spec.requires, *(r for r in base_requires if r not in spec.requires)]
    if not requires:
        return []
    findings = []
    path = stage_path(stage)
    for model, number in changed_entries(view, base, stage).items():
        missing = [r for r in requires if base.stage(r).get(model) != number]
        if missing and not held_before(stage, model, number):
            line, col = view.position(path, (model,))
            where = " and ".join(missing)
            why = ""
            if any(r not in spec.requires for r in missing):
                why = f", as registry.yaml at the base requires ({RULES_AT_BASE})"
            findings.append(
                Finding(
                    path,
                    line,
                    col,
                    "stage-transition",
                    f"{model}@{number} must be in {where} on the base before it enters {stage}{why}: "
                    f"promote it to {where} first",
                )
            )
    return findings


def entries_to_judge(view: View, base: View, changes: dict[str, str]) -> dict[str, list[str]]:
    """(stage -> models) whose entries a change brings under the base's rules: entries new or changed in a
    stage file, and entries whose version file changed (its description, say)."""
    found: dict[str, list[str]] = {}
    for stage in view.stage_files():
        changed = changed_entries(view, base, stage) if stage_path(stage) in changes else {}
        models = [
            model
            for model, number in view.stage(stage).items()
            if model in changed or version_path(model, number) in changes
        ]
        if models:
            found[stage] = sorted(models)
    return found


def check_base_rules(view: View, base: View, stage: str, models: list[str]) -> list[Finding]:
    """The entries of ``models`` in ``stage`` meet the stage's policies as they are on the base (the head's
    own policies are the snapshot rules'); a stage the base does not declare cannot be entered yet."""
    base_config = base.config
    if base_config is None:
        return []  # a base without a readable registry.yaml has no rules to hold a change to
    path = stage_path(stage)
    entries = view.stage(stage)
    findings = []
    for model in models:
        number = entries[model]
        line, col = view.position(path, (model,))
        if base_config.stage(stage) is None:
            if model in changed_entries(view, base, stage):
                findings.append(
                    Finding(
                        path,
                        line,
                        col,
                        "stage-undeclared",
                        f"{model}@{number} enters stage {stage!r}, which registry.yaml at the base does not "
                        f"declare: {RULES_AT_BASE}; add the stage first, then promote into it",
                    )
                )
            continue
        version = view.version(model, number)
        if version is None:
            continue  # the snapshot rules say why
        now = {
            f.message
            for _source, policy in policies(view, stage, model)
            for f in check_policy(path, line, col, stage, version, policy)
        }
        for source, policy in policies(base, stage, model):
            for finding in check_policy(path, line, col, stage, version, policy):
                if finding.message not in now:
                    message = (
                        f"{finding.message} in {source} at the base: {RULES_AT_BASE}; "
                        "merge the rule change first"
                    )
                    findings.append(replace(finding, message=message))
    return findings
