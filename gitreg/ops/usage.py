"""``gitreg usage``: the versions of a registry snapshot as ``gitreg.usage.Holder``s, and the report.

From the manifests alone, a version refers to one blob: its artifact's digest, with the size recorded. A
file artifact is exactly that. A folder (tree) artifact is its listing plus one blob per file, and its
manifest records only the listing's digest and the files' total size: without the store, the tree counts
as one unit of that size (exact for versions sharing a whole tree, an overcount for trees that share only
some files). With ``check_store`` the listings are read from the store, so files shared between trees are
counted once, and the store's listing is compared with what the manifests refer to.

Which versions the retention policy has expired (``collectable_bytes``) comes from main's history (see
``gitreg.ops.expiry``); outside a git checkout, none has."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gitreg.errors import StorageError, UsageError
from gitreg.ops.expiry import Expiry, expired_versions
from gitreg.ops.gc import stored_blobs
from gitreg.records import Record, VersionRecord
from gitreg.registry import Registry
from gitreg.usage import NONE, Holder, UsageReport, compute

if TYPE_CHECKING:
    from gitreg.storage import BlobStore

GROUPINGS = ("model", "owner", "stage", "tag:KEY")


def check_grouping(by: str) -> str:
    if by in ("model", "owner", "stage") or (by.startswith("tag:") and len(by) > 4):
        return by
    shown = by if len(by) < 40 else by[:20] + "..."
    raise UsageError(
        f"--by {shown!r} is not a grouping", "write model, owner, stage or tag:KEY, e.g. tag:team"
    )


def usage(
    registry: Registry, by: str = "model", check_store: bool = False, now: datetime | None = None
) -> UsageReport:
    """The usage report of ``registry``'s snapshot, grouped ``by`` model, owner, stage or tag:KEY."""
    check_grouping(by)
    stages: dict[tuple[str, int], list[str]] = {}
    for stage in registry.reader.stage_files():
        for model, number in registry.reader.stage_map(stage).items():
            stages.setdefault((model, number), []).append(stage)
    repo = registry.repo
    expiry = expired_versions(repo, now, shared=registry.reader.shared) if repo is not None else Expiry()
    expired = expiry.keys()
    store = registry.store if check_store else None
    listed = [(b.digest, b.size) for b in stored_blobs(store)] if store is not None else None
    trees: dict[str, tuple[tuple[str, int], ...]] = {}
    holders = []
    units = 0
    for model in registry.model_names():
        info = registry.model_record(model)
        for record in registry.version_records(model):
            art = record.artifact
            blobs: tuple[tuple[str, int], ...] = ((art.digest, art.size),)
            if art.type == "tree":
                if store is None:
                    units += 1
                else:
                    if art.digest not in trees:
                        trees[art.digest] = _tree_blobs(store, art.digest, art.size)
                    blobs = trees[art.digest]
            key = (model, record.version)
            holders.append(
                Holder(
                    model,
                    record.version,
                    _groups(by, info, record, stages.get(key, [])),
                    blobs,
                    record.status == "archived",
                    record.status == "archived" and key in expired,
                    art.size,
                )
            )
    report = compute(holders, by, listed)
    if units:
        report.notes.append(
            f"{units} folder artifact(s) counted whole from their manifests: --check-store reads their "
            "listings, counting files shared between folders once"
        )
    if expiry.undetermined:
        report.notes.append(
            f"{len(expiry.undetermined)} archived version(s) under a delete policy with no archival date in "
            "main's history: not counted as collectable"
        )
    return report


def _tree_blobs(store: BlobStore, digest: str, size: int) -> tuple[tuple[str, int], ...]:
    """The listing and the files of a tree in the store; the tree as one unit if its listing is missing."""
    from gitreg.storage import artifact as artifacts  # noqa: PLC0415 - only --check-store reads the store

    try:
        listing = store.size(digest)
        entries = artifacts.tree_entries(store, digest)
    except StorageError:
        return ((digest, size),)
    return ((digest, listing or 0), *((e.digest, e.size) for e in entries))


def _groups(by: str, info: Record, record: VersionRecord, stages: list[str]) -> tuple[str, ...]:
    if by == "model":
        return (record.model,)
    if by == "owner":
        owners = [o for o in info.owners if isinstance(o, str)]
        return tuple(dict.fromkeys(owners)) or (NONE,)
    if by == "stage":
        return tuple(sorted(stages)) or (NONE,)
    key = by.removeprefix("tag:")
    tags = {**_str_map(info.tags), **_str_map(record.tags)}  # a version's tag overrides its model's
    return (tags[key],) if key in tags else (NONE,)


def _str_map(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


__all__ = ["GROUPINGS", "check_grouping", "usage"]
