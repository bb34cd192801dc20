"""Validating a registry checkout or commit: the I/O around the pure rules (opening the repository,
resolving the base, listing what changed, asking history about rollbacks, opening the blob store)."""

from __future__ import annotations

from gitreg.errors import NotFoundError
from gitreg.gitrepo import GitRepo
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot
from gitreg.stage_history import HeldAt
from gitreg.validate import Base, Report, validate
from gitreg.validate.store import store_rule
from gitreg.validate.view import View


def base_at(repo: GitRepo, base_commit: str, changes: dict[str, str]) -> Base:
    """A Base for the change rules: ``base_commit``'s snapshot, the changed paths, and its stage history."""
    return Base(View(CommitSnapshot(repo, base_commit)), changes, HeldAt(repo, base_commit))


def validate_registry(
    registry: Registry, base_ref: str | None = None, check_artifacts: bool = False
) -> Report:
    """Validate the registry's snapshot; with ``base_ref``, also the change rules against that ref.

    The change is what the snapshot holds beyond the merge base of ``base_ref`` and HEAD (as a pull request
    shows it); it is judged against ``base_ref`` itself (the branch it will merge into)."""
    view = View(registry.snapshot)
    base = None
    if base_ref is not None:
        repo = registry.repo
        if repo is None:
            raise NotFoundError("--base needs a git repository")
        base_commit = repo.rev_parse(base_ref)
        if base_commit is None:
            raise NotFoundError(
                f"--base {base_ref!r} does not name a commit", "fetch it first, e.g. git fetch origin main"
            )
        snapshot = registry.snapshot
        head = snapshot.commit if isinstance(snapshot, CommitSnapshot) else None
        fork = repo.merge_base(base_commit, head or "HEAD") or base_commit
        base = base_at(repo, base_commit, repo.changed_files(fork, head))
    # A broken registry.yaml is reported as findings; the blob store it names cannot be trusted then.
    extra = [store_rule(registry.store)] if check_artifacts and view.config is not None else []
    return validate(view, base, extra)
