"""gitreg.retention: the stale set as a pure function, its rules one by one, and a property over random
histories: no version a stage holds, held within the window, among the newest keep_last, or a parent of a
version kept for its own sake is ever stale."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from gitreg.retention import Holding, Policy, VersionFacts, effective, holdings, plan
from gitreg.stage_history import StageStep

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def facts(version: int, days: float, *, status: str = "active", parent: int | None = None) -> VersionFacts:
    return VersionFacts("m", version, ago(days), status, 100 * version, parent)


POLICY = Policy(keep_last=1, archive_after="180d")


def stale_of(versions: list[VersionFacts], policy: Policy = POLICY, current=None, held=()) -> list[int]:  # type: ignore[no-untyped-def]
    found = plan(versions, {"m": policy}, current or {}, list(held), NOW)
    return [v.version for v in found.stale]


def test_old_active_versions_beyond_keep_last_are_stale() -> None:
    versions = [facts(1, 400), facts(2, 300), facts(3, 200), facts(4, 100), facts(5, 10)]
    assert stale_of(versions) == [1, 2, 3]
    assert stale_of(versions, Policy(keep_last=4, archive_after="180d")) == [1]
    assert stale_of(versions, Policy(keep_last=1, archive_after="52w")) == [1]


def test_without_archive_after_nothing_is_stale() -> None:
    assert stale_of([facts(1, 4000), facts(2, 10)], Policy(keep_last=1)) == []


def test_archived_versions_are_not_counted_or_listed() -> None:
    versions = [facts(1, 400), facts(2, 300, status="archived"), facts(3, 200, status="archived")]
    found = plan(versions, {"m": POLICY}, {}, [], NOW)
    assert [v.version for v in found.stale + found.kept] == [1]  # v1 is the newest active: kept
    assert found.kept[0].reason == "among the newest 1 active (keep_last)"


def test_a_version_a_stage_holds_is_kept() -> None:
    versions = [facts(1, 400), facts(2, 10)]
    assert stale_of(versions, current={"canary": {"m": 1}}) == []


def test_held_within_the_window_by_a_protected_stage_is_kept() -> None:
    versions = [facts(1, 400), facts(2, 300), facts(3, 10)]
    held = [Holding("production", "m", 1, ago(390), ago(100)), Holding("staging", "m", 2, ago(290), ago(50))]
    assert stale_of(versions, held=held) == []  # protect unset: every stage counts
    only_production = Policy(keep_last=1, archive_after="180d", protect=("production",))
    found = plan(versions, {"m": only_production}, {}, held, NOW)
    assert [v.version for v in found.stale] == [2]
    assert found.stale[0].reason == (
        "created 300d ago, over archive_after 180d; not among the newest 1 active; "
        f"last held by staging until {ago(50).date().isoformat()} (staging is not protected)"
    )
    left_long_ago = [Holding("production", "m", 1, ago(390), ago(200))]
    assert stale_of(versions, only_production, held=left_long_ago) == [1, 2]


def test_the_parent_of_a_kept_version_is_kept_one_generation_deep() -> None:
    versions = [facts(1, 500), facts(2, 400, parent=1), facts(3, 300, parent=2), facts(4, 10, parent=3)]
    found = plan(versions, {"m": POLICY}, {}, [], NOW)
    assert [v.version for v in found.stale] == [1, 2]
    assert {v.version: v.reason for v in found.kept}[3] == "parent of m@4, which is kept"


def test_an_unreadable_created_at_keeps_the_version() -> None:
    versions = [VersionFacts("m", 1, None, "active", 5), facts(2, 10)]
    assert stale_of(versions) == []


def test_a_model_overrides_the_registry_field_by_field() -> None:
    class R:  # what a record or typed model gives: attributes, None where unset
        def __init__(self, **kw: object) -> None:
            self.__dict__.update(dict.fromkeys(("keep_last", "archive_after", "protect"), None) | kw)

    registry = R(keep_last=3, archive_after="180d", protect=["production"], delete_archived_after="365d")
    assert effective(registry, R(keep_last=5)) == Policy(5, "180d", ("production",), "365d")
    assert effective(None, None) is None
    assert effective(None, R(archive_after="2w")) == Policy(1, "2w", None, None)
    assert Policy(archive_after="2w").window == timedelta(days=14)


def test_holdings_from_stage_steps() -> None:
    from gitreg.gitoutput import LogCommit  # noqa: PLC0415

    def step(day: float, stage: str, before: dict[str, int], after: dict[str, int]) -> StageStep:
        commit = LogCommit("c", [], "a", "c", ago(day).isoformat(), "s", "")
        return StageStep(commit, stage, before, after)

    steps = [
        step(300, "production", {}, {"m": 1}),
        step(200, "production", {"m": 1}, {"m": 2}),
        step(100, "production", {"m": 2}, {}),
        step(50, "production", {}, {"m": 3}),
    ]
    assert holdings(steps) == [
        Holding("production", "m", 1, ago(300), ago(200)),
        Holding("production", "m", 2, ago(200), ago(100)),
        Holding("production", "m", 3, ago(50), None),
    ]


@pytest.mark.parametrize("seed", range(300))
def test_property_nothing_protected_is_ever_stale(seed: int) -> None:
    """Random versions, stage histories, current stages and policies: whatever is stale is none of what
    the rules protect, and everything else active is kept with a reason."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    count = rng.randint(1, 12)
    versions = [
        VersionFacts(
            "m",
            n,
            ago(rng.uniform(0, 900)) if rng.random() > 0.05 else None,
            "archived" if rng.random() < 0.2 else "active",
            rng.randint(0, 10**6),
            rng.randint(1, n - 1) if n > 1 and rng.random() < 0.5 else None,
        )
        for n in range(1, count + 1)
    ]
    stages = ["staging", "production", "canary"]
    held: list[Holding] = []
    current: dict[str, dict[str, int]] = {}
    for stage in stages:
        day = 1000.0
        version: int | None = None
        while day > 0:
            nxt = day - rng.uniform(1, 300)
            if version is not None:
                held.append(Holding(stage, "m", version, ago(day), ago(nxt) if nxt > 0 else None))
            version = rng.randint(1, count) if rng.random() < 0.8 else None
            day = nxt
        last = [h for h in held if h.stage == stage and h.end is None]
        if last:
            current[stage] = {"m": last[0].version}
    policy = Policy(
        keep_last=rng.randint(1, 4),
        archive_after=f"{rng.randint(0, 400)}d",
        protect=tuple(rng.sample(stages, rng.randint(0, 3))) if rng.random() < 0.6 else None,
    )
    found = plan(versions, {"m": policy}, current, held, NOW)
    stale = {v.version for v in found.stale}
    window = policy.window
    assert window is not None
    active = sorted((v for v in versions if v.status == "active"), key=lambda v: -v.version)
    in_stage = {n for entries in current.values() for n in entries.values()}
    recent = {
        h.version for h in held if policy.protects(h.stage) and (h.end is None or h.end >= NOW - window)
    }
    newest = {v.version for v in active[: policy.keep_last]}
    assert not stale & in_stage
    assert not stale & recent
    assert not stale & newest
    for v in found.stale:
        assert v.age_days is not None and v.age_days >= window.days
    primary = {v.version for v in found.kept if not v.reason.startswith("parent of")}
    parents = {v.parent for v in versions if v.version in primary and v.parent is not None}
    assert not stale & parents
    assert {v.version for v in found.stale + found.kept} == {v.version for v in active}
