"""Selecting versions across a registry: by model, stage, status, tags, age and a filter (``gitreg.query``),
sorted and limited. ``Registry.versions`` and ``gitreg list`` both call ``select``; it reads records (no
pydantic), so a search over 10,000 versions costs about what reading their manifests costs.

Every argument is checked before the first manifest is read: a bad filter, an unknown model or stage, a
status that is neither ``active`` nor ``archived`` is an error, never an empty result."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gitreg.durations import parse_time
from gitreg.errors import QueryError, UsageError
from gitreg.query import Query, Versionlike, field_error, field_getter, tokenize, value_kind
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
            if after is not None and ((moment := parse_time(version.created_at)) is None or moment < after):
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


_DURATION = re.compile(r"([0-9]{1,9})\s*(s|m|h|d|w)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(since: str | datetime, now: datetime | None = None) -> datetime:
    """The moment ``since`` names: a datetime, an ISO 8601 date or timestamp (UTC without an offset), or a
    duration back from now: ``90s``, ``30m``, ``12h``, ``7d``, ``2w``."""
    if isinstance(since, datetime):
        return since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    if isinstance(since, str):
        if match := _DURATION.fullmatch(since.strip()):
            delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
            return (now or datetime.now(UTC)) - delta
        if (moment := parse_time(since.strip())) is not None:
            return moment
    raise UsageError(
        f"since {_short(str(since))!r} is neither a duration nor a date",
        "write a duration such as 7d, 12h, 30m or 2w, or an ISO 8601 date such as 2026-11-01",
    )


@dataclass(frozen=True)
class Order:
    """``order_by``: a field, descending with a leading ``-``. Versions without the field come last."""

    field: str
    descending: bool
    parts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Order:
        if not isinstance(text, str):
            raise UsageError(f"order_by is a field name, not {type(text).__name__}")
        descending = text.startswith("-")
        path = text.removeprefix("-").strip()
        try:
            tokens = tokenize(path) if path else []
        except QueryError:
            tokens = []
        if len(tokens) != 2 or tokens[0].kind != "field":
            raise UsageError(
                f"cannot sort by {_short(path)!r}: name one field",
                "such as metrics.auc, or -metrics.auc for the highest first",
            )
        parts = tokens[0].value
        if error := field_error(parts, 1):
            raise UsageError(
                f"cannot sort by {_short(path)!r}: {error.message.split(': ', 1)[1]}",
                error.hint
                if error.hint and error.hint.startswith("did")
                else "sort by a field, such as metrics.auc, or -metrics.auc for the highest first",
            )
        return cls(path, descending, parts)

    def sort(self, items: list[Any], version_of: Callable[[Any], Versionlike]) -> list[Any]:
        """``items`` (already in their default order) stably sorted by this field."""
        keyed, missing = [], []
        get = field_getter(self.parts or tuple(self.field.split(".")))
        for item in items:
            value = get(version_of(item))
            kind = value_kind(value)
            if kind is None:
                missing.append(item)
            else:
                keyed.append(((kind, value), item))
        # values of one kind compare among themselves; kinds in a fixed order
        keyed.sort(key=lambda pair: pair[0], reverse=self.descending)
        return [item for _, item in keyed] + missing


def tag_filter(tags: Mapping[str, str] | None) -> dict[str, str]:
    """``tags``, checked: every key and value a string."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise UsageError("tags is a mapping of strings to strings, such as {'team': 'risk'}")
    return dict(tags)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _has_tags(tags: object, wanted: dict[str, str]) -> bool:
    return isinstance(tags, dict) and all(tags.get(k) == v for k, v in wanted.items())


__all__ = ["STATUSES", "Order", "parse_since", "select", "tag_filter"]
