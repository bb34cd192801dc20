"""Which versions a retention policy retires: a pure function of the versions (number, created_at, status,
size, lineage.parent), what the stages hold now, what they held along main's history, and the clock.

A model's policy is registry.yaml's ``retention`` with each field its model.yaml's ``retention`` sets put
in its place (``effective``). With no ``archive_after`` nothing is retired. An active version is stale when
all of these hold; the first that fails is why it is kept:

1. it is not among the newest ``keep_last`` active versions of its model (by number; default 1);
2. no stage holds it now (any stage file: archiving it would also break the stage, so it is never done);
3. no protected stage (``protect``; unset: every stage) held it at any moment within ``archive_after``
   before now, as main's first-parent history of the stage files shows it (from when each change landed);
4. its ``created_at`` can be read and is older than ``archive_after``.

Then the ``lineage.parent`` of every version kept by those rules is kept too ("parent of a kept version"),
so a version in service can still be compared with what it was derived from. This goes one generation
deep: a version kept only as a parent does not keep its own parent, or a model retrained from each previous
version would keep its whole history. Archived versions are never touched (their manifests stay: history is
never rewritten)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from gitreg import durations
from gitreg.durations import parse_time

DAY = 86400


@dataclass(frozen=True)
class Policy:
    """A model's effective retention policy (see ``effective``)."""

    keep_last: int = 1
    archive_after: str | None = None  # a retention period as written, such as 180d
    protect: tuple[str, ...] | None = None  # None: every stage
    delete_archived_after: str | None = None

    @property
    def window(self) -> timedelta | None:
        return _period(self.archive_after)

    @property
    def delete_after(self) -> timedelta | None:
        return _period(self.delete_archived_after)

    def protects(self, stage: str) -> bool:
        return self.protect is None or stage in self.protect


def _period(text: str | None) -> timedelta | None:
    return None if text is None else timedelta(seconds=durations.retention_seconds(text))


_FIELDS = ("keep_last", "archive_after", "protect", "delete_archived_after")


def effective(registry: Any, model: Any) -> Policy | None:
    """The policy of a model: registry.yaml's ``retention`` (a record or typed model, or None), each field
    the model's ``retention`` sets in its place; None when neither has one. Both already validated."""
    if registry is None and model is None:
        return None
    values: dict[str, Any] = {}
    for source in (registry, model):
        if source is None:
            continue
        for name in _FIELDS:
            value = getattr(source, name, None)
            if value is not None:
                values[name] = tuple(value) if name == "protect" else value
    return Policy(**values)


@dataclass(frozen=True)
class VersionFacts:
    """What retention needs of a version."""

    model: str
    version: int
    created_at: datetime | None  # None: not readable, so its age is unknown (it is kept)
    status: str
    size: int
    parent: int | None = None


@dataclass(frozen=True)
class Holding:
    """A stage held a model's version from ``start`` until ``end`` (None: the history ends with it held)."""

    stage: str
    model: str
    version: int
    start: datetime
    end: datetime | None


class _Commit(Protocol):
    date: str


class _Step(Protocol):
    @property
    def stage(self) -> str: ...
    @property
    def commit(self) -> _Commit: ...
    def changed(self, model: str | None = None) -> list[tuple[str, int | None, int | None]]: ...


def holdings(steps: Iterable[_Step]) -> list[Holding]:
    """The holdings of stage steps (``gitreg.stage_history.StageStep``) taken oldest first."""
    open_: dict[tuple[str, str], tuple[int, datetime]] = {}
    found: list[Holding] = []
    for step in steps:
        when = parse_time(step.commit.date)
        if when is None:
            continue
        for model, _old, new in step.changed():
            held = open_.pop((step.stage, model), None)
            if held is not None:
                found.append(Holding(step.stage, model, held[0], held[1], when))
            if new is not None:
                open_[(step.stage, model)] = (new, when)
    found += [Holding(stage, model, v, start, None) for (stage, model), (v, start) in open_.items()]
    return found


@dataclass(frozen=True)
class Verdict:
    """One active version under a policy: stale or kept, and why."""

    model: str
    version: int
    stale: bool
    reason: str
    age_days: int | None
    size: int

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, **asdict(self)}


@dataclass
class RetirementPlan:
    """What ``retire`` would archive, and why each other active version under a policy stays."""

    now: datetime
    stale: list[Verdict]
    kept: list[Verdict]

    @property
    def bytes(self) -> int:
        return sum(v.size for v in self.stale)

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "stale": [v.as_dict() for v in self.stale],
            "kept": [v.as_dict() for v in self.kept],
            "bytes": self.bytes,
        }


