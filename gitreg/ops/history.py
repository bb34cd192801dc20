"""Stage history and audit evidence, from ``main``'s first-parent history alone.

One ``git log --first-parent --raw`` over the stage files gives every commit that changed a stage as it
landed on main (a merge, a squash, or a direct push) with the blob ids of each stage file before and after;
the stage files themselves are read through git's persistent cat-file process. Cost follows the number of
stage changes, not the number of commits or files in the registry."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from gitreg import yamlio
from gitreg.errors import GitError, GitregError, NotFoundError
from gitreg.gitrepo import GitRepo, LogCommit
from gitreg.layout import DEFAULT_BRANCH, MODELS_DIR, REGISTRY_FILE, STAGES_DIR, version_path
from gitreg.manifest import ModelVersion
from gitreg.ops.review import NONE, REFUTED, UNCONFIRMED, Evidence, PullRefs, Review
from gitreg.snapshot import CommitSnapshot
from gitreg.stage_history import Held, StageReader, stage_log
from gitreg.validate import Base, validate
from gitreg.validate.view import ParseCache, View

#: A commit on main's first-parent line, as it landed.
Landing = LogCommit


@dataclass
class StageChange:
    stage: str
    model: str
    from_version: int | None
    to_version: int | None  # None: the model left the stage
    commit: str
    date: str
    pull_request: int | None  # as the forge shows it, else as the message claims it (see review)
    author: str  # who proposed it: the merged branch's author, or the commit's author
    merged_by: str | None  # who merged it (None for a direct push)
    direct_push: bool  # no pull request, or one the forge shows it did not come from
    subject: str
    review: str = NONE  # confirmed | unconfirmed | refuted | none: see gitreg.ops.review

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage_history(
    repo: GitRepo,
    ref: str = DEFAULT_BRANCH,
    model: str | None = None,
    stage: str | None = None,
    evidence: Evidence | None = None,
) -> list[StageChange]:
    """Every change of a stage entry along ``ref``'s first-parent history, oldest first; review as
    ``evidence`` shows it (default: the fetched pull-request refs, if any)."""
    evidence = _check_history(repo, ref, evidence)
    stages = StageReader(repo)
    return [
        change
        for landing in reversed(list(stage_log(repo, ref, stage)))
        for change in _stage_changes(repo, landing, stages, model, evidence)
    ]


def _check_history(repo: GitRepo, ref: str, evidence: Evidence | None) -> Evidence:
    """Refuse a ref that is not there or a history that is cut off; the evidence of review to use."""
    if repo.rev_parse(ref) is None:
        raise NotFoundError(f"{ref!r} does not name a commit", "fetch it first, or pass --ref")
    if repo.is_shallow():
        raise GitError(
            f"this clone is shallow: the history of {ref} is cut off, so stage changes before it would be "
            "missing",
            "gitreg does not fetch it for you: run git fetch --unshallow, then try again",
        )
    return evidence or PullRefs.of(repo) or Evidence()


def _stage_changes(
    repo: GitRepo, landing: Landing, stages: StageReader, model: str | None, evidence: Evidence
) -> list[StageChange]:
    changes: list[StageChange] = []
    review: Review | None = None
    for step in stages.steps(landing):
        for name, old, new in step.changed(model):
            review = review or evidence.review(landing)  # asked once per commit, and only if needed
            direct = review.status in (NONE, REFUTED)
            changes.append(
                StageChange(
                    stage=step.stage,
                    model=name,
                    from_version=old,
                    to_version=new,
                    commit=landing.commit,
                    date=landing.date,
                    pull_request=review.number,
                    author=_proposer(repo, landing),
                    merged_by=None if direct else _merger(landing),
                    direct_push=direct,
                    subject=landing.subject,
                    review=review.status,
                )
            )
    return changes


def _proposer(repo: GitRepo, landing: Landing) -> str:
    """The author of the merged branch's tip for a merge; the commit's author otherwise."""
    if landing.is_merge:
        return repo.author_of(landing.parents[1]) or landing.author
    return landing.author


def _merger(landing: Landing) -> str:
    if landing.is_merge:
        return landing.author  # a forge's merge commit, or `git merge`, is authored by whoever merged
    return landing.committer  # a squash merge is committed by the forge on the merger's behalf


@dataclass
class AuditEntry:
    change: StageChange
    digest: str | None
    size: int | None
    verdict: str  # "pass" or "fail: <first finding>"
    flags: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.change.as_dict(),
            "digest": self.digest,
            "size": self.size,
            "verdict": self.verdict,
            "flags": self.flags,
        }


def audit(
    repo: GitRepo,
    ref: str = DEFAULT_BRANCH,
    since: datetime | None = None,
    until: datetime | None = None,
    evidence: Evidence | None = None,
) -> list[AuditEntry]:
    """Evidence for every stage change on ``ref`` in [since, until]: who, when, through which pull request,
    which artifact went live, whether the validator passed that change, and whether it bypassed review
    (as ``evidence`` shows it: default, the fetched pull-request refs, if any)."""
    evidence = _check_history(repo, ref, evidence)
    stages = StageReader(repo)
    held = Held()  # what the stages held before the commit being judged
    shared: ParseCache = {}  # a file parsed once for the whole walk, not once per commit that has it
    entries = []
    paths = [f"{STAGES_DIR}/", f"{MODELS_DIR}/", REGISTRY_FILE]
    for landing in reversed(list(repo.first_parent_log(ref, paths))):
        landed = datetime.fromisoformat(landing.date)
        in_window = not ((since and landed < since) or (until and landed > until))
        changes = _stage_changes(repo, landing, stages, None, evidence if in_window else Evidence())
        if not changes:
            continue
        if in_window:
            verdict = _verdict(repo, landing, held, shared)
            for change in changes:
                entries.append(_evidence(repo, change, verdict))
        for step in stages.steps(landing):
            held.add(step)
    return entries


def _evidence(repo: GitRepo, change: StageChange, verdict: str) -> AuditEntry:
    digest = size = None
    if change.to_version is not None:
        version = _version_at(repo, change.commit, change.model, change.to_version)
        if version is not None:
            digest, size = version.artifact.digest, version.artifact.size
    flags = ["direct-push"] if change.direct_push else []
    if change.review == UNCONFIRMED:
        flags.append("unconfirmed")
    if verdict != "pass":
        flags.append("invalid")
    return AuditEntry(change, digest, size, verdict, flags)


def _version_at(repo: GitRepo, commit: str, model: str, number: int) -> ModelVersion | None:
    data = repo.read_path(commit, version_path(model, number))
    if data is None:
        return None
    try:
        return ModelVersion.model_validate(yamlio.load(data, "version").data)
    except (GitregError, ValueError):
        return None


def _verdict(repo: GitRepo, landing: Landing, held: Held, shared: ParseCache) -> str:
    """The validator's verdict on the change ``landing`` made to main, against its first parent, with
    rollbacks judged by what the stages held before it."""
    view = View(CommitSnapshot(repo, landing.commit), shared)
    if landing.parents:
        changes = {path: status for path, (_old, _new, status) in landing.changes.items()}
        # `held` is updated only after this verdict: it is what the stages held before this commit
        base = Base(View(CommitSnapshot(repo, landing.parents[0]), shared), changes, held)
        report = validate(view, base)
    else:
        report = validate(view)
    if not report.errors:
        return "pass"
    first = report.errors[0]
    return f"fail: {first}"
