"""Storage usage: how many bytes each group of versions (by model, owner, tag or stage) holds in the blob
store, counting each blob once per group, since the same bytes are stored once whoever refers to them.

A pure function over the versions as ``Holder``s (which groups a version is in, which blobs it refers to,
whether it is archived, and whether a retention policy has expired it) and, optionally, the store's listing.
``gitreg.ops.usage`` gathers them from a registry; the catalog renders the same report.

- ``bytes``: each blob the group's versions refer to, once;
- ``shared_bytes``: of those, the blobs some other group refers to as well (so the groups' ``bytes`` add up
  to more than the total by the shared bytes counted again);
- ``archived_only_bytes``: of those, the blobs only archived versions (of any group) refer to: what retiring
  freed from service, and what a ``delete_archived_after`` policy will let gc take;
- ``collectable_bytes`` (total only): the blobs only versions archived longer than their policy's
  ``delete_archived_after`` refer to, which ``gitreg gc`` would free;
- with the store's listing: what it holds, what it lacks, and the blobs nothing
  refers to (gc's other part)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

#: A version in no group of the chosen kind (no owner, no such tag, no stage).
NONE = "(none)"


@dataclass(frozen=True)
class Holder:
    """A version as usage sees it."""

    model: str
    version: int
    groups: tuple[str, ...]
    blobs: tuple[tuple[str, int], ...]  # (digest, size) of each blob it refers to
    archived: bool = False
    expired: bool = False  # archived longer than its policy's delete_archived_after
    recorded_size: int = 0  # artifact.size as the manifest records it


@dataclass(frozen=True)
class GroupUsage:
    name: str
    versions: int
    bytes: int
    shared_bytes: int
    archived_only_bytes: int
    naive_bytes: int  # the sum of the versions' recorded sizes: what a naive sum says


@dataclass(frozen=True)
class StoreCheck:
    """The manifests' blobs against the store's listing."""

    stored_blobs: int
    stored_bytes: int
    missing: list[str]  # referenced digests the store does not hold
    unreferenced_blobs: int
    unreferenced_bytes: int  # stored blobs no version of this snapshot refers to


@dataclass
class UsageReport:
    by: str
    groups: list[GroupUsage]
    versions: int
    total_bytes: int  # every referenced blob once
    naive_bytes: int
    shared_bytes: int  # bytes of the blobs more than one group refers to (each once)
    archived_only_bytes: int
    collectable_bytes: int
    store: StoreCheck | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def csv(self) -> str:
        """One row per group, then a ``(total)`` row: for a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["group", "versions", "bytes", "shared_bytes", "archived_only_bytes", "naive_bytes"])
        for g in self.groups:
            writer.writerow(
                [g.name, g.versions, g.bytes, g.shared_bytes, g.archived_only_bytes, g.naive_bytes]
            )
        writer.writerow(
            [
                "(total)",
                self.versions,
                self.total_bytes,
                self.shared_bytes,
                self.archived_only_bytes,
                self.naive_bytes,
            ]
        )
        return out.getvalue()


def compute(
    holders: Iterable[Holder], by: str, stored: Iterable[tuple[str, int]] | None = None
) -> UsageReport:
    """The report of ``holders`` grouped as their ``groups`` say (``by`` names the grouping); with
    ``stored`` ((digest, size) of every blob in the store), also the store check."""
    sizes: dict[str, int] = {}
    groups_of: dict[str, set[str]] = {}  # digest -> groups referring to it
    live: set[str] = set()  # digests some active version refers to
    kept: set[str] = set()  # digests some version that is not expired refers to
    members: dict[str, list[Holder]] = {}
    count = naive = 0
    for holder in holders:
        count += 1
        naive += holder.recorded_size
        for group in holder.groups:
            members.setdefault(group, []).append(holder)
        for digest, size in holder.blobs:
            sizes[digest] = size
            groups_of.setdefault(digest, set()).update(holder.groups)
            if not holder.archived:
                live.add(digest)
            if not holder.expired:
                kept.add(digest)
    shared = {d for d, g in groups_of.items() if len(g) > 1}
    archived_only = set(sizes) - live
    groups = []
    for name in sorted(members):
        digests = {d for h in members[name] for d, _ in h.blobs}
        groups.append(
            GroupUsage(
                name,
                len(members[name]),
                sum(sizes[d] for d in digests),
                sum(sizes[d] for d in digests & shared),
                sum(sizes[d] for d in digests & archived_only),
                sum(h.recorded_size for h in members[name]),
            )
        )
    report = UsageReport(
        by,
        groups,
        count,
        sum(sizes.values()),
        naive,
        sum(sizes[d] for d in shared),
        sum(sizes[d] for d in archived_only),
        sum(sizes[d] for d in set(sizes) - kept),
    )
    if stored is not None:
        listing = dict(stored)
        unreferenced = set(listing) - set(sizes)
        report.store = StoreCheck(
            len(listing),
            sum(listing.values()),
            sorted(set(sizes) - set(listing)),
            len(unreferenced),
            sum(listing[d] for d in unreferenced),
        )
    return report


__all__ = ["NONE", "GroupUsage", "Holder", "StoreCheck", "UsageReport", "compute"]
