"""The write half of the public ``Registry``: ``register``, ``promote``, ``rollback``, ``archive`` and
``restore``, methods of ``gitreg.registry.Registry`` defined here. Each is a thin call into the ops layer
(``gitreg.ops.api`` for ``register``, ``gitreg.ops.promote`` for the rest), which takes the command line's
own paths: a registration is committed on the current
branch or proposed on a new one, a promotion is always proposed on a new branch. Proposing never checks
anything out: the caller's working tree, index and HEAD stay as they were.

A ``Registry`` opened on a working tree reads its own writes (its cached reads are dropped after each
one); one opened at a ref keeps reading that commit."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from gitreg.gitrepo import GitRepo
    from gitreg.manifest import Lineage, ModelVersion
    from gitreg.ops.promote import Planned
    from gitreg.ops.propose import BaseRef
    from gitreg.registry import Ref, Registry

    AnyRef: TypeAlias = str | Ref | ModelVersion


@dataclass(frozen=True)
class Proposal:
    """A change proposed on a new branch: where it is, what it changes, and its pull request."""

    branch: str
    """The new branch, such as ``gitreg/promote/fraud-3-production``."""
    commit: str
    """The branch's one commit."""
    base: str
    """What it started from, as the user would name it: ``origin/main``, ``main``."""
    subject: str
    """The change in one line: the commit's subject and the pull request's title."""
    files: tuple[str, ...]
    """The registry files it changes, such as ``stages/production.yaml``."""
    model: str
    version: int
    stage: str | None = None
    """The stage it changes (promote, rollback), if any."""
    previous: int | None = None
    """The version that stage held before, if any."""
    pushed: bool = False
    pull_request_url: str | None = None
    """The pull request's URL, when one was opened (``open_pr`` with a forge token)."""
    open_url: str | None = None
    """Where to open the pull request by hand (``open_pr`` without a token)."""


def _text(ref: AnyRef) -> str:
    from gitreg.registry import Ref  # noqa: PLC0415 - registry imports this module

    return str(ref) if isinstance(ref, str | Ref) else ref.ref


def register(
    self: Registry,
    model: str,
    path: str | os.PathLike[str],
    *,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    framework: str | Mapping[str, str | None] | None = None,
    format: str | None = None,
    lineage: Mapping[str, Any] | Lineage | None = None,
    parent: int | None = None,
    version: int | None = None,
    branch: str | None = None,
    propose: bool = False,
    push: bool = False,
    message: str | None = None,
    owners: Sequence[str] | None = None,
) -> ModelVersion:
    """Store the file or folder at ``path`` as a new version of ``model`` and commit its manifest (and
    model.yaml for a new model), as ``gitreg register`` does; return the version.

    ``framework`` is ``"sklearn==1.5.2"`` or ``{"name": ..., "version": ...}``; ``lineage`` has the
    manifest's shape: ``{"code": {"repo", "commit", "path"}, "data": [{"uri", "digest"} or
    "URI@sha256:..."], "run": {"id", "url"}}`` (the code commit defaults to the HEAD of the git
    repository holding ``path``, if not the registry). The version is committed on the current
    branch, or on ``branch`` (created from HEAD if new, and then proposed); with ``propose``, on a new
    branch (``branch``, default ``gitreg/register/<model>-<version>``) without touching the checkout.
    ``push`` pushes the branch committed to ``origin``. ``owners`` (@handles) for a new model."""
    from gitreg.ops import api  # noqa: PLC0415 - writing loads pydantic, GitPython and the store

    request = api.registration(
        model,
        path,
        metrics=metrics,
        params=params,
        tags=tags,
        description=description,
        framework=framework,
        format=format,
        lineage=lineage,
        parent=parent,
        version=version,
        branch=branch,
        owners=owners,
        message=message,
    )
    try:
        return api.register(self, request, propose=propose, push=push)
    finally:
        _reread(self)


