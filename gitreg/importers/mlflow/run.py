"""An import from MLflow, start to end: plan (``plan.make_plan``), store every new version's artifact
(``transfer``), write the manifests, model.yaml files and stage files, run the validator on the result as CI
will, and only then commit: on the current branch, or proposed on a new ``--branch`` by the path every
proposal takes (``ops.propose``). Blobs go first and the commit last, so an import killed at any point has
committed nothing, and the next run plans it again from what the registry holds.

A stage change the validator refuses (production requires staging first, a policy the version does not
meet) is held back and reported with the validator's words; the versions are imported all the same. Any
other finding refuses the whole import."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitreg import yamlio
from gitreg.errors import RefusedError, UsageError
from gitreg.gitrepo import GitRepo
from gitreg.importers.mlflow.manifests import dropped_metrics, model_info, version_manifest
from gitreg.importers.mlflow.plan import Plan, StageChange, make_plan, parse_stage_map
from gitreg.importers.mlflow.source import Source
from gitreg.importers.mlflow.transfer import transfer_all
from gitreg.layout import DEFAULT_BRANCH, model_path, stage_path, version_path
from gitreg.ops.promote import check
from gitreg.ops.propose import (
    BaseRef,
    Change,
    Proposed,
    check_worktree,
    checkout,
    commit_target,
    propose,
    refuse_existing,
)
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot
from gitreg.yamledit import set_entry


@dataclass
class ImportRequest:
    tracking_uri: str
    models: list[str] = field(default_factory=list)
    stage_map: list[str] = field(default_factory=list)
    branch: str | None = None
    push: bool = False
    open_pr: bool = False
    forge: str | None = None
    dry_run: bool = False


@dataclass
class ImportResult:
    plan: Plan
    imported: list[str] = field(default_factory=list)  # MODEL@V
    stages: list[StageChange] = field(default_factory=list)  # applied
    held: list[str] = field(default_factory=list)  # stage changes the validator refused, and why
    commit: str | None = None
    branch: str | None = None
    proposed: Proposed | None = None


def import_mlflow(registry: Registry, request: ImportRequest) -> ImportResult:
    repo = checkout(registry, "importing")
    branch, parent, proposing = _target(repo, request)
    base = Registry(CommitSnapshot(repo, parent), repo, registry.workdir)
    stage_map = parse_stage_map(request.stage_map, base)
    with Source(request.tracking_uri) as source:
        plan = make_plan(source, base, request.models, stage_map)
        result = ImportResult(plan, branch=branch)
        if request.dry_run or plan.empty:
            return result
        files: dict[str, bytes | None] = {}
        for model in plan.models:
            if model.new and any(v.model == model.name for v in plan.versions):
                files[model_path(model.name)] = model_info(model.source, model.name)
        paths = [*files, *(version_path(v.model, v.source.number) for v in plan.versions)]
        paths += [stage_path(s.stage) for s in plan.stages]
        if not proposing:
            check_worktree(repo, branch, parent, paths)
        identity = str(repo.identity())
        for version, stored in zip(
            plan.versions, transfer_all(source, registry.store, plan.versions), strict=True
        ):
            manifest = version_manifest(version, stored, identity)
            files[version_path(version.model, version.source.number)] = yamlio.dump(
                manifest.to_yaml_data()
            ).encode()
            result.imported.append(version.ref)
            dropped = dropped_metrics(version)
            if dropped:
                plan.notes.append(f"{version.ref}: metrics that are not finite numbers left out: {dropped}")
    base_ref = BaseRef(parent, repo.current_branch() or DEFAULT_BRANCH, branch)
    result.stages, result.held = _stage_files(repo, base_ref, base, plan.stages, files)
    if not result.imported and not result.stages:
        return result
    message = _message(result)
    if proposing:
        change = Change(branch, files, message[0], {"Gitreg-Import": "mlflow"}, message[1], message[1])
        result.proposed = propose(
            repo, change, base_ref, push=request.push, open_pr=request.open_pr, forge_name=request.forge
        )
        result.commit = result.proposed.commit
    else:
        text = Change("", {}, message[0], {"Gitreg-Import": "mlflow"}, message[1]).message
        result.commit = repo.commit_files(files, text, branch, parent)
    return result


def _target(repo: GitRepo, request: ImportRequest) -> tuple[str, str, bool]:
    """(branch, its commit, whether it is a new branch to propose)."""
    if request.branch is None and (request.push or request.open_pr):
        raise UsageError("--push and --open-pr go with --branch NEW, the branch that proposes the import")
    if request.branch is not None:
        refuse_existing(repo, request.branch)
    branch, parent = commit_target(repo, request.branch)
    return branch, parent, request.branch is not None


def _stage_files(
    repo: GitRepo,
    base_ref: BaseRef,
    base: Registry,
    changes: list[StageChange],
    files: dict[str, bytes | None],
) -> tuple[list[StageChange], list[str]]:
    """Write the stage changes into ``files`` and validate everything as CI will; stage changes the
    validator refuses are taken out again (and reported), then the rest is validated once more."""
    applied = list(changes)
    held: list[str] = []
    while True:
        candidate = dict(files)
        for stage in sorted({c.stage for c in applied}):
            text = (base.snapshot.read(stage_path(stage)) or b"").decode()
            for change in (c for c in applied if c.stage == stage):
                text = set_entry(text, change.model, change.version)
            candidate[stage_path(stage)] = text.encode()
        try:
            check(repo, base_ref, candidate)
        except RefusedError as exc:
            refused = _refused_changes(applied, exc)
            if not refused:
                raise
            for change, reason in refused:
                applied.remove(change)
                held.append(f"{change.model}@{change.version} to {change.stage} ({change.why}): {reason}")
            continue
        files.clear()
        files.update(candidate)
        return applied, held


def _refused_changes(applied: list[StageChange], exc: RefusedError) -> list[tuple[StageChange, str]]:
    """The stage changes the findings are about; empty if any finding is about something else."""
    found: list[tuple[StageChange, str]] = []
    for finding in exc.findings:
        change = next(
            (
                c
                for c in applied
                if finding.path == stage_path(c.stage) and f"{c.model}@{c.version} " in finding.message + " "
            ),
            None,
        )
        if change is None:
            return []
        if all(c is not change for c, _ in found):
            found.append((change, f"{finding.rule}: {finding.message}"))
    return found


def _message(result: ImportResult) -> tuple[str, str]:
    """(subject, body) of the import's commit."""
    models = sorted({ref.partition("@")[0] for ref in result.imported})
    if result.imported:
        subject = f"Import {len(result.imported)} version(s) of {len(models)} model(s) from MLflow"
    else:
        subject = f"Import {len(result.stages)} stage change(s) from MLflow"
    lines = [f"- {ref}" for ref in result.imported]
    lines += [
        f"- {c.stage}: {c.model} {c.previous or '(none)'} -> {c.version} ({c.why})" for c in result.stages
    ]
    return subject, "\n".join(lines)


__all__ = ["ImportRequest", "ImportResult", "import_mlflow"]
