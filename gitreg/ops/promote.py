"""Promotion, rollback, archive and restore: each a small change proposed on a branch (see proposal.py),
refused early, with the validator's own words, when the validator would refuse it in CI."""

from __future__ import annotations

from dataclasses import dataclass

from gitreg import yamledit
from gitreg.errors import NotFoundError, RefusedError, UsageError
from gitreg.gitrepo import GitRepo
from gitreg.layout import stage_path, version_path
from gitreg.manifest import ModelVersion
from gitreg.ops.propose import BaseRef, Change, Proposed, propose, trailers
from gitreg.registry import Ref, Registry
from gitreg.snapshot import CommitSnapshot, OverlaySnapshot
from gitreg.stage_history import held_versions
from gitreg.validate import validate
from gitreg.validate.runner import base_at
from gitreg.validate.view import View


@dataclass
class Planned:
    """A change ready to propose, and what it is about (for the pull request and the output)."""

    change: Change
    model: str
    version: int
    stage: str | None = None
    previous: int | None = None


def deliver_plan(
    repo: GitRepo,
    base: BaseRef,
    planned: Planned,
    *,
    message: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    forge_name: str | None = None,
) -> Proposed:
    """Propose a planned change (its subject replaced by ``message``, if given): its new branch, pushed
    and opened as a pull request if asked."""
    if message:
        planned.change.subject = message
    return propose(repo, planned.change, base, push=push, open_pr=open_pr, forge_name=forge_name)


def base_registry(repo: GitRepo, base: BaseRef) -> Registry:
    return Registry(CommitSnapshot(repo, base.commit), repo, repo.workdir)


def check(repo: GitRepo, base: BaseRef, files: dict[str, bytes | None]) -> None:
    """Run the validator on the base with ``files`` changed, as CI will on the pull request."""
    below = CommitSnapshot(repo, base.commit)
    changes = {p: ("D" if d is None else "M" if below.read(p) is not None else "A") for p, d in files.items()}
    report = validate(View(OverlaySnapshot(below, files)), base_at(repo, base.commit, changes))
    if report.errors:
        raise RefusedError(report.errors)


def plan_promotion(repo: GitRepo, base: BaseRef, ref: str, stage: str, branch: str | None = None) -> Planned:
    registry = base_registry(repo, base)
    current = registry.stage(stage)  # refuses an undeclared stage
    parsed = Ref.parse(ref)
    if parsed.version is None:
        raise UsageError(f"{ref!r}: promote a version, such as {parsed.model}@3")
    version = _resolve_on_base(repo, base, registry, parsed)
    previous = current.get(version.model)
    if previous == version.version:
        raise UsageError(f"{version.ref} is already in {stage} on {base.label}")
    if version.status == "archived":
        raise UsageError(f"{version.ref} is archived", f"restore it first: gitreg restore {version.ref}")
    files: dict[str, bytes | None] = {
        stage_path(stage): _stage_text(registry, stage, version.model, version.version)
    }
    check(repo, base, files)
    frm = f" (from {previous})" if previous else ""
    change = Change(
        branch=branch or f"gitreg/promote/{version.model}-{version.version}-{stage}",
        files=files,
        subject=f"Promote {version.ref} to {stage}{frm}",
        trailers=trailers(version.model, version.version, stage=stage, from_version=str(previous or "none")),
        pr_body=pr_body(registry, version, stage, previous, "promotes"),
    )
    return Planned(change, version.model, version.version, stage, previous)


def plan_rollback(
    repo: GitRepo, base: BaseRef, model: str, stage: str, to: int | None = None, branch: str | None = None
) -> Planned:
    registry = base_registry(repo, base)
    current = registry.stage(stage).get(model)
    registry.model(model)
    held = held_versions(repo, base.commit, stage, model)
    if to is None:
        earlier = [v for v in held if v != current]
        if not earlier:
            raise NotFoundError(
                f"{stage} never held another version of {model}: there is nothing to roll back to"
            )
        to = earlier[0]
    elif to not in held:
        raise NotFoundError(
            f"{stage} never held {model}@{to}",
            f"it held {', '.join(map(str, sorted(set(held))))}" if held else None,
        )
    if to == current:
        raise UsageError(f"{model}@{to} is what {stage} holds now")
    version = registry.version(model, to)
    if version.status == "archived":
        raise UsageError(f"{version.ref} is archived", f"restore it first: gitreg restore {version.ref}")
    files: dict[str, bytes | None] = {stage_path(stage): _stage_text(registry, stage, model, to)}
    check(repo, base, files)
    frm = f" (from {current})" if current else ""
    change = Change(
        branch=branch or f"gitreg/rollback/{model}-{to}-{stage}",
        files=files,
        subject=f"Roll back {model} in {stage} to {to}{frm}",
        trailers=trailers(model, to, stage=stage, from_version=str(current or "none"), rollback="true"),
        pr_body=pr_body(registry, version, stage, current, "rolls back"),
    )
    return Planned(change, model, to, stage, current)


