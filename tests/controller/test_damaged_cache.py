"""A controller's git cache (``DIR/.gitreg/git``) damaged by a power cut or a full disk is rebuilt, and the
new commit applied; the controller never writes outside its target, whatever it finds there."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from controller.helpers import Remote, check_target, controller_argv, live, status_of
from gitreg.controller import Controller, ControllerConfig, reconcile_once
from testing import git, tree_state


def config(remote: Remote, target: Path) -> ControllerConfig:
    return ControllerConfig(remote.url, "production", target)


def truncate_objects(cache: Path) -> None:
    for path in (cache / "objects").rglob("*"):
        if path.is_file() and path.parent.name not in ("info",):
            path.chmod(0o644)
            path.write_bytes(path.read_bytes()[: max(len(path.read_bytes()) // 3, 1)])


def corrupt_objects(cache: Path) -> None:
    for path in (cache / "objects").rglob("*"):
        if path.is_file() and path.parent.name not in ("info",):
            path.chmod(0o644)
            path.write_bytes(b"\0" * path.stat().st_size)


def break_head(cache: Path) -> None:
    (cache / "HEAD").write_bytes(b"")


def break_refs(cache: Path) -> None:
    for ref in (cache / "refs").rglob("*"):
        if ref.is_file():
            ref.write_text("not a sha\n")
    (cache / "packed-refs").write_text("garbage\n")


def remove_objects(cache: Path) -> None:
    shutil.rmtree(cache / "objects")


def empty_cache(cache: Path) -> None:
    shutil.rmtree(cache)
    cache.mkdir()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated objects": truncate_objects,
    "zeroed objects": corrupt_objects,
    "empty HEAD": break_head,
    "garbage refs": break_refs,
    "no objects folder": remove_objects,
    "an empty folder": empty_cache,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_is_rebuilt_and_the_new_commit_applied(
    remote: Remote, target: Path, damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    events: list[str] = []
    with Controller(config(remote, target), lambda e: events.append(e.text())) as controller:
        assert controller.reconcile().outcome == "applied"
        DAMAGE[damage](target / ".gitreg" / "git")
        second = remote.stage({"fraud": 2})

        result = controller.reconcile()

        assert (result.outcome, result.commit, result.errors) == ("applied", second, ())
        assert any("level=warning event=cache-rebuilt" in e for e in events), events
        assert live(target, "fraud") == "2"
        # and it stays healthy
        third = remote.stage({"fraud": 1})
        assert (controller.reconcile().outcome, live(target, "fraud")) == ("applied", "1")
    assert status_of(target)["applied"]["commit"] == third
    assert check_target(target, remote) == {"fraud": "1"}
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated objects", "zeroed objects", "garbage refs"])
def test_a_cache_damaged_while_stopped_is_rebuilt(remote: Remote, target: Path, damage: str) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    DAMAGE[damage](target / ".gitreg" / "git")
    second = remote.stage({"fraud": 2})

    result = reconcile_once(remote.url, "production", target)

    assert (result.outcome, result.commit, result.errors) == ("applied", second, ())
    assert check_target(target, remote) == {"fraud": "2"}


def test_a_cache_that_is_a_file_is_rebuilt_inside_the_target(
    remote: Remote, target: Path, tmp_path: Path
) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    (target / ".gitreg").mkdir(parents=True)
    (target / ".gitreg" / "git").write_text("not a folder\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    done = subprocess.run(
        controller_argv(remote, target, "--once"),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert list(cwd.iterdir()) == []  # `git init` never ran in the controller's working directory
    assert (target / ".gitreg" / "git").is_dir()
    assert check_target(target, remote) == {"fraud": "1"}


def test_a_cache_that_is_a_symlink_outside_is_never_written_through(
    remote: Remote, target: Path, tmp_path: Path
) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "keep" / "file").write_text("mine\n")
    (target / ".gitreg").mkdir(parents=True)
    (target / ".gitreg" / "git").symlink_to(outside, target_is_directory=True)
    before = tree_state(outside)

    result = reconcile_once(remote.url, "production", target)

    assert result.outcome == "applied"
    assert tree_state(outside) == before
    assert (target / ".gitreg" / "git").is_dir() and not (target / ".gitreg" / "git").is_symlink()


def test_a_cache_inside_another_repository_never_touches_it(remote: Remote, tmp_path: Path) -> None:
    """With the cache's HEAD broken, git run from inside it would find an enclosing repository."""
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")  # a plain repository around the target
    target = outer / "serving"
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    with Controller(config(remote, target)) as controller:
        assert controller.reconcile().outcome == "applied"
        before = tree_state(outer / ".git")
        break_head(target / ".gitreg" / "git")
        remote.stage({"fraud": 2})

        result = controller.reconcile()

    assert result.outcome == "applied"
    assert tree_state(outer / ".git") == before


def test_a_damaged_blob_is_not_taken_for_an_invalid_commit(remote: Remote, target: Path) -> None:
    """Git reuses what the cache holds: a corrupt manifest there must not make a valid commit invalid."""
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    applied = remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    cache = target / ".gitreg" / "git"
    blobs = git(remote.registry, "ls-tree", "-r", applied).splitlines()
    for line in blobs:
        sha = line.split()[2]
        loose = cache / "objects" / sha[:2] / sha[2:]
        if loose.exists() and line.endswith(".yaml"):
            loose.chmod(0o644)
            loose.write_bytes(loose.read_bytes()[:10])
    second = remote.stage({"fraud": 2})

    result = reconcile_once(remote.url, "production", target)

    assert (result.outcome, result.commit, result.errors) == ("applied", second, ())
    assert check_target(target, remote) == {"fraud": "2"}


def test_an_invalid_commit_is_not_taken_for_a_damaged_cache(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    bad = remote.commit({"stages/production.yaml": "fraud: 9\n"}, "Promote a version that does not exist")
    events: list[str] = []

    result = reconcile_once(remote.url, "production", target, log=lambda e: events.append(e.text()))

    assert (result.outcome, result.commit) == ("invalid", bad)
    assert not any("event=cache-rebuilt" in e for e in events), events