def promote(
    self: Registry,
    ref: AnyRef,
    to: str,
    *,
    branch: str | None = None,
    base: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    message: str | None = None,
    forge: str | None = None,
) -> Proposal:
    """Propose version ``ref`` (``fraud@3``, ``models:/fraud/3``, or a ``ModelVersion``) for stage
    ``to`` on a new branch from ``base`` (default: ``origin/main``, fetched; else ``main``), refused
    early if the validator would refuse it; ``push`` it to ``origin``; ``open_pr`` pushes and opens
    the pull request (GITHUB_TOKEN or GITLAB_TOKEN; ``forge`` if the URL does not tell)."""
    from gitreg.ops.promote import plan_promotion  # noqa: PLC0415 - see register

    text = _text(ref)
    return _propose(
        self, lambda repo, b: plan_promotion(repo, b, text, to, branch), base, message, push, open_pr, forge
    )


def rollback(
    self: Registry,
    model: str,
    stage: str,
    *,
    to: int | None = None,
    branch: str | None = None,
    base: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    message: str | None = None,
    forge: str | None = None,
) -> Proposal:
    """Propose putting ``stage`` back on the version of ``model`` it held before (or on ``to``, a
    version it held), as ``promote`` proposes."""
    from gitreg.ops.promote import plan_rollback  # noqa: PLC0415 - see register

    return _propose(
        self,
        lambda repo, b: plan_rollback(repo, b, model, stage, to, branch),
        base,
        message,
        push,
        open_pr,
        forge,
    )


def archive(
    self: Registry,
    ref: AnyRef,
    *,
    unstage: bool = False,
    branch: str | None = None,
    base: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    message: str | None = None,
    forge: str | None = None,
) -> Proposal:
    """Propose archiving version ``ref``; a version a stage holds needs ``unstage`` (which also takes
    it out of those stages)."""
    from gitreg.ops.promote import plan_status  # noqa: PLC0415 - see register

    text = _text(ref)
    return _propose(
        self,
        lambda repo, b: plan_status(repo, b, text, "archived", unstage, branch),
        base,
        message,
        push,
        open_pr,
        forge,
    )


def restore(
    self: Registry,
    ref: AnyRef,
    *,
    branch: str | None = None,
    base: str | None = None,
    push: bool = False,
    open_pr: bool = False,
    message: str | None = None,
    forge: str | None = None,
) -> Proposal:
    """Propose restoring the archived version ``ref`` to active."""
    from gitreg.ops.promote import plan_status  # noqa: PLC0415 - see register

    text = _text(ref)
    return _propose(
        self,
        lambda repo, b: plan_status(repo, b, text, "active", False, branch),
        base,
        message,
        push,
        open_pr,
        forge,
    )


def _propose(
    self: Registry,
    plan: Callable[[GitRepo, BaseRef], Planned],
    base: str | None,
    message: str | None,
    push: bool,
    open_pr: bool,
    forge: str | None,
) -> Proposal:
    """Plan a change on the base (``origin/main``, fetched; else ``main``; or ``base``), then propose it on
    its new branch, pushed and opened as a pull request if asked: ``gitreg promote``'s path."""
    from gitreg.ops.promote import deliver_plan  # noqa: PLC0415 - see register
    from gitreg.ops.propose import checkout, resolve_base  # noqa: PLC0415 - see register

    repo = checkout(self)
    base_ref = resolve_base(repo, base)
    planned = plan(repo, base_ref)
    proposed = deliver_plan(
        repo, base_ref, planned, message=message, push=push, open_pr=open_pr, forge_name=forge
    )
    pull_request = proposed.pull_request
    return Proposal(
        branch=proposed.branch,
        commit=proposed.commit,
        base=base_ref.label,
        subject=planned.change.subject,
        files=tuple(planned.change.files),
        model=planned.model,
        version=planned.version,
        stage=planned.stage,
        previous=planned.previous,
        pushed=proposed.pushed,
        pull_request_url=pull_request.url if pull_request is not None else None,
        open_url=proposed.open_url,
    )


def _reread(self: Registry) -> None:
    """Forget what was read: a write may have changed the working tree this registry reads."""
    from gitreg.reader import Reader  # noqa: PLC0415 - registry imports this module

    self.reader = Reader(self.snapshot)


__all__ = ["Proposal", "archive", "promote", "register", "restore", "rollback"]