def plan_status(
    repo: GitRepo, base: BaseRef, ref: str, status: str, unstage: bool = False, branch: str | None = None
) -> Planned:
    """Archive (``status="archived"``) or restore (``"active"``) a version."""
    registry = base_registry(repo, base)
    parsed = Ref.parse(ref)
    if parsed.version is None:
        raise UsageError(f"{ref!r}: name a version, such as {parsed.model}@3")
    version = registry.resolve(parsed)
    verb = "archive" if status == "archived" else "restore"
    if version.status == status:
        raise UsageError(f"{version.ref} is already {status}")
    path = version_path(version.model, version.version)
    text = (registry.snapshot.read(path) or b"").decode()
    files: dict[str, bytes | None] = {path: yamledit.set_entry(text, "status", status).encode()}
    stages = [s for s, n in registry.stages_of(version.model).items() if n == version.version]
    if stages and status == "archived":
        if not unstage:
            raise UsageError(
                f"{version.ref} is in {', '.join(stages)}",
                "pass unstage=True to remove it from those stages too, or promote another version first",
                argument="unstage",
            )
        for stage in stages:
            stage_text = (registry.snapshot.read(stage_path(stage)) or b"").decode()
            files[stage_path(stage)] = yamledit.remove_entry(stage_text, version.model).encode()
    check(repo, base, files)
    unstaged = f" and remove it from {', '.join(stages)}" if stages and status == "archived" else ""
    change = Change(
        branch=branch or f"gitreg/{verb}/{version.model}-{version.version}",
        files=files,
        subject=f"{verb.capitalize()} {version.ref}{unstaged}",
        trailers=trailers(version.model, version.version, status=status),
        pr_body=f"This pull request {'archives' if status == 'archived' else 'restores'} **{version.ref}**"
        f"{unstaged}.\n",
    )
    return Planned(change, version.model, version.version)


def _resolve_on_base(repo: GitRepo, base: BaseRef, registry: Registry, ref: Ref) -> ModelVersion:
    """The version on the base; if it is missing there but the user's HEAD has it, say so."""
    try:
        return registry.resolve(ref)
    except NotFoundError as exc:
        if (
            ref.version is not None
            and repo.read_path("HEAD", version_path(ref.model, ref.version)) is not None
        ):
            raise NotFoundError(
                f"{exc.message} on {base.label}",
                f"{ref} is only in your checkout: push it (git push origin HEAD:{base.branch}) and "
                "promote it once it is merged",
            ) from None
        raise


def _stage_text(registry: Registry, stage: str, model: str, version: int) -> bytes:
    current = (registry.snapshot.read(stage_path(stage)) or b"").decode()
    return yamledit.set_entry(current, model, version).encode()


def pr_body(registry: Registry, version: ModelVersion, stage: str, previous: int | None, verb: str) -> str:
    """Markdown for the pull request: what changes, the metric deltas against the version replaced, and
    where the version came from."""
    old = registry.version(version.model, previous) if previous else None
    lines = [
        f"This pull request {verb} **{version.ref}** in `{stage}`"
        + (f", replacing version {previous}." if previous else "."),
        "",
    ]
    if version.description:
        lines += [f"> {version.description}", ""]
    metrics = sorted(set(version.metrics) | set(old.metrics if old else {}))
    if metrics:
        lines += [
            "| metric | " + (f"v{previous} | " if old else "") + f"v{version.version} | change |",
            "|---|---|---|---|",
        ]
        if not old:
            lines[-1] = "|---|---|---|"
        for name in metrics:
            new = version.metrics.get(name)
            was = old.metrics.get(name) if old else None
            delta = f"{new - was:+.4g}" if new is not None and was is not None else ""
            cells = [name] + ([_cell(was)] if old else []) + [_cell(new)] + ([delta] if old else [""])
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += _lineage_lines(version)
    art = version.artifact
    lines += [f"Artifact: `{art.name}` ({art.type}, {art.size} bytes), `{art.digest}`", ""]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _lineage_lines(version: ModelVersion) -> list[str]:
    lines = []
    code = version.lineage.code
    if code and (code.repo or code.commit):
        link = code.commit or ""
        if code.repo and code.commit and code.repo.startswith("https://"):
            link = f"[{code.commit[:12]}]({code.repo.removesuffix('.git')}/commit/{code.commit})"
        lines.append(f"- Code: {code.repo or ''} {link} {code.path or ''}".rstrip())
    for data in version.lineage.data:
        lines.append(f"- Data: {data.uri}" + (f" (`{data.digest}`)" if data.digest else ""))
    run = version.lineage.run
    if run and (run.id or run.url):
        lines.append(f"- Run: [{run.id or run.url}]({run.url})" if run.url else f"- Run: {run.id}")
    if version.lineage.parent:
        lines.append(f"- Derived from version {version.lineage.parent}")
    return ["**Lineage**", "", *lines, ""] if lines else []
