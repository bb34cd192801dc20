"""Stage history and audit evidence, from ``main``'s first-parent history alone.

One ``git log --first-parent --raw``, oldest first and streamed, gives every commit that changed a stage as
it landed on main (a merge, a squash, or a direct push), with the blob ids of each stage file before and
after: a stage file in plain ``model: version`` lines is followed through the diff of its blobs, read a
window of commits at a time (``gitreg.stage_patches``), any other is read and parsed (``StageTracker``).
``audit``'s verdicts come from the same walk (``gitreg.ops.verdicts``; its log names models/ and
registry.yaml too), and its entries come a batch at a time. What a walk learns (what each stage-file change
did, each commit's verdict, each version's artifact) is kept by object id in the repository's walk cache
(``gitreg.walk_cache``), so a second walk reads no blob: cost follows the number of new stage changes."""

from __future__ import annotations

import gc
import threading
from collections.abc import Generator

from gitreg.errors import GitError, GitregError, NotFoundError
from gitreg.gitrepo import GitRepo, LogCommit
from gitreg.layout import AUDIT_PATHS, DEFAULT_BRANCH, history_paths
from gitreg.ops.review import NONE, REFUTED, UNCONFIRMED, Evidence, PullRefs, Review
from gitreg.stage_history import StageStep
from gitreg.stage_rewind import StageRewinder
from gitreg.values import Value
from gitreg.walk_cache import WalkCache, environment

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from gitreg.ops.verdicts import Judge

#: A commit on main's first-parent line, as it landed.
Landing = LogCommit


class StageChange(Value):
    """One change of one stage entry, as it landed on main (a small slotted value: ``gitreg.values``)."""

    __match_args__ = (
        "stage",
        "model",
        "from_version",
        "to_version",
        "commit",
        "date",
        "pull_request",
        "author",
        "merged_by",
        "direct_push",
        "subject",
        "review",
    )
    __slots__ = __match_args__
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
    review: str  # confirmed | unconfirmed | refuted | none: see gitreg.ops.review

    def __init__(
        self,
        stage: str,
        model: str,
        from_version: int | None,
        to_version: int | None,
        commit: str,
        date: str,
        pull_request: int | None,
        author: str,
        merged_by: str | None,
        direct_push: bool,
        subject: str,
        review: str = NONE,
    ) -> None:
        self.stage = stage  # plain assignments: an audit makes one a change, thousands
        self.model = model
        self.from_version = from_version
        self.to_version = to_version
        self.commit = commit
        self.date = date
        self.pull_request = pull_request
        self.author = author
        self.merged_by = merged_by
        self.direct_push = direct_push
        self.subject = subject
        self.review = review

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _CHANGE_FIELDS}  # every field is a plain value


_CHANGE_FIELDS = StageChange.__match_args__


def stage_history(
    repo: GitRepo,
    ref: str = DEFAULT_BRANCH,
    model: str | None = None,
    stage: str | None = None,
    evidence: Evidence | None = None,
    cache: bool = True,
) -> list[StageChange]:
    """Every change of a stage entry along ``ref``'s first-parent history, oldest first; review as
    ``evidence`` shows it (default: the fetched pull-request refs, if any). ``cache``: use (and fill) the
    walk cache in the git folder (``gitreg.walk_cache``). The history is walked newest first
    (``gitreg.stage_rewind``): only the changes found are held, in the order they are given back."""
    evidence = _check_history(repo, ref, evidence)
    walk_cache = open_cache(repo) if cache else None
    stages = StageRewinder(repo, walk_cache)
    landed: list[list[StageChange]] = []  # each commit's changes, newest commit first
    merged: dict[str, str] = {}
    asked: _Authors | None = None
    try:
        for landing in stages.read_ahead(repo.first_parent_rewind(ref, history_paths(stage))):
            found = _stage_changes(repo, landing, stages.rewind(landing), model, evidence)
            if found:
                landed.append(found)
                if landing.is_merge:
                    merged[landing.commit] = landing.parents[1]
        changes = [change for found in reversed(landed) for change in found]
        # git answers while the cache's last rows are written
        asked = _Authors(repo, changes, changes, merged)
    finally:
        if walk_cache is not None:
            walk_cache.close()
    return asked.result()


