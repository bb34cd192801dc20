"""Rules about a change against a base (a pull request against main): versions are immutable and never
deleted, new version numbers go up, and a version enters a stage only from the stage it requires (a
rollback to a version the stage held before is allowed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gitreg.manifest import ModelVersion
from gitreg.registry import stage_path
from gitreg.validate.view import VERSION_FILE, Finding, View

#: Fields of a version that may change once it is on the base branch.
MUTABLE_FIELDS = frozenset({"status", "tags", "description"})

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
    config = view.config
    spec = config.stage(stage) if config else None
    if spec is None or not spec.requires:
        return []
    findings = []
    path = stage_path(stage)
    for model, number in changed_entries(view, base, stage).items():
        missing = [r for r in spec.requires if base.stage(r).get(model) != number]
        if missing and not held_before(stage, model, number):
            line, col = view.position(path, (model,))
            where = " and ".join(missing)
            findings.append(
                Finding(
                    path,
                    line,
                    col,
                    "stage-transition",
                    f"{model}@{number} must be in {where} on the base before it enters {stage}: "
                    f"promote it to {where} first",
                )
            )
    return findings
