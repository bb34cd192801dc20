"""``audit_entries`` turns Python's cyclic garbage collector off while its walk runs (it makes thousands of
containers a commit and no cycles to speak of), and on again whenever the caller has an entry in hand: so a
caller's own garbage is collected as usual, a walk left halfway gives the collector back, and a collector
the caller had turned off stays off."""

from __future__ import annotations

import gc
from pathlib import Path

from gitreg.gitrepo import GitRepo
from gitreg.ops.history import audit, audit_entries
from ops.test_audit_verdicts import crafted  # noqa: F401 - crafted: a fixture


def test_the_collector_is_off_during_the_walk_and_on_for_the_caller(crafted: Path) -> None:  # noqa: F811
    """With the collector on, the count of young objects never passes its threshold (a collection resets
    it): at the first entry it has, so none ran during the walk."""
    repo = GitRepo.open(crafted)
    assert gc.isenabled()
    young: list[int] = []
    seen: list[bool] = []
    for _entry in audit_entries(repo, "main", cache=False):  # one batch: the whole walk runs first
        young.append(gc.get_count()[0])
        seen.append(gc.isenabled())
    assert seen and all(seen)
    assert young[0] > gc.get_threshold()[0]
    assert gc.isenabled()


def test_a_walk_left_halfway_gives_the_collector_back(crafted: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    entries = audit_entries(repo, "main", batch=1)
    next(entries)
    assert gc.isenabled()
    entries.close()
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(crafted: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    gc.disable()
    try:
        rows = [e.as_dict() for e in audit(repo, "main")]
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert rows == [e.as_dict() for e in audit(repo, "main", cache=False)]