def open_cache(repo: GitRepo) -> WalkCache | None:
    """The repository's walk cache, or None when it cannot be used (the walk then computes everything)."""
    return WalkCache.open(repo.cache_folder(), environment())


def _check_history(repo: GitRepo, ref: str, evidence: Evidence | None) -> Evidence:
    """Refuse a ref that is not there or a history that is cut off; the evidence of review to use."""
    commit, shallow = repo.rev_parse_shallow(ref)  # one git process for both
    if commit is None:
        raise NotFoundError(f"{ref!r} does not name a commit", "fetch it first, or pass --ref")
    if shallow:
        raise GitError(
            f"this clone is shallow: the history of {ref} is cut off, so stage changes before it would be "
            "missing",
            "gitreg does not fetch it for you: run git fetch --unshallow, then try again",
        )
    return evidence or PullRefs.of(repo) or Evidence()


def _stage_changes(
    repo: GitRepo, landing: Landing, steps: list[StageStep], model: str | None, evidence: Evidence
) -> list[StageChange]:
    changes: list[StageChange] = []
    review: Review | None = None
    for step in steps:
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
                    author=landing.author,  # a merge's: its branch's author, see _proposers
                    merged_by=None if direct else _merger(landing),
                    direct_push=direct,
                    subject=landing.subject,
                    review=review.status,
                )
            )
    return changes


def _proposers(repo: GitRepo, changes: list[StageChange], merged: dict[str, str]) -> None:
    """Who proposed each change that landed by a merge (``merged``: merge commit -> its branch's tip): the
    author of the merged branch's tip, asked of git for all of them at once; the commit's author otherwise."""
    authors = repo.authors_of(merged.values())
    for change in changes:
        tip = merged.get(change.commit)
        if tip is not None and tip in authors:
            change.author = authors[tip]


def _merger(landing: Landing) -> str:
    if landing.is_merge:
        return landing.author  # a forge's merge commit, or `git merge`, is authored by whoever merged
    return landing.committer  # a squash merge is committed by the forge on the merger's behalf


class AuditEntry(Value):
    """A stage change with the evidence ``audit`` gives for it."""

    __match_args__ = ("change", "digest", "size", "verdict", "flags")
    __slots__ = __match_args__
    change: StageChange
    digest: str | None
    size: int | None
    verdict: str  # "pass" or "fail: <first finding>"
    flags: list[str]

    def __init__(
        self, change: StageChange, digest: str | None, size: int | None, verdict: str, flags: list[str]
    ) -> None:
        self.change = change
        self.digest = digest
        self.size = size
        self.verdict = verdict
        self.flags = flags

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.change.as_dict(),
            "digest": self.digest,
            "size": self.size,
            "verdict": self.verdict,
            "flags": list(self.flags),
        }


#: Entries held back at once while the merged branches' authors are asked of git (one call per batch: a
#: process each, so not too few; a few MiB of entries at most, so not too many).
AUDIT_BATCH = 2048


def audit(
    repo: GitRepo,
    ref: str = DEFAULT_BRANCH,
    since: datetime | None = None,
    until: datetime | None = None,
    evidence: Evidence | None = None,
    cache: bool = True,
) -> list[AuditEntry]:
    """Evidence for every stage change on ``ref`` in [since, until]: who, when, through which pull request,
    which artifact went live, whether the validator passed that change, and whether it bypassed review
    (as ``evidence`` shows it: default, the fetched pull-request refs, if any). See ``audit_entries``."""
    return list(audit_entries(repo, ref, since, until, evidence, cache=cache))


def audit_entries(
    repo: GitRepo,
    ref: str = DEFAULT_BRANCH,
    since: datetime | None = None,
    until: datetime | None = None,
    evidence: Evidence | None = None,
    batch: int = AUDIT_BATCH,
    cache: bool = True,
) -> Generator[AuditEntry, None, None]:
    """``audit``'s entries as the walk finds them, ``batch`` at a time (memory does not grow with the
    history); a ref that is not there or a shallow clone is refused at the call, before any entry.
    ``cache``: use (and fill) the walk cache in the git folder (``gitreg.walk_cache``)."""
    evidence = _check_history(repo, ref, evidence)
    return _audit_walk(repo, ref, since, until, evidence, batch, open_cache(repo) if cache else None)


