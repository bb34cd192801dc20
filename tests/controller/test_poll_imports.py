"""``gitreg controller --once`` finding nothing new imports none of the standard library's heavy modules
either: ``dataclasses`` (which loads ``inspect``, ``ast`` and ``dis``), ``typing``, ``shutil`` (``bz2``,
``lzma``) and ``datetime`` are for a poll with work (issue #11, target 4). A test of imports, not of time."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.helpers import Remote, run_controller
from controller.test_poll import imported_by, once_argv

HEAVY_STDLIB = ("dataclasses", "inspect", "ast", "dis", "typing", "shutil", "bz2", "lzma", "datetime")


@pytest.fixture
def deployed(remote: Remote, target: Path) -> str:
    """fraud@1 in production, applied to ``target`` by a first --once: the commit."""
    remote.register("fraud", seed=1)
    commit = remote.stage({"fraud": 1})
    assert run_controller(remote, target).returncode == 0
    return commit


def test_a_poll_with_nothing_new_imports_no_heavy_standard_library(
    remote: Remote, target: Path, deployed: str
) -> None:
    result, modules = imported_by(once_argv(remote, target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"unchanged {deployed[:12]}: no change\n"
    assert "gitreg.controller.poll" in modules  # the quick path answered
    assert sorted(m for m in HEAVY_STDLIB if m in modules) == []

    # A poll with work runs the full controller, which loads them: the guard is not blind.
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 2})
    result, modules = imported_by(once_argv(remote, target))
    assert result.returncode == 0, result.stderr
    assert {"dataclasses", "typing", "shutil"} <= modules
