"""Garbage collection of the blob store: mark every digest that a version manifest references on any branch or
tag of the registry (remote-tracking branches included, and every file of a referenced tree), then sweep the
blobs nobody references that are older than a grace period, and the unfinished uploads older than it.

The grace period protects a registration in progress: its blobs are stored before its manifest is committed,
and a blob it finds already stored is touched (its modification time refreshed) before it commits. So a sweep
that races a registration cannot take its blobs: the references are read again just before deleting (a version
committed meanwhile keeps its blobs), and each blob's age is checked again at the moment it is deleted (on the
local store after moving it aside, so a touch cannot slip in between). gc assumes the store belongs to this
registry alone (a store shared by several registries would lose the others' blobs), so it refuses the per-user
default store, which every registry on the machine shares unless told otherwise.

A retention policy's ``delete_archived_after`` (see ``gitreg.ops.expiry``) lets gc take more: a manifest
that main holds archived for longer than that marks nothing, so the blobs only such versions refer to are
collected (after the same grace period, with the same checks). The same manifest on another branch or tag
marks nothing either, since it is the same archived file; a branch or tag where the version is active, or
where its manifest differs, still keeps its blobs."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gitreg import durations, yamlio
from gitreg.errors import GitregError, StorageError, UsageError
from gitreg.gitrepo import GitRepo
from gitreg.layout import DIGEST, DIGEST_ANYWHERE, NUMBERED_VERSION_FILE
from gitreg.ops.expiry import Expired, Expiry, expired_versions
from gitreg.registry import Registry
from gitreg.storage import Blob, BlobStore, Incomplete, default_store_url
from gitreg.storage import artifact as artifacts
from gitreg.storage.protocol import discard, incomplete

#: The longest grace accepted: a hundred years keeps everything, and a longer one overflows date arithmetic.
MAX_GRACE = durations.MAX_SECONDS


def parse_duration(text: str) -> float:
    """Seconds in ``7d``, ``12h``, ``30m``, ``45s``, ``2w`` or ``0`` (the grammar of ``gitreg.durations``)."""
    shown = text if len(text) < 40 else text[:20] + "..."
    match = durations.DURATION.fullmatch(text.strip())
    if not match:
        raise UsageError(f"--grace {shown!r} is not a duration", "write e.g. 7d, 12h, 30m, 45s or 0")
    seconds = int(match[1]) * durations.UNITS[match[2]]
    if seconds > MAX_GRACE:
        raise UsageError(f"--grace {shown!r} is longer than a century", "write at most 36500d")
    return float(seconds)


@dataclass
class Plan:
    """What a collection deletes (or would): unreferenced blobs and unfinished uploads past the grace."""

    referenced: set[str]
    cutoff: float = 0.0  # blobs modified at or after this (seconds since the epoch) are young
    tips: dict[str, str] = field(default_factory=dict)  # the ref tips the references were read from
    kept: int = 0  # blobs in the store that are referenced
    young: list[Blob] = field(default_factory=list)  # unreferenced, but inside the grace period
    blobs: list[Blob] = field(default_factory=list)
    uploads: list[Incomplete] = field(default_factory=list)
    #: The retention policy's expired versions, whose manifests mark nothing (see gitreg.ops.expiry).
    expiry: Expiry = field(default_factory=Expiry)
    #: Each expired version, and the bytes of the collectable blobs it refers to.
    freed: list[tuple[Expired, int]] = field(default_factory=list)
    expired_digests: set[str] = field(default_factory=set)  # the blobs they refer to

    @property
    def freed_bytes(self) -> int:
        """Bytes of the collectable blobs that expired versions refer to (each blob once)."""
        return sum(b.size for b in self.blobs if b.digest in self.expired_digests)

    @property
    def bytes(self) -> int:
        return sum(b.size for b in self.blobs) + sum(u.size or 0 for u in self.uploads)


def referenced_digests(registry: Registry, store: BlobStore, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every digest referenced at the tip of any branch, remote-tracking branch or tag, except by the
    manifests ``skip`` lists (git blob ids: the expired versions' manifests)."""
    repo = registry.repo
    if repo is None:
        raise GitregError("gc needs a registry repository", "run it inside a registry checkout")
    manifests: dict[str, str] = {}  # git blob sha -> path, across every ref
    for commit in _ref_commits(repo):
        for path, sha in repo.ls_tree(commit, ["models"]).items():
            if NUMBERED_VERSION_FILE.match(path) and sha not in skip:
                manifests.setdefault(sha, path)
    marked: set[str] = set()
    trees: set[str] = set()
    for sha, path in manifests.items():
        data = repo.read_blob(sha)
        digest, kind = _artifact_of(data, path)
        if digest is not None:
            marked.add(digest)
            if kind == "tree":
                trees.add(digest)
        else:  # a manifest gitreg cannot read: keep everything it mentions, and any tree among them
            found = set(DIGEST_ANYWHERE.findall(data.decode("utf-8", errors="replace")))
            marked |= found
            trees |= {d for d in found if _looks_like_tree(store, d)}
    for digest in sorted(trees):
        try:
            entries = artifacts.tree_entries(store, digest)
        except StorageError as exc:
            if store.size(digest) is None:
                continue  # a missing tree has no files to keep
            raise GitregError(
                f"cannot read tree listing {digest}, so gc cannot tell which files it needs: {exc.message}",
                "run gitreg verify --all and repair the store first",
            ) from None
        marked |= {e.digest for e in entries}
    return marked


