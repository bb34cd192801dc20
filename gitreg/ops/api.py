"""The Python API's ``Registry.register``: keyword arguments checked and turned into the ``Registration`` the
command line builds, then delivered by the same path (``ops.register``, ``ops.propose``); the proposing verbs
(``promote``, ``rollback``, ``archive``, ``restore``) go straight to ``ops.promote`` (``registry_write``).
Every check runs before a byte is stored or a ref moves, so a refused call leaves the registry as it was."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from gitreg.errors import NotFoundError, UsageError
from gitreg.gitrepo import GitRepo
from gitreg.layout import DEFAULT_REMOTE
from gitreg.manifest import Lineage, ModelVersion
from gitreg.ops.propose import checkout, refuse_existing
from gitreg.ops.register import Registration, register_proposal
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot


def registration(
    model: str,
    path: str | os.PathLike[str],
    *,
    metrics: Mapping[str, float] | None,
    params: Mapping[str, Any] | None,
    tags: Mapping[str, str] | None,
    description: str | None,
    framework: str | Mapping[str, str | None] | None,
    format: str | None,
    lineage: Mapping[str, Any] | Lineage | None,
    parent: int | None,
    version: int | None,
    branch: str | None,
    owners: Sequence[str] | None,
    message: str | None,
) -> Registration:
    """What ``Registry.register``'s arguments ask for, checked as the command line checks its options."""
    if not isinstance(model, str):
        raise UsageError(f"model is a name, not {type(model).__name__}")
    for name, number in (metrics or {}).items():
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise UsageError(f"metrics[{name!r}] is {number!r}: a metric is a finite number")
    for name, value in (("metrics", metrics), ("params", params), ("tags", tags)):
        _check_field(name, value)
    code, data, run, lineage_parent = _lineage(lineage)
    if parent is not None and lineage_parent is not None and parent != lineage_parent:
        raise UsageError(f"parent={parent} and lineage parent {lineage_parent} differ: give one")
    return Registration(
        model=model,
        path=Path(path),
        version=version,
        metrics=dict(metrics or {}),
        params=dict(params or {}),
        tags=dict(tags or {}),
        description=description or "",
        framework=_framework(framework),
        format=format,
        code_repo=code.get("repo"),
        code_commit=code.get("commit"),
        code_path=code.get("path"),
        data=data,
        run_id=run.get("id"),
        run_url=run.get("url"),
        parent=parent if parent is not None else lineage_parent,
        owners=list(owners or []),
        branch=branch,
        message=message,
    )


def _check_field(name: str, value: Any) -> None:
    """Refuse what the manifest's field ``name`` would refuse, before the artifact is stored."""
    if value is None:
        return
    annotation: Any = ModelVersion.model_fields[name].annotation
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in (name, *first["loc"][:1]))
        raise UsageError(f"{where}: {str(first['msg']).removeprefix('Value error, ')}") from None


def _framework(framework: str | Mapping[str, str | None] | None) -> str | None:
    if framework is None or isinstance(framework, str):
        return framework or None
    if isinstance(framework, Mapping) and isinstance(framework.get("name"), str) and framework["name"]:
        extra = set(framework) - {"name", "version"}
        if not extra:
            version = framework.get("version")
            return f"{framework['name']}=={version}" if version else str(framework["name"])
    raise UsageError(
        f"framework {framework!r} is not a framework", "write 'sklearn==1.5.2' or {'name': 'sklearn'}"
    )


def _lineage(
    lineage: Mapping[str, Any] | Lineage | None,
) -> tuple[dict[str, str], list[str | dict[str, str]], dict[str, str], int | None]:
    """(code, data, run, parent) of a lineage: the manifest's own shape, with data sets also written as
    ``URI`` or ``URI@sha256:...`` strings as on the command line."""
    if lineage is None:
        return {}, [], {}, None
    if isinstance(lineage, Lineage):
        checked = lineage
    else:
        if not isinstance(lineage, Mapping):
            raise UsageError(f"lineage is a mapping (code, data, run, parent), not {type(lineage).__name__}")
        raw = dict(lineage)
        if isinstance(raw.get("data"), list):
            raw["data"] = [_data_set(item) for item in raw["data"]]
        try:
            checked = Lineage.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in ("lineage", *first["loc"]))
            raise UsageError(f"{where}: {str(first['msg']).removeprefix('Value error, ')}") from None
    dumped = checked.model_dump(exclude_none=True)
    data: list[str | dict[str, str]] = list(dumped.get("data", []))
    return dumped.get("code") or {}, data, dumped.get("run") or {}, checked.parent


def _data_set(item: Any) -> Any:
    if not isinstance(item, str):
        return item
    uri, sep, digest = item.rpartition("@")
    return {"uri": uri, "digest": digest} if sep and digest.startswith("sha256:") else {"uri": item}


def register(registry: Registry, reg: Registration, *, propose: bool, push: bool) -> ModelVersion:
    """Commit the version on the current branch (or on ``reg.branch``), then push that branch if asked; or,
    with ``propose`` (or a ``reg.branch`` that does not exist yet), commit it on a new branch without
    touching the checkout, pushed if asked."""
    repo = checkout(registry)
    if propose:
        reg.branch = reg.branch or _proposal_branch(registry, repo, reg)
        refuse_existing(repo, reg.branch)
    proposing = reg.branch is not None and not repo.branch_exists(reg.branch)
    reg.push = push and proposing
    if push and not proposing and repo.remote_url(DEFAULT_REMOTE) is None:
        raise NotFoundError(f"there is no remote {DEFAULT_REMOTE!r} to push to", "nothing was registered")
    version, _proposed = register_proposal(registry, reg)
    if push and not proposing:
        branch = reg.branch or repo.current_branch()
        if branch is not None:
            repo.push(DEFAULT_REMOTE, branch)
    return version.in_stages([])


def _proposal_branch(registry: Registry, repo: GitRepo, reg: Registration) -> str:
    """``gitreg/register/<model>-<version>``, the version being the one ``reg`` will get."""
    number = reg.version
    head = repo.head()
    if number is None and head is not None:
        at_head = Registry(CommitSnapshot(repo, head), repo, registry.workdir)
        number = max(at_head.version_numbers(reg.model), default=0) + 1
    return f"gitreg/register/{reg.model}-{number or 1}"


__all__ = ["register", "registration"]
