"""Selecting versions across a registry: by model, stage, status, tags, age and a filter (``gitreg.query``),
sorted and limited. ``Registry.versions`` and ``gitreg list`` both call ``select``; it reads records (no
pydantic), so a search over 10,000 versions costs about what reading their manifests costs.

Every argument is checked before the first manifest is read: a bad filter, an unknown model or stage, a
status that is neither ``active`` nor ``archived`` is an error, never an empty result."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from gitreg.errors import UsageError
from gitreg.query import Order, Query, parse_since, tag_filter, timestamp
from gitreg.summary import VersionWithStages

if TYPE_CHECKING:
    from gitreg.registry import Registry

STATUSES = ("active", "archived")


def select(
    registry: Registry,
    model: str | None = None,
    *,
    stage: str | None = None,
    status: str | None = "active",
    where: str | Query | None = None,
    tags: Mapping[str, str] | None = None,
    since: str | datetime | None = None,
    order_by: str | None = None,
    limit: int | None = None,
) -> list[VersionWithStages]:
    """The versions of ``model`` (of every model if None) that match every criterion given, each with the
    stages that hold it: held by ``stage``; with ``status`` (``active``, ``archived``, or None for both);
    matching the filter ``where`` (``"metrics.auc >= 0.9 and framework.name == 'sklearn'"``: see
    ``gitreg.query``); carrying every tag of ``tags``; registered ``since`` a date or a duration ago
    (``"7d"``, ``"2026-11-01"``). By model name then version number, or by ``order_by`` (a field, ``-``
    first for the highest first; versions without it last); at most ``limit``. A bad filter is a
    ``QueryError`` naming the column; an unknown model or stage a ``NotFoundError``."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"status {status!r} is neither active nor archived", "pass None for both")
    query = Query.parse(where) if isinstance(where, str) else where
    wanted_tags = tag_filter(tags)
    after = parse_since(since) if since is not None else None
    order = Order.parse(order_by) if order_by is not None else None
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UsageError(f"limit {limit!r} is not a positive number of versions")
    held = registry.stage(stage) if stage is not None else None  # refuses an undeclared stage
    if model is not None:
        registry.model_record(model)  # refuses an unknown model
    stage_maps = {s: registry.reader.stage_map(s) for s in registry.stage_names()}

    found: list[VersionWithStages] = []
    for name in [model] if model is not None else registry.model_names():
        numbers = registry.version_numbers(name)
        if held is not None:
            numbers = [n for n in numbers if held.get(name) == n]
        for number in numbers:
            version = registry.version_record(name, number)
            if status is not None and version.status != status:
                continue
            if wanted_tags and not _has_tags(version.tags, wanted_tags):
                continue
            if after is not None and ((moment := timestamp(version.created_at)) is None or moment < after):
                continue
            if query is not None and not query.matches(version):
                continue
            stages = [s for s, entries in stage_maps.items() if entries.get(name) == number]
            found.append(VersionWithStages(version, stages))
            if limit is not None and order is None and len(found) == limit:
                return found
    if order is not None:
        found = order.sort(found, lambda item: item.version)
    return found[:limit] if limit is not None else found


def _has_tags(tags: object, wanted: dict[str, str]) -> bool:
    return isinstance(tags, dict) and all(tags.get(k) == v for k, v in wanted.items())


__all__ = ["STATUSES", "select"]
