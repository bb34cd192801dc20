"""What a commit asks of a controller: the stage's {model: version} at that commit, once the commit is
accepted (signed by an allowed key and a fast-forward of the applied commit, with --verify-signatures;
valid by the same rules as CI), or the reasons it is refused."""

from __future__ import annotations

from gitreg.controller.config import ControllerConfig
from gitreg.controller.source import DEEPEN_LIMIT, Source, signature_problem
from gitreg.controller.status import CommitMark
from gitreg.errors import GitregError
from gitreg.gitrepo import GitRepo
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot
from gitreg.validate import Base, View, validate

Loaded = tuple[Registry | None, dict[str, int], list[str]]


def load(
    repo: GitRepo, commit: str, config: ControllerConfig, source: Source, applied: CommitMark | None
) -> Loaded:
    """The registry at ``commit`` and the stage's wanted versions, or why the commit is refused. Raises a
    GitregError only when git cannot read the cache (the caller rebuilds it)."""
    if config.verify_signatures:
        signature = repo.signature(commit, config.allowed_signers)
        problem = signature_problem(signature, commit, config.allowed_signers)
        if problem is None and not config.allow_non_fast_forward:
            problem = not_fast_forward(repo, commit, source, applied)
        if problem is not None:
            return None, {}, [problem]
    snapshot = CommitSnapshot(repo, commit)
    report = validate(View(snapshot), validated_base(repo, commit, applied))
    if report.errors:
        return None, {}, [str(f) for f in report.errors]
    registry = Registry(snapshot, repo, None)
    try:
        wanted = registry.stage(config.stage)
    except GitregError as exc:
        return None, {}, [str(exc)]
    return registry, wanted, []


def not_fast_forward(repo: GitRepo, commit: str, source: Source, applied: CommitMark | None) -> str | None:
    """Why ``commit`` may not replace the applied commit under --verify-signatures: a signed commit is not
    enough when it is an older one (a force-push back) or one never merged into what was applied."""
    if applied is None or applied.commit == commit:
        return None
    descends = source.descends(repo, commit, applied.commit)
    if descends:
        return None
    how = "the branch was force-pushed" if descends is False else f"not within {DEEPEN_LIMIT} commits of it"
    return (
        f"commit {commit[:12]} does not descend from {applied.commit[:12]}, the commit last applied "
        f"({how}); --verify-signatures applies only fast-forwards: push a new signed commit on top of it, "
        "or pass --allow-non-fast-forward"
    )


def validated_base(repo: GitRepo, commit: str, applied: CommitMark | None) -> Base | None:
    """The applied commit, which passed validation, as the base of an incremental check of ``commit``: the
    same verdict as validating everything, at the cost of what changed. None (a full check) when nothing
    was applied yet or its objects are gone from the cache."""
    if applied is None or applied.commit == commit or not repo.has_commit(applied.commit):
        return None
    try:
        changes = repo.changed_files(applied.commit, commit)
    except GitregError:
        return None
    return Base(View(CommitSnapshot(repo, applied.commit)), changes, change_rules=False)