def _ref_tips(repo: GitRepo) -> dict[str, str]:
    return repo.ref_tips("refs/heads", "refs/remotes", "refs/tags")


def _ref_commits(repo: GitRepo) -> list[str]:
    commits = set(_ref_tips(repo).values())
    return sorted(c for c in commits if repo.rev_parse(c) is not None)


def _artifact_of(data: bytes, path: str) -> tuple[str | None, str | None]:
    try:
        doc = yamlio.load(data, path).data
        art = doc["artifact"]
        digest, kind = art["digest"], art.get("type", "file")
    except (GitregError, KeyError, TypeError, AttributeError):
        return None, None
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        return None, None
    return digest, str(kind)


def _looks_like_tree(store: BlobStore, digest: str) -> bool:
    try:
        size = store.size(digest)
        if size is None or size > 64 * 1024 * 1024:
            return False
        artifacts.tree_entries(store, digest)
    except GitregError:
        return False
    return True


def plan(registry: Registry, grace: float, allow_shared: bool = False, now: float | None = None) -> Plan:
    store = registry.store
    if store.url == default_store_url() and not allow_shared:
        raise GitregError(
            f"the blob store {store.url} is the per-user default that every registry on this machine "
            "shares, so gc could delete other registries' blobs",
            "give this registry its own storage.url, or pass --shared-store if it has the store alone",
        )
    now = time.time() if now is None else now
    repo = registry.repo
    tips = _ref_tips(repo) if repo is not None else {}
    expiry = expired_versions(repo, datetime.fromtimestamp(now, UTC)) if repo is not None else Expiry()
    referenced = referenced_digests(registry, store, expiry.manifest_blobs)
    result = Plan(referenced, cutoff=now - grace, tips=tips, expiry=expiry)
    for blob in stored_blobs(store):
        if blob.digest in result.referenced:
            result.kept += 1
        elif blob.modified is None or blob.modified > result.cutoff:  # unknown age counts as young
            result.young.append(blob)
        else:
            result.blobs.append(blob)
    result.uploads = [u for u in incomplete(store) if now - u.started >= grace]
    if repo is not None and expiry.expired:
        _attribute(repo, store, result)
    return result


def stored_blobs(store: BlobStore) -> list[Blob]:
    """Every blob in the store; one StorageError if the store cannot be listed (nothing is deleted then)."""
    try:
        return list(store.digests())
    except OSError as exc:
        raise StorageError(
            f"cannot list the blob store at {store.url}: {exc.strerror or exc}",
            "check the storage URL and the store's folders; nothing was deleted",
        ) from None


def _attribute(repo: GitRepo, store: BlobStore, result: Plan) -> None:
    """Which collectable blobs each expired version refers to, and their bytes."""
    sizes = {b.digest: b.size for b in result.blobs}
    for expired in result.expiry.expired:
        digest, kind = _artifact_of(repo.read_blob(expired.manifest_blob), "manifest")
        mine = {digest} if digest is not None else set()
        if digest is not None and kind == "tree":
            with contextlib.suppress(StorageError):  # a tree gone or unreadable: its listing alone counts
                mine |= {e.digest for e in artifacts.tree_entries(store, digest)}
        mine &= set(sizes)
        result.expired_digests |= mine
        result.freed.append((expired, sum(sizes[d] for d in mine)))


def sweep(
    store: BlobStore,
    todo: Plan,
    on_delete: Callable[[Blob | Incomplete], None] | None = None,
    registry: Registry | None = None,
) -> None:
    """Delete what ``todo`` lists (unfinished uploads first, then blobs). With ``registry``, the references
    are read again first if any branch or tag moved since ``plan``, and a blob referenced now is kept; a blob
    touched since ``plan`` (a registration found it stored) is kept too."""
    for upload in todo.uploads:
        discard(store, upload)
        if on_delete:
            on_delete(upload)
    if registry is not None and registry.repo is not None and _ref_tips(registry.repo) != todo.tips:
        now_referenced = referenced_digests(registry, store, todo.expiry.manifest_blobs)
        todo.blobs = [b for b in todo.blobs if b.digest not in now_referenced]
    delete_old = getattr(store, "delete_unless_newer", None)
    kept = []
    for blob in todo.blobs:
        if delete_old is not None and not delete_old(blob.digest, todo.cutoff):
            kept.append(blob)  # touched meanwhile: a registration is using it
            continue
        if delete_old is None:
            store.delete(blob.digest)
        if on_delete:
            on_delete(blob)
    todo.blobs = [b for b in todo.blobs if b not in kept]
    todo.young += kept


__all__ = ["Expired", "Plan", "parse_duration", "plan", "referenced_digests", "stored_blobs", "sweep"]
