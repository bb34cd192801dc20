"""Stage history and audit evidence, from ``main``'s first-parent history alone.

One ``git log --first-parent --raw`` over the stage files gives every commit that changed a stage as it
landed on main (a merge, a squash, or a direct push) with the blob ids of each stage file before and after;
the stage files themselves are read through git's persistent cat-file process. Cost follows the number of
stage changes, not the number of commits or files in the registry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from gitreg import yamlio
from gitreg.errors import GitregError, NotFoundError
from gitreg.gitrepo import GitRepo
from gitreg.manifest import ModelVersion, StageFile
from gitreg.registry import version_path
from gitreg.snapshot import CommitSnapshot
from gitreg.validate import Base, validate
from gitreg.validate.view import ParseCache, View

_STAGE_FILE = re.compile(r"^stages/([^/]+)\.yaml$")
_GITHUB_MERGE = re.compile(r"^Merge pull request #([0-9]{1,18}) from (\S+)")  # 18 digits: an int64
_GITLAB_MERGE = re.compile(r"See merge request (?:[\w./-]+)?!([0-9]{1,18})")
_SQUASH = re.compile(r"\(#([0-9]{1,18})\)\s*$")
_EMPTY_BLOB = "0" * 40


@dataclass
class Landing:
    """A commit on main's first-parent line, as it landed."""

    commit: str
    parents: list[str]
    author: str
    committer: str
    date: str  # when it landed on main (committer date), ISO 8601
    subject: str
    body: str
    changes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # path -> (old, new blob, A/M/D)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def pull_request(self) -> int | None:
        for pattern, text in (
            (_GITHUB_MERGE, self.subject),
            (_GITLAB_MERGE, self.body),
            (_SQUASH, self.subject),
        ):
            match = pattern.search(text)
            if match:
                return int(match.group(1))
        return None

    @property
    def reviewed(self) -> bool:
        """Landed through a pull (merge) request: a forge's merge commit or squash title names it. A
        merge made on a laptop and pushed to main is a direct push, however it looks in the graph."""
        return self.pull_request is not None


@dataclass
class StageChange:
    stage: str
    model: str
    from_version: int | None
    to_version: int | None  # None: the model left the stage
    commit: str
    date: str
    pull_request: int | None
    author: str  # who proposed it: the merged branch's author, or the commit's author
    merged_by: str | None  # who merged it (None for a direct push)
    direct_push: bool
    subject: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def landings(repo: GitRepo, ref: str, paths: list[str]) -> Iterator[Landing]:
    """Commits on ``ref``'s first-parent line that changed ``paths``, newest first, with their raw changes."""
    fmt = "%x1e%H%x1f%P%x1f%an <%ae>%x1f%cn <%ce>%x1f%cI%x1f%s%x1f%b%x1d"
    out = repo.run(
        "-c", "core.quotePath=false", "log", "--first-parent", "--raw", "--no-abbrev", "--no-renames",
        f"--format={fmt}", ref, "--", *paths,
    )  # fmt: skip
    for record in out.split("\x1e"):
        if not record.strip():
            continue
        header, _, raw = record.partition("\x1d")
        commit, parents, author, committer, date, subject, body = header.split("\x1f", 6)
        landing = Landing(commit, parents.split(), author, committer, date, subject, body)
        for line in raw.strip().splitlines():
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) >= 5 and meta.startswith(":"):
                landing.changes[path] = (parts[2], parts[3], parts[4][0])
        yield landing


class _Stages:
    """Parsed stage files by blob id (a stage file's content repeats a lot across history)."""

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.cache: dict[str, dict[str, int]] = {_EMPTY_BLOB: {}}

    def entries(self, blob: str) -> dict[str, int]:
        if blob not in self.cache:
            try:
                doc = yamlio.load(self.repo.read_blob(blob), "stage")
                self.cache[blob] = dict(StageFile.model_validate(doc.data or {}).root)
            except (GitregError, ValueError):
                self.cache[blob] = {}
        return self.cache[blob]


def stage_history(
    repo: GitRepo, ref: str = "main", model: str | None = None, stage: str | None = None
) -> list[StageChange]:
    """Every change of a stage entry along ``ref``'s first-parent history, oldest first."""
    if repo.rev_parse(ref) is None:
        raise NotFoundError(f"{ref!r} does not name a commit", "fetch it first, or pass --ref")
    paths = [f"stages/{stage}.yaml"] if stage else ["stages/"]
    stages = _Stages(repo)
    return [
        change
        for landing in reversed(list(landings(repo, ref, paths)))
        for change in _stage_changes(repo, landing, stages, model)
    ]


