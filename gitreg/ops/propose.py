"""The one path by which gitreg proposes a change: files changed on a new branch from the base, one commit
with trailers, optionally pushed and opened as a pull request. promote, rollback, archive, restore,
``register --branch`` and ``copy`` all go through ``propose``, with the trailers ``trailers`` builds.

It never checks out anything: the commit is made with plumbing on a new branch, so the user stays on their
branch with their working tree and index as they were."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitreg import forge
from gitreg.errors import ConflictError, GitregError, NotFoundError, UsageError
from gitreg.gitrepo import GitRepo
from gitreg.layout import DEFAULT_BRANCH

if TYPE_CHECKING:
    from gitreg.registry import Registry


@dataclass(frozen=True)
class BaseRef:
    """What a change starts from: a commit, and the branch name its pull request targets."""

    commit: str
    branch: str
    label: str  # what the user would call it: origin/main, main, or the ref they gave


@dataclass
class Change:
    branch: str
    files: dict[str, bytes | None]
    subject: str
    trailers: dict[str, str]
    body: str = ""
    pr_body: str = ""

    @property
    def message(self) -> str:
        body = f"\n\n{self.body.strip()}" if self.body.strip() else ""
        trailers = "\n".join(f"{k}: {v}" for k, v in self.trailers.items())
        return f"{self.subject}{body}\n\n{trailers}\n"


def trailers(model: str, version: int, **more: str) -> dict[str, str]:
    """The trailers of every commit gitreg makes: ``Gitreg-Model`` and ``Gitreg-Version``, then one per
    keyword in order, named from it (``digest`` -> ``Gitreg-Digest``, ``from_version`` ->
    ``Gitreg-From-Version``). history and audit read them back."""
    names = {k: "Gitreg-" + "-".join(w.capitalize() for w in k.split("_")) for k in more}
    return {"Gitreg-Model": model, "Gitreg-Version": str(version), **{names[k]: v for k, v in more.items()}}


@dataclass
class Proposed:
    branch: str
    commit: str
    base: BaseRef
    pushed: bool = False
    pull_request: forge.PullRequest | None = None
    open_url: str | None = None  # where to open the pull request by hand (no token)
    notes: list[str] = field(default_factory=list)


def resolve_base(repo: GitRepo, base: str | None, remote: str = "origin") -> BaseRef:
    """The base of a change: ``base`` if given; else the remote's main, fetched; else the local main."""
    if base is not None:
        commit = repo.rev_parse(base)
        if commit is None:
            raise NotFoundError(f"base={base!r} does not name a commit", argument="base")
        branch = base.split("/", 1)[1] if base.startswith(f"{remote}/") else base
        return BaseRef(commit, branch, base)
    if repo.remote_url(remote) is not None:
        commit = repo.fetch(remote, DEFAULT_BRANCH)
        if commit is not None:
            return BaseRef(commit, DEFAULT_BRANCH, f"{remote}/{DEFAULT_BRANCH}")
    commit = repo.rev_parse(f"refs/heads/{DEFAULT_BRANCH}")
    if commit is None:
        raise NotFoundError(
            f"there is no {DEFAULT_BRANCH} branch to start from", "pass base=REF", argument="base"
        )
    return BaseRef(commit, DEFAULT_BRANCH, DEFAULT_BRANCH)


def checkout(registry: Registry, doing: str = "changing a registry") -> GitRepo:
    """The registry's repository, if it is a checkout with a working tree: every change needs one."""
    if registry.repo is None or registry.workdir is None:
        raise GitregError(
            f"{doing} needs a checkout with a working tree, not a remote URL",
            "clone the registry and work in the clone",
        )
    return registry.repo


def commit_target(repo: GitRepo, branch: str | None) -> tuple[str, str]:
    """(branch to commit on, its current commit): the current branch, or ``branch`` (a new one starts from
    HEAD)."""
    head = repo.head()
    if head is None:
        raise GitregError("the registry has no commits yet", "create it with gitreg init")
    if branch is None:
        current = repo.current_branch()
        if current is None:
            raise GitregError(
                "HEAD is detached", "check out a branch, or pass branch=NAME", argument="branch"
            )
        return current, head
    if not repo.is_valid_branch_name(branch):
        raise UsageError(f"{branch!r} is not a valid branch name")
    return branch, repo.rev_parse(f"refs/heads/{branch}") or head


def check_worktree(repo: GitRepo, branch: str, parent: str, paths: list[str]) -> None:
    """Committing on the checked-out branch, refuse to overwrite uncommitted work at the paths written."""
    if branch != repo.current_branch():
        return
    for path in paths:
        if not repo.worktree_matches(path, parent):
            raise ConflictError(
                f"{path} has uncommitted changes in the working tree", "commit them or move them away first"
            )


def refuse_existing(repo: GitRepo, branch: str) -> None:
    """Refuse a name that cannot be a new branch: not a valid branch name, or a branch that exists."""
    if not repo.is_valid_branch_name(branch):
        raise UsageError(f"{branch!r} is not a valid branch name")
    if repo.branch_exists(branch):
        raise ConflictError(
            f"branch {branch} already exists",
            f"delete it (git branch -D {branch}) or name another with branch=",
            argument="branch",
        )


def refuse_dirty(repo: GitRepo, paths: list[str]) -> None:
    """Refuse when the user has uncommitted edits to a file the change rewrites: they would be silently
    superseded by the branch, and are most likely a hand-made version of the same change."""
    dirty = repo.dirty_paths(paths) if repo.workdir is not None else []
    if dirty:
        raise ConflictError(
            f"{dirty[0]} has uncommitted changes", "commit or stash them first; nothing was changed"
        )


def propose(
    repo: GitRepo,
    change: Change,
    base: BaseRef,
    *,
    push: bool = False,
    open_pr: bool = False,
    forge_name: str | None = None,
    remote: str = "origin",
) -> Proposed:
    """Commit ``change`` on its new branch from ``base``; push it and open its pull request if asked."""
    refuse_existing(repo, change.branch)
    refuse_dirty(repo, list(change.files))
    commit = repo.commit_files(change.files, change.message, change.branch, base.commit)
    result = Proposed(change.branch, commit, base)
    if not (push or open_pr):
        return result
    url = repo.remote_url(remote)
    if url is None:
        raise NotFoundError(
            f"there is no remote {remote!r} to push to", f"the branch {change.branch} is kept locally"
        )
    repo.push(remote, change.branch)
    result.pushed = True
    if open_pr:
        kind = forge.detect(url, forge_name)
        if kind is None:
            raise UsageError(
                f"cannot tell which forge hosts {url}",
                f"pass forge='github' or forge='gitlab'; the branch {change.branch} is pushed",
                argument="forge",
            )
        client = forge.client(kind, url)
        if client.token:
            result.pull_request = client.open(change.branch, base.branch, change.subject, change.pr_body)
        else:
            result.open_url = client.manual_url(change.branch, base.branch)
            result.notes.append(f"no {client.token_var} set: open the pull request at {result.open_url}")
    return result
