"""``gitreg retire``: the stale versions of a retention policy (``gitreg.retention``), read at the base
(origin/main, fetched), archived together on one branch through the normal proposal path, validated as CI
will validate it, with a pull-request body listing each version, its age, its size and why it is stale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gitreg import yamledit
from gitreg.durations import parse_time
from gitreg.errors import GitregError, ManifestError, RefusedError
from gitreg.gitrepo import GitRepo
from gitreg.layout import REGISTRY_FILE, model_path, version_path
from gitreg.ops.promote import base_registry, check
from gitreg.ops.propose import BaseRef, Change
from gitreg.registry import Registry
from gitreg.retention import Policy, RetirementPlan, VersionFacts, effective, holdings, plan
from gitreg.stage_history import stage_log, stage_steps
from gitreg.validate.rules.retention import check_retention
from gitreg.validate.view import Finding, View


@dataclass
class Retirement:
    """The plan at the base, and the change that carries it out (None when nothing is stale)."""

    base: BaseRef
    plan: RetirementPlan
    change: Change | None


def policies(registry: Registry, models: list[str], lenient: bool = False) -> dict[str, Policy | None]:
    """Each model's effective policy; a policy that is not valid (a bad period, keep_last below 1, a
    protected stage that is not declared) is refused with the validator's words, before anything is read.

    ``lenient`` (gc, usage): a model.yaml that cannot be read or whose policy is not valid gives its model
    no policy (nothing of it expires), and registry.yaml is parsed only if it has a policy, so that a
    problem elsewhere in the registry does not stop gc from doing what it did without a policy."""
    from gitreg import manifest  # noqa: PLC0415 - the typed models check the policy as the validator does

    doc = registry.document(REGISTRY_FILE)
    own = doc is not None and isinstance(doc.data, dict) and doc.data.get("retention") is not None
    registry_policy = None
    findings: list[Finding] = []
    view = View(registry.snapshot)
    if own or not lenient:
        config = registry.config
        registry_policy = config.retention
        findings += check_retention(view, REGISTRY_FILE, config)
    found: dict[str, Policy | None] = {}
    for name in models:
        try:
            model_doc = registry.document(model_path(name))
            data = model_doc.data if model_doc is not None else None
            info = None
            if model_doc is not None and isinstance(data, dict) and data.get("retention") is not None:
                info = manifest.parse(manifest.ModelInfo, model_doc)
        except ManifestError:
            if not lenient:
                raise
            found[name] = None
            continue
        if info is not None:
            problems = list(check_retention(view, model_path(name), info))
            if problems and lenient:
                found[name] = None
                continue
            findings += problems
        found[name] = effective(registry_policy, info.retention if info is not None else None)
    if findings:
        raise RefusedError(findings)
    return found


def plan_retirement(
    repo: GitRepo, base: BaseRef, model: str | None = None, now: datetime | None = None
) -> RetirementPlan:
    """The stale set at ``base``: its versions, its stage files, and its first-parent stage history."""
    registry = base_registry(repo, base)
    if model is not None:
        registry.model_record(model)  # refuses an unknown model
    names = [model] if model is not None else registry.model_names()
    registry.snapshot.prefetch([model_path(name) for name in names])
    found = policies(registry, names)
    governed = [name for name in names if found.get(name) is not None]
    numbers = {name: registry.version_numbers(name) for name in governed}
    registry.snapshot.prefetch([version_path(name, n) for name in governed for n in numbers[name]])
    versions = []
    for name in governed:
        for record in (registry.version_record(name, n) for n in numbers[name]):
            versions.append(
                VersionFacts(
                    name,
                    record.version,
                    parse_time(record.created_at),
                    record.status,
                    record.artifact.size,
                    record.lineage.parent,
                )
            )
    current = {stage: registry.reader.stage_map(stage) for stage in registry.reader.stage_files()}
    steps = stage_steps(repo, reversed(list(stage_log(repo, base.commit))))
    return plan(versions, found, current, holdings(steps), now or datetime.now(UTC))


def retirement(
    repo: GitRepo,
    base: BaseRef,
    model: str | None = None,
    now: datetime | None = None,
    branch: str | None = None,
) -> Retirement:
    """The plan, and the change archiving every stale version, checked by the validator."""
    found = plan_retirement(repo, base, model, now)
    if not found.stale:
        return Retirement(base, found, None)
    registry = base_registry(repo, base)
    held = {
        (name, number)
        for stage in registry.reader.stage_files()
        for name, number in registry.reader.stage_map(stage).items()
    }
    files: dict[str, bytes | None] = {}
    for verdict in found.stale:
        if (verdict.model, verdict.version) in held:  # pragma: no cover - excluded by construction
            raise GitregError(f"{verdict.ref} is in a stage: retire refuses to archive it")
        path = version_path(verdict.model, verdict.version)
        text = (registry.snapshot.read(path) or b"").decode()
        files[path] = yamledit.set_entry(text, "status", "archived").encode()
    check(repo, base, files)
    day = found.now.strftime("%Y-%m-%d")
    what = f"stale {'version' if len(found.stale) == 1 else 'versions'}" + (f" of {model}" if model else "")
    change = Change(
        branch=branch or f"gitreg/retire/{model + '-' if model else ''}{day}",
        files=files,
        subject=f"Retire {len(found.stale)} {what}",
        trailers={"Gitreg-Action": "retire", "Gitreg-Retired": str(len(found.stale))},
        body="\n".join(f"- {v.ref}: {v.reason}" for v in found.stale),
        pr_body=pr_body(found, base),
    )
    return Retirement(base, found, change)


def pr_body(found: RetirementPlan, base: BaseRef) -> str:
    """Markdown: each version, its age, its size and why it is stale."""
    lines = [
        f"This pull request archives {len(found.stale)} stale "
        f"{'version' if len(found.stale) == 1 else 'versions'} by the retention policy on "
        f"`{base.label}` ({found.bytes} bytes recorded). Their manifests stay; `gitreg restore` brings one "
        "back.",
        "",
        "| version | age | size | why it is stale |",
        "|---|---|---|---|",
    ]
    for v in found.stale:
        age = f"{v.age_days}d" if v.age_days is not None else "?"
        lines.append(f"| `{v.ref}` | {age} | {v.size} bytes | {v.reason} |")
    lines.append("")
    return "\n".join(lines)


__all__ = ["Retirement", "plan_retirement", "policies", "pr_body", "retirement"]