def _stage_changes(repo: GitRepo, landing: Landing, stages: _Stages, model: str | None) -> list[StageChange]:
    changes = []
    for path, (old_blob, new_blob, _status) in sorted(landing.changes.items()):
        match = _STAGE_FILE.match(path)
        if not match:
            continue
        old, new = stages.entries(old_blob), stages.entries(new_blob)
        for name in sorted(set(old) | set(new)):
            if (model is None or name == model) and old.get(name) != new.get(name):
                changes.append(
                    StageChange(
                        stage=match.group(1),
                        model=name,
                        from_version=old.get(name),
                        to_version=new.get(name),
                        commit=landing.commit,
                        date=landing.date,
                        pull_request=landing.pull_request,
                        author=_proposer(repo, landing),
                        merged_by=_merger(landing),
                        direct_push=not landing.reviewed,
                        subject=landing.subject,
                    )
                )
    return changes


def _proposer(repo: GitRepo, landing: Landing) -> str:
    """The author of the merged branch's tip for a merge; the commit's author otherwise."""
    if landing.is_merge:
        header = repo.read_blob(landing.parents[1]).decode("utf-8", "replace")
        for line in header.splitlines():
            if line.startswith("author "):
                return line.removeprefix("author ").rsplit(" ", 2)[0]
    return landing.author


def _merger(landing: Landing) -> str | None:
    if landing.pull_request is None:
        return None  # pushed directly: whoever pushed is not recorded in git
    if landing.is_merge:
        return landing.author  # a forge's merge commit, or `git merge`, is authored by whoever merged
    if landing.pull_request is not None:
        return landing.committer  # a squash merge is committed by the forge on the merger's behalf
    return None


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
    repo: GitRepo, ref: str = "main", since: datetime | None = None, until: datetime | None = None
) -> list[AuditEntry]:
    """Evidence for every stage change on ``ref`` in [since, until]: who, when, through which pull request,
    which artifact went live, whether the validator passed that change, and whether it bypassed review."""
    if repo.rev_parse(ref) is None:
        raise NotFoundError(f"{ref!r} does not name a commit", "fetch it first, or pass --ref")
    stages = _Stages(repo)
    held: dict[tuple[str, str], set[int]] = {}
    shared: ParseCache = {}  # a file parsed once for the whole walk, not once per commit that has it
    entries = []
    for landing in reversed(list(landings(repo, ref, ["stages/", "models/", "registry.yaml"]))):
        changes = _stage_changes(repo, landing, stages, None)
        if not changes:
            continue
        landed = datetime.fromisoformat(landing.date)
        if not ((since and landed < since) or (until and landed > until)):
            verdict = _verdict(repo, landing, held, shared)
            for change in changes:
                entries.append(_evidence(repo, change, verdict))
        for change in changes:
            for number in (change.from_version, change.to_version):
                if number is not None:
                    held.setdefault((change.stage, change.model), set()).add(number)
    return entries


def _evidence(repo: GitRepo, change: StageChange, verdict: str) -> AuditEntry:
    digest = size = None
    if change.to_version is not None:
        version = _version_at(repo, change.commit, change.model, change.to_version)
        if version is not None:
            digest, size = version.artifact.digest, version.artifact.size
    flags = ["direct-push"] if change.direct_push else []
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


def _verdict(
    repo: GitRepo, landing: Landing, held: dict[tuple[str, str], set[int]], shared: ParseCache
) -> str:
    """The validator's verdict on the change ``landing`` made to main, against its first parent, with
    rollbacks judged by what the stages held before it."""
    view = View(CommitSnapshot(repo, landing.commit), shared)
    if landing.parents:
        changes = {path: status for path, (_old, _new, status) in landing.changes.items()}

        def held_before(stage: str, model: str, version: int) -> bool:
            # `held` is updated only after this verdict: it is what the stages held before this commit
            return version in held.get((stage, model), set())

        base = Base(View(CommitSnapshot(repo, landing.parents[0]), shared), changes, held_before)
        report = validate(view, base)
    else:
        report = validate(view)
    if not report.errors:
        return "pass"
    first = report.errors[0]
    return f"fail: {first}"
