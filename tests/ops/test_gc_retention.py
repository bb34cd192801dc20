"""gc honours delete_archived_after: blobs only versions archived on main longer than that refer to are
collected (after the grace period), blobs another version shares are kept, and a version whose archival
time main's history cannot tell keeps its blobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitreg.layout import REGISTRY_FILE
from testing import Unchanged, assert_error, git, run, sha256, write_bytes
from testing.dated import add_retention, commit_at, days_ago, set_status


@pytest.fixture
def archived(registry: Path, tmp_path: Path) -> dict[str, bytes]:
    """m@1 (bytes A), m@2 (bytes B), m@3 (A again), all registered now; the policy, then m@1 and m@2
    archived 400 days ago and the folder m@4 (a file of its own and B) archived 100 days ago."""
    data = {"A": write_bytes(tmp_path / "a.bin", 300, 1), "B": write_bytes(tmp_path / "b.bin", 500, 2)}
    folder = tmp_path / "folder"
    write_bytes(folder / "own.bin", 700, 3)
    (folder / "b.bin").write_bytes(data["B"].read_bytes())
    for path in (data["A"], data["B"], data["A"], folder):
        assert run("register", "m", path, cwd=registry).exit_code == 0
    add_retention(registry, "  delete_archived_after: 365d\n")
    commit_at(registry, "policy", days_ago(500))
    set_status(registry, "m", 1, "archived")
    set_status(registry, "m", 2, "archived")
    commit_at(registry, "archive m@1 and m@2", days_ago(400))
    set_status(registry, "m", 4, "archived")
    commit_at(registry, "archive m@4", days_ago(100))
    return {k: v.read_bytes() for k, v in data.items()} | {"own": (folder / "own.bin").read_bytes()}


def gc_json(root: Path, *args: str) -> Any:
    result = run("gc", "--grace", "0", "--json", *args, cwd=root)
    assert result.exit_code == 0, result.stderr
    data: Any = json.loads(result.stdout)
    return data


def test_only_the_bytes_of_long_archived_versions_go(
    registry: Path, blobs: Path, archived: dict[str, bytes]
) -> None:
    data = gc_json(registry)
    # m@1's bytes are m@3's too; m@2's are only its own (m@4's folder, archived 100 days ago, keeps them)
    assert [b["digest"] for b in data["blobs"]] == []
    assert [e["ref"] for e in data["expired"]] == ["m@1", "m@2"]
    assert data["expired_bytes"] == 0


def test_once_nothing_else_refers_to_them_they_are_collected(
    registry: Path, blobs: Path, archived: dict[str, bytes]
) -> None:
    (registry / REGISTRY_FILE).write_text((registry / REGISTRY_FILE).read_text().replace("365d", "90d"))
    commit_at(registry, "shorter policy", days_ago(1))
    unchanged = Unchanged(registry)
    dry = run("gc", "--grace", "0", "--dry-run", cwd=registry)
    assert dry.exit_code == 0, dry.stderr
    b, own = sha256(archived["B"]), sha256(archived["own"])
    lines = dry.stdout.splitlines()
    assert any(
        line.startswith("would delete the bytes of m@2, archived ") and line.endswith(": 500 B")
        for line in lines
    )
    assert any(line.startswith("would delete the bytes of m@4, archived ") for line in lines)
    deleted = json.loads(run("gc", "--grace", "0", "--json", "--yes", cwd=registry).stdout)
    gone = {x["digest"] for x in deleted["blobs"]}
    assert b in gone and own in gone and sha256(archived["A"]) not in gone  # A: m@3 is active
    listing = next(x for x in deleted["blobs"] if x["digest"] not in (b, own))  # m@4's tree listing
    assert len(gone) == 3
    assert deleted["expired_bytes"] == deleted["bytes"] == 500 + 700 + listing["size"]
    assert not (blobs / "sha256" / b[7:9] / b[9:]).exists()
    unchanged.check()  # the registry: gc changes no file of it
    assert run("pull", "m@3", "-o", str(registry.parent / "out.bin"), cwd=registry).exit_code == 0


def test_a_branch_where_the_version_is_active_keeps_its_bytes(
    registry: Path, archived: dict[str, bytes]
) -> None:
    (registry / REGISTRY_FILE).write_text((registry / REGISTRY_FILE).read_text().replace("365d", "90d"))
    commit_at(registry, "shorter policy", days_ago(1))
    git(registry, "checkout", "--quiet", "-b", "restore-m2")
    set_status(registry, "m", 2, "active")
    commit_at(registry, "restore m@2", days_ago(0))
    git(registry, "checkout", "--quiet", "main")
    data = gc_json(registry)
    assert sha256(archived["B"]) not in {x["digest"] for x in data["blobs"]}
    assert sha256(archived["own"]) in {x["digest"] for x in data["blobs"]}


def test_archived_again_counts_from_the_later_archive(registry: Path, archived: dict[str, bytes]) -> None:
    set_status(registry, "m", 2, "active")
    commit_at(registry, "restore m@2", days_ago(300))
    set_status(registry, "m", 2, "archived")
    commit_at(registry, "archive m@2 again", days_ago(30))
    assert [e["ref"] for e in gc_json(registry)["expired"]] == ["m@1"]


def test_a_shallow_clone_cannot_tell_so_keeps_everything(
    registry: Path, tmp_path: Path, archived: dict[str, bytes]
) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", registry.as_uri(), str(clone))
    data = gc_json(clone)
    assert data["expired"] == [] and data["blobs"] == []
    assert data["undetermined"] == ["m@1", "m@2", "m@4"]


def test_without_a_policy_gc_is_as_before(registry: Path, archived: dict[str, bytes]) -> None:
    text = (registry / REGISTRY_FILE).read_text()
    (registry / REGISTRY_FILE).write_text(text[: text.index("retention:")])
    commit_at(registry, "no policy", days_ago(1))
    data = gc_json(registry)
    assert (data["expired"], data["blobs"], data["undetermined"]) == ([], [], [])


def test_a_store_that_cannot_be_listed_deletes_nothing(
    registry: Path, blobs: Path, archived: dict[str, bytes]
) -> None:
    (blobs / "sha256" / "zz").write_text("not a folder")
    unchanged = Unchanged(registry, blobs)
    for args in (["gc", "--grace", "0", "--yes"], ["usage", "--check-store"]):
        result = run(*args, cwd=registry)
        assert_error(
            result,
            3,
            f"cannot list the blob store at {blobs.as_uri()}: Not a directory (check the storage URL and the "
            "store's folders; nothing was deleted)",
        )
    unchanged.check()


def test_yes_and_dry_run_together_are_refused(registry: Path) -> None:
    assert_error(run("gc", "--yes", "--dry-run", cwd=registry), 2, "give --yes or --dry-run, not both")


def test_a_model_file_gc_cannot_read_expires_nothing_of_its_model(
    registry: Path, archived: dict[str, bytes]
) -> None:
    """gc went on with a broken model.yaml before retention existed; it still does, and keeps that model's
    bytes (its policy cannot be known)."""
    (registry / REGISTRY_FILE).write_text((registry / REGISTRY_FILE).read_text().replace("365d", "90d"))
    (registry / "models" / "m" / "model.yaml").write_text("name: [unclosed\n")
    commit_at(registry, "break m's model file", days_ago(1))
    data = gc_json(registry)
    assert (data["expired"], data["blobs"]) == ([], [])


def test_a_restore_landing_during_gc_keeps_the_bytes(
    registry: Path, blobs: Path, archived: dict[str, bytes]
) -> None:
    """The race gc already guards against, through the policy: the refs are read again before deleting,
    and a restored manifest (a new file) refers to its blobs again."""
    from gitreg.ops.gc import plan, sweep  # noqa: PLC0415
    from gitreg.registry import Registry  # noqa: PLC0415

    (registry / REGISTRY_FILE).write_text((registry / REGISTRY_FILE).read_text().replace("365d", "90d"))
    commit_at(registry, "shorter policy", days_ago(1))
    reg = Registry.open(registry)
    todo = plan(reg, 0)
    b = sha256(archived["B"])
    assert b in {x.digest for x in todo.blobs}
    set_status(registry, "m", 2, "active")
    commit_at(registry, "restore m@2", days_ago(0))
    sweep(reg.store, todo, None, Registry.open(registry))
    assert (blobs / "sha256" / b[7:9] / b[9:]).exists()
    assert b not in {x.digest for x in todo.blobs}