def _audit_walk(
    repo: GitRepo,
    ref: str,
    since: datetime | None,
    until: datetime | None,
    evidence: Evidence,
    batch: int,
    cache: WalkCache | None,
) -> Generator[AuditEntry, None, None]:
    from gitreg.ops.verdicts import Judge  # noqa: PLC0415 - the validator's rules: audit's alone, not history's

    entries = _judged(repo, ref, since, until, evidence, batch, Judge(repo, cache=cache))
    try:
        while True:
            # The walk makes thousands of small containers a commit and no cyclic garbage to speak of: the
            # cyclic collector is off while it runs (about 5% of a first audit), and on while the caller
            # takes the entries, so what cycles a batch leaves are freed with it (memory stays flat).
            collecting = gc.isenabled()
            gc.disable()
            try:
                entry = next(entries, None)
            finally:
                if collecting:
                    gc.enable()
            if entry is None:
                return
            yield entry
    finally:
        entries.close()
        if cache is not None:
            cache.close()


def _judged(
    repo: GitRepo,
    ref: str,
    since: datetime | None,
    until: datetime | None,
    evidence: Evidence,
    batch: int,
    judge: Judge,
) -> Generator[AuditEntry, None, None]:
    entries: list[AuditEntry] = []
    merged: dict[str, str] = {}
    # the batch before, its merged branches' authors being asked of git
    asked: _Authors | None = None
    walk = repo.first_parent_walk(ref, AUDIT_PATHS, full_diff=True)  # models/: gitreg.ops.verdicts
    for landing in judge.read_ahead(walk, lambda landing: _in_window(landing, since, until)):
        steps = judge.advance(landing)
        in_window = _in_window(landing, since, until)
        changes = _stage_changes(repo, landing, steps, None, evidence if in_window else Evidence())
        if changes and in_window:
            verdict = judge.verdict(landing, steps)
            entries += [_evidence(judge, change, verdict) for change in changes]
            if landing.is_merge:
                merged[landing.commit] = landing.parents[1]
        judge.held_after(steps)
        if len(entries) >= batch:
            if asked is not None:
                yield from asked.result()
            asked = _Authors(repo, entries, [e.change for e in entries], merged)  # while the walk goes on
            entries, merged = [], {}
    if asked is not None:
        yield from asked.result()
    _proposers(repo, [e.change for e in entries], merged)
    yield from entries


class _Authors:
    """Changes (or a batch of entries, ``found``) whose merged branches' authors git is asked for on a
    thread of its own (a git process: the thread waits on it, not on Python), so that the walk goes on
    meanwhile. (``found`` is a list of any kind: a type parameter would load ``typing`` on every history.)"""

    def __init__(
        self, repo: GitRepo, found: list[Any], changes: list[StageChange], merged: dict[str, str]
    ) -> None:
        self._found = found
        self._error: GitregError | None = None

        def ask() -> None:
            try:
                _proposers(repo, changes, merged)
            except GitregError as exc:
                self._error = exc

        self._thread = threading.Thread(target=ask, name="gitreg-authors", daemon=True)
        self._thread.start()

    def result(self) -> list[Any]:
        """``found``, its changes' authors set."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._found


def _in_window(landing: Landing, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    from datetime import datetime  # noqa: PLC0415 - only when a window is given

    landed = datetime.fromisoformat(landing.date)
    return not ((since and landed < since) or (until and landed > until))


def _evidence(judge: Judge, change: StageChange, verdict: str) -> AuditEntry:
    digest = size = None
    if change.to_version is not None:
        artifact = judge.artifact(change.model, change.to_version)
        if artifact is not None:
            digest, size = artifact
    flags = ["direct-push"] if change.direct_push else []
    if change.review == UNCONFIRMED:
        flags.append("unconfirmed")
    if verdict != "pass":
        flags.append("invalid")
    return AuditEntry(change, digest, size, verdict, flags)
