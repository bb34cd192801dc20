"""Which archived versions have been archived longer than their policy's ``delete_archived_after``, so that
gc may collect the blobs only they refer to, and ``usage`` can say how many bytes that frees.

When was a version archived? When the commit that made its manifest say ``status: archived`` landed on
main: main's first-parent history of its manifest is walked from the newest commit back to the first one
whose parent did not have it archived (or did not have the file: a version added archived). That commit's
committer date (when it landed on main; for a merge, the merge) is the archival time; a later restore and
archive again counts from the later archive. Main is ``origin/main`` when the checkout has it, else
``main``. When the history cannot say (a shallow clone, a manifest the walk never reaches, a parent
manifest that does not parse), the version is not collectable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from gitreg import yamlio
from gitreg.durations import parse_time
from gitreg.errors import GitregError
from gitreg.gitoutput import ZERO_SHA
from gitreg.gitrepo import GitRepo
from gitreg.layout import DEFAULT_BRANCH, MODELS_DIR, model_path, version_path
from gitreg.ops.retire import policies
from gitreg.reader import ParseCache, Reader
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot

#: Up to this many manifests, git's log is asked for their paths alone; beyond, for all of models/.
_PATHSPEC_LIMIT = 200


@dataclass(frozen=True)
class Expired:
    """An archived version past its ``delete_archived_after``."""

    model: str
    version: int
    archived_at: datetime
    manifest_blob: str  # the git blob of its manifest on main

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"


@dataclass
class Expiry:
    """The expired versions on ``ref`` (None: no main to read a policy from)."""

    ref: str | None = None
    expired: list[Expired] = field(default_factory=list)
    #: Archived versions under a delete policy whose archival time the history cannot tell (kept).
    undetermined: list[str] = field(default_factory=list)

    @property
    def manifest_blobs(self) -> frozenset[str]:
        return frozenset(e.manifest_blob for e in self.expired)

    def keys(self) -> set[tuple[str, int]]:
        return {(e.model, e.version) for e in self.expired}


def policy_ref(repo: GitRepo) -> str | None:
    """Where the policy and the archival history are read: origin/main if the checkout has it, else main."""
    for ref in (f"refs/remotes/origin/{DEFAULT_BRANCH}", f"refs/heads/{DEFAULT_BRANCH}"):
        if repo.rev_parse(ref) is not None:
            return ref
    return None


def expired_versions(
    repo: GitRepo, now: datetime | None = None, ref: str | None = None, shared: ParseCache | None = None
) -> Expiry:
    """The versions archived on main longer ago than their policy's ``delete_archived_after``. ``shared``:
    a parse cache of another reader of the same registry (a file unchanged since main is parsed once)."""
    ref = ref or policy_ref(repo)
    commit = repo.rev_parse(ref) if ref is not None else None
    if ref is None or commit is None:
        return Expiry()
    now = now or datetime.now(UTC)
    registry = Registry(CommitSnapshot(repo, commit), repo, repo.workdir)
    if shared is not None:
        registry.reader = Reader(registry.snapshot, shared)
    names = registry.model_names()
    registry.snapshot.prefetch([model_path(name) for name in names])
    found = policies(registry, names, lenient=True)
    pending: dict[str, tuple[str, int]] = {}  # manifest path -> (model, version), archived, under a policy
    deleting = [n for n in names if (p := found.get(n)) is not None and p.delete_after is not None]
    numbers = {name: registry.version_numbers(name) for name in deleting}
    registry.snapshot.prefetch([version_path(name, n) for name in deleting for n in numbers[name]])
    for name in deleting:
        for number in numbers[name]:
            if registry.version_record(name, number).status == "archived":
                pending[version_path(name, number)] = (name, number)
    result = Expiry(ref)
    if not pending:
        return result
    archived_at = {} if repo.is_shallow() else _archival_times(repo, commit, set(pending))
    blobs = repo.ls_tree(commit, [MODELS_DIR])
    for path, (name, number) in sorted(pending.items(), key=lambda item: item[1]):
        when = archived_at.get(path)
        if when is None:
            result.undetermined.append(f"{name}@{number}")
            continue
        policy = found[name]
        delete_after = policy.delete_after if policy is not None else None
        if delete_after is not None and now - when >= delete_after:
            result.expired.append(Expired(name, number, when, blobs[path]))
    return result


def _archival_times(repo: GitRepo, commit: str, paths: set[str]) -> dict[str, datetime]:
    """{manifest path: when the commit that archived it landed}, walking main's history newest first."""
    spec = sorted(paths) if len(paths) <= _PATHSPEC_LIMIT else [f"{MODELS_DIR}/"]
    todo = set(paths)
    found: dict[str, datetime] = {}
    for logged in repo.first_parent_log(commit, spec):
        for path in todo & set(logged.changes):
            old, _new, _status = logged.changes[path]
            before = None if old == ZERO_SHA else _status_of(repo, old)
            if before == "archived":
                continue  # archived already before this commit
            todo.discard(path)
            when = parse_time(logged.date)
            if before != "unreadable" and when is not None:
                found[path] = when
        if not todo:
            break
    return found


def _status_of(repo: GitRepo, blob: str) -> str:
    try:
        data = yamlio.load(repo.read_blob(blob), "manifest").data
    except GitregError:
        return "unreadable"
    status = data.get("status", "active") if isinstance(data, dict) else None
    return status if isinstance(status, str) else "unreadable"


__all__ = ["Expired", "Expiry", "expired_versions", "policy_ref"]