def plan(
    versions: Iterable[VersionFacts],
    policies: Mapping[str, Policy | None],
    current: Mapping[str, Mapping[str, int]],
    held: Iterable[Holding],
    now: datetime,
) -> RetirementPlan:
    """The stale set (see the module's rules): ``policies`` by model, ``current`` {stage: {model:
    version}} as the stage files hold it now, ``held`` the stages' holdings along history."""
    by_model: dict[str, list[VersionFacts]] = {}
    for facts in versions:
        by_model.setdefault(facts.model, []).append(facts)
    held_by: dict[tuple[str, int], list[Holding]] = {}
    for holding in held:
        held_by.setdefault((holding.model, holding.version), []).append(holding)
    holders: dict[tuple[str, int], list[str]] = {}
    for stage, entries in sorted(current.items()):
        for model, number in entries.items():
            holders.setdefault((model, number), []).append(stage)
    result = RetirementPlan(now, [], [])
    for model in sorted(by_model):
        policy = policies.get(model)
        if policy is None or policy.window is None:
            continue
        result_model = _plan_model(by_model[model], policy, holders, held_by, now)
        result.stale += [v for v in result_model if v.stale]
        result.kept += [v for v in result_model if not v.stale]
    return result


def _plan_model(
    versions: list[VersionFacts],
    policy: Policy,
    holders: Mapping[tuple[str, int], list[str]],
    held_by: Mapping[tuple[str, int], list[Holding]],
    now: datetime,
) -> list[Verdict]:
    window = policy.window
    assert window is not None  # noqa: S101 - plan() asks for it
    cutoff = now - window
    active = sorted((v for v in versions if v.status == "active"), key=lambda v: -v.version)
    reasons: dict[int, str] = {}
    candidates: dict[int, str] = {}
    for rank, facts in enumerate(active):
        key = (facts.model, facts.version)
        recent = [
            h for h in held_by.get(key, []) if policy.protects(h.stage) and (h.end is None or h.end >= cutoff)
        ]
        age = _age(facts, now)
        if rank < policy.keep_last:
            reasons[facts.version] = f"among the newest {policy.keep_last} active (keep_last)"
        elif key in holders:
            reasons[facts.version] = f"held by {', '.join(holders[key])}"
        elif recent:
            last = max(recent, key=lambda h: h.end or now)
            until = "now" if last.end is None else last.end.date().isoformat()
            reasons[facts.version] = f"held by {last.stage} until {until}, within {policy.archive_after}"
        elif facts.created_at is None:
            reasons[facts.version] = "its created_at cannot be read, so its age is unknown"
        elif facts.created_at > cutoff:
            reasons[facts.version] = f"created {age}d ago, within {policy.archive_after}"
        else:
            candidates[facts.version] = _why_stale(facts, policy, held_by.get(key, []), age)
    primary = set(reasons)  # kept for their own sake: their parents are kept, not the parents' parents
    for facts in active:
        parent = facts.parent
        if facts.version in primary and parent is not None and parent in candidates:
            del candidates[parent]
            reasons[parent] = f"parent of {facts.model}@{facts.version}, which is kept"
    return [
        Verdict(
            f.model,
            f.version,
            f.version in candidates,
            candidates.get(f.version) or reasons[f.version],
            _age(f, now),
            f.size,
        )
        for f in sorted(active, key=lambda v: v.version)
    ]


def _age(facts: VersionFacts, now: datetime) -> int | None:
    if facts.created_at is None:
        return None
    return max(0, int((now - facts.created_at).total_seconds() // DAY))


def _why_stale(facts: VersionFacts, policy: Policy, held: list[Holding], age: int | None) -> str:
    parts = [
        f"created {age}d ago, over archive_after {policy.archive_after}",
        f"not among the newest {policy.keep_last} active",
    ]
    if held:
        last = max(held, key=lambda h: h.end or h.start)
        when = last.end.date().isoformat() if last.end is not None else "?"
        unprotected = "" if policy.protects(last.stage) else f" ({last.stage} is not protected)"
        parts.append(f"last held by {last.stage} until {when}{unprotected}")
    else:
        parts.append("never held by a stage")
    return "; ".join(parts)


__all__ = [
    "Holding",
    "Policy",
    "RetirementPlan",
    "Verdict",
    "VersionFacts",
    "effective",
    "holdings",
    "plan",
]
