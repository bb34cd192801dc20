"""Registering a model version, in two steps. ``build_version`` stores the artifact and writes the files
(its manifest, and model.yaml for a new model) without touching git; ``deliver`` commits them on the
branch, or proposes them on a new one through ``propose``. Everything is checked before the first byte is
stored, and the commit is the last step, so a failure leaves the registry and the working tree as they were
(a stored blob may stay: it is content-addressed and harmless)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gitreg import manifest, yamlio
from gitreg.errors import ConflictError, NotFoundError, UsageError
from gitreg.filesystem import name_problem
from gitreg.gitrepo import GitRepo, repo_containing
from gitreg.layout import DEFAULT_BRANCH, NAME, model_path, version_path
from gitreg.manifest import ModelInfo, ModelVersion
from gitreg.ops.propose import (
    BaseRef,
    Change,
    Proposed,
    check_worktree,
    checkout,
    commit_target,
    propose,
    trailers,
)
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot
from gitreg.storage import artifact as artifacts
from gitreg.storage.protocol import reference_version


@dataclass
class Registration:
    """What the user says about a new version. Empty fields are left out of the manifest."""

    model: str
    path: Path
    version: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    framework: str | None = None  # NAME or NAME==VERSION
    format: str | None = None
    code_repo: str | None = None
    code_commit: str | None = None
    code_path: str | None = None
    data: list[str | dict[str, str]] = field(default_factory=list)  # URI or URI@DIGEST, or {uri, digest}
    run_id: str | None = None
    run_url: str | None = None
    parent: int | None = None
    owners: list[str] = field(default_factory=list)  # for a new model: model.yaml owners and CODEOWNERS
    branch: str | None = None
    message: str | None = None
    push: bool = False  # with a new --branch: push it ...
    open_pr: bool = False  # ... and open its pull request
    forge: str | None = None


@dataclass(frozen=True)
class BuiltVersion:
    """A version ready to deliver: its manifest, and every file to write (the manifest's YAML, and for a
    new model its model.yaml and CODEOWNERS). Its blobs are stored; nothing is committed."""

    version: ModelVersion
    files: dict[str, bytes]


@dataclass(frozen=True)
class Target:
    """Where a registration is delivered: committed on ``branch`` (whose commit is ``parent``), or, when
    ``propose``, proposed on that new branch started from ``parent``."""

    branch: str
    parent: str
    propose: bool


def register(
    registry: Registry,
    reg: Registration,
    *,
    created_at: datetime | str | None = None,
    created_by: str | None = None,
) -> ModelVersion:
    """Store, write and commit one new version; return its manifest. ``created_at`` (default: now) and
    ``created_by`` (default: the git identity) let an importer keep the original ones."""
    return register_proposal(registry, reg, created_at=created_at, created_by=created_by)[0]


def register_proposal(
    registry: Registry,
    reg: Registration,
    *,
    created_at: datetime | str | None = None,
    created_by: str | None = None,
) -> tuple[ModelVersion, Proposed | None]:
    """``register``, and what it proposed: with a new ``--branch``, the commit goes through the same
    path as promotions (proposal.propose: a new branch, optionally pushed and opened as a pull request);
    otherwise it lands on the current branch (or an existing ``--branch``) and the proposal is None."""
    repo = checkout(registry, "registering")
    _check_request(reg)
    target = delivery_target(repo, reg)
    built = build_version(
        registry,
        reg,
        target.parent,
        created_at=created_at,
        created_by=created_by,
        refuse=lambda paths: check_worktree(repo, target.branch, target.parent, paths),
    )
    return built.version, deliver(repo, built, target, reg)


def build_version(
    registry: Registry,
    reg: Registration,
    base: str,
    *,
    created_at: datetime | str | None = None,
    created_by: str | None = None,
    refuse: Callable[[list[str]], None] | None = None,
) -> BuiltVersion:
    """Build the version ``reg`` describes on top of commit ``base``: check it, store its artifact, write
    its manifest and files. Nothing is committed. ``refuse`` sees the paths the version will write before a
    byte is stored, and raises to stop there (delivery's own checks). ``created_at`` defaults to now,
    ``created_by`` to the registry's git identity."""
    repo = checkout(registry, "registering")
    _check_request(reg)
    base_registry = Registry(CommitSnapshot(repo, base), repo, registry.workdir)
    base_registry.config  # noqa: B018 - refuse early if registry.yaml at the base does not parse
    numbers = base_registry.version_numbers(reg.model) if base_registry.has_model(reg.model) else []
    number = _next_version(reg.model, reg.version, numbers)
    if reg.parent is not None and reg.parent not in numbers:
        raise NotFoundError(
            f"parent={reg.parent}: {reg.model} has no version {reg.parent}", argument="parent"
        )

    model_files = _model_files(base_registry, reg)
    if refuse is not None:
        refuse([version_path(reg.model, number), *model_files])

    identity = created_by if created_by is not None else str(repo.identity())
    code_repo, code_commit = reg.code_repo, reg.code_commit
    if code_commit is None:
        code_repo, code_commit = _code_lineage(reg.path, repo, code_repo)

    stored = artifacts.upload(registry.store, reg.path)
    reference_version(registry.store, reg.model, number, stored.digest, stored.type)
    version = _manifest(
        reg,
        number,
        stored,
        identity=identity,
        created_at=_timestamp(created_at),
        code_repo=code_repo,
        code_commit=code_commit,
    )
    files = {version_path(reg.model, number): yamlio.dump(version.to_yaml_data()).encode(), **model_files}
    return BuiltVersion(version, files)


def delivery_target(repo: GitRepo, reg: Registration) -> Target:
    """Where ``reg`` goes: the current branch, an existing ``--branch``, or a new one to propose."""
    branch, parent = commit_target(repo, reg.branch)
    proposing = reg.branch is not None and not repo.branch_exists(branch)
    if (reg.push or reg.open_pr) and not proposing:
        raise UsageError("--push and --open-pr go with --branch NEW, the branch that proposes the version")
    return Target(branch, parent, proposing)


def deliver(repo: GitRepo, built: BuiltVersion, target: Target, reg: Registration) -> Proposed | None:
    """Commit ``built`` on its branch; or propose it (a new branch, pushed and opened as a pull request if
    ``reg`` asks), by the one path every proposal takes."""
    version = built.version
    files: dict[str, bytes | None] = dict(built.files)
    subject = reg.message or f"Register {version.ref}"
    body = "" if reg.message else reg.description
    marks = trailers(version.model, version.version, digest=version.artifact.digest)
    if not target.propose:
        message = Change("", {}, subject, marks, body).message
        repo.commit_files(files, message, target.branch, target.parent)
        return None
    change = Change(
        branch=target.branch,
        files=files,
        subject=subject,
        trailers=marks,
        body=body,
        pr_body=f"This pull request registers **{version.ref}**.\n\n{reg.description}\n",
    )
    base = BaseRef(target.parent, repo.current_branch() or DEFAULT_BRANCH, "HEAD")
    return propose(repo, change, base, push=reg.push, open_pr=reg.open_pr, forge_name=reg.forge)


def _check_request(reg: Registration) -> None:
    if not NAME.fullmatch(reg.model):
        raise UsageError(
            f"{reg.model!r} is not a valid model name",
            "use 1-64 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
        )
    if (problem := name_problem(reg.model)) is not None:
        raise UsageError(f"{reg.model!r} is not a valid model name: it {problem}", "choose another name")
    if not reg.path.exists() and not reg.path.is_symlink():
        raise NotFoundError(
            f"{reg.path} does not exist", "give the path of the model file or folder to register"
        )


def _timestamp(created_at: datetime | str | None) -> str:
    """``created_at`` as a manifest writes it (UTC, to the second); a string is kept as it is."""
    if isinstance(created_at, str):
        return created_at
    moment = created_at or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _model_files(base: Registry, reg: Registration) -> dict[str, bytes]:
    """For a new model: its model.yaml and, with owners, CODEOWNERS with a line for its folder."""
    if base.has_model(reg.model):
        if reg.owners:
            raise UsageError(
                f"owners= sets the owners of a new model, and {reg.model} exists",
                f"edit {model_path(reg.model)} (and CODEOWNERS) to change its owners",
                argument="owners",
            )
        return {}
    for owner in reg.owners:
        if not owner.startswith("@") and "@" not in owner:
            raise UsageError(
                f"owners={owner!r} is not a CODEOWNERS handle",
                "write @user, @org/team or an email",
                argument="owners",
            )
    info = ModelInfo.model_validate(
        {"apiVersion": manifest.API_VERSION, "kind": "Model", "name": reg.model, "owners": reg.owners}
    )
    files = {
        model_path(reg.model): yamlio.dump(
            info.model_dump(mode="json", by_alias=True, exclude_none=True)
        ).encode()
    }
    current = base.snapshot.read("CODEOWNERS")
    if current is not None and reg.owners:
        text = current.decode()
        if text and not text.endswith("\n"):
            text += "\n"
        files["CODEOWNERS"] = f"{text}/models/{reg.model}/ {' '.join(reg.owners)}\n".encode()
    return files


def _next_version(model: str, wanted: int | None, numbers: list[int]) -> int:
    highest = max(numbers, default=0)
    if wanted is None:
        return highest + 1
    if wanted < 1:
        raise UsageError(f"version={wanted}: versions are positive integers", argument="version")
    if wanted in numbers:
        raise ConflictError(
            f"{model}@{wanted} already exists", f"versions are immutable; the next free one is {highest + 1}"
        )
    if wanted <= highest:
        raise ConflictError(
            f"version={wanted} is below {model}'s latest version {highest}",
            f"versions only go up; use {highest + 1} or more",
            argument="version",
        )
    return wanted


def _code_lineage(path: Path, registry_repo: GitRepo, code_repo: str | None) -> tuple[str | None, str | None]:
    """The HEAD (and origin URL) of the git repository that contains the artifact, if that is not the
    registry itself."""
    repo = repo_containing(path.resolve())
    if repo is None or _same_folder(repo.workdir, registry_repo.workdir):
        return code_repo, None
    return code_repo or repo.remote_url(), repo.head()


def _same_folder(a: Path | None, b: Path | None) -> bool:
    return a is not None and b is not None and a.resolve() == b.resolve()


def _manifest(
    reg: Registration,
    number: int,
    stored: artifacts.StoredArtifact,
    *,
    identity: str,
    created_at: str,
    code_repo: str | None,
    code_commit: str | None,
) -> ModelVersion:
    framework = None
    if reg.framework:
        name, _, ver = reg.framework.partition("==")
        framework = {"name": name, "version": ver or None}
    data_lineage: list[dict[str, str]] = []
    for item in reg.data:
        if isinstance(item, dict):
            data_lineage.append(item)
            continue
        uri, sep, digest = item.rpartition("@")
        data_lineage.append(
            {"uri": uri, "digest": digest} if sep and digest.startswith("sha256:") else {"uri": item}
        )
    lineage: dict[str, Any] = {
        "code": {"repo": code_repo, "commit": code_commit, "path": reg.code_path}
        if code_repo or code_commit or reg.code_path
        else None,
        "data": data_lineage,
        "run": {"id": reg.run_id, "url": reg.run_url} if reg.run_id or reg.run_url else None,
        "parent": reg.parent,
    }
    data = {
        "apiVersion": manifest.API_VERSION,
        "kind": "ModelVersion",
        "model": reg.model,
        "version": number,
        "artifact": {
            "digest": stored.digest,
            "size": stored.size,
            "type": stored.type,
            "name": stored.name,
            "format": reg.format,
        },
        "framework": framework,
        "metrics": reg.metrics,
        "params": reg.params,
        "lineage": lineage,
        "tags": reg.tags,
        "description": reg.description,
        "created_at": created_at,
        "created_by": identity,
        "status": "active",
    }
    try:
        return ModelVersion.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{where}: {first['msg']}") from None
