"""gitreg usage: bytes per model, owner, stage and tag, each blob once per group, checked against sums
worked out here from the files' sizes (shared bytes, a folder sharing a file with another model, an
archived version, one the policy has expired), from the manifests alone and with --check-store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gitreg.layout import model_path
from gitreg.ops.usage import usage
from gitreg.registry import Registry
from testing import assert_error, run, sha256, write_bytes
from testing.dated import add_retention, commit_at, days_ago, model_text, set_stage, set_status
from testing.synthetic import write_files

A, B, C, D = 300, 500, 700, 200  # sizes of the four distinct files


@pytest.fixture
def shared(registry: Path, tmp_path: Path) -> Path:
    """a@1 = A, a@2 = B; b@1 = A (the same bytes as a@1), b@2 = a folder of A and C; c@1 = D, archived 60
    days ago under delete_archived_after 30d. production: a@2, b@1; staging: a@2."""
    files = {
        n: write_bytes(tmp_path / f"{n}.bin", size, i)
        for i, (n, size) in enumerate(zip("ABCD", (A, B, C, D), strict=True))
    }
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.bin").write_bytes(files["A"].read_bytes())
    (folder / "c.bin").write_bytes(files["C"].read_bytes())
    for model, path in (
        ("a", files["A"]),
        ("a", files["B"]),
        ("b", files["A"]),
        ("b", folder),
        ("c", files["D"]),
    ):
        assert run("register", model, path, cwd=registry).exit_code == 0
    write_files(
        registry,
        {
            model_path("a"): model_text("a", owners=("@risk",), tags={"team": "risk", "cost-center": "cc1"}),
            model_path("b"): model_text("b", owners=("@risk", "@growth"), tags={"team": "growth"}),
            model_path("c"): model_text("c", owners=()),
        },
    )
    set_stage(registry, "production", "a", 2)
    set_stage(registry, "production", "b", 1)
    set_stage(registry, "staging", "a", 2)
    add_retention(registry, "  delete_archived_after: 30d\n")
    commit_at(registry, "owners, tags, stages, policy", days_ago(90))
    set_status(registry, "c", 1, "archived")
    commit_at(registry, "archive c@1", days_ago(60))
    return registry


def by(root: Path, grouping: str, *extra: str) -> Any:
    result = run("usage", "--by", grouping, "--json", *extra, cwd=root)
    assert result.exit_code == 0, result.stderr
    data: Any = json.loads(result.stdout)
    return data


def groups(data: Any) -> dict[str, tuple[int, int, int, int]]:
    return {
        g["name"]: (g["versions"], g["bytes"], g["shared_bytes"], g["archived_only_bytes"])
        for g in data["groups"]
    }


TREE = A + C  # b@2's recorded size: the sum of its files


def test_by_model_from_the_manifests(shared: Path) -> None:
    data = by(shared, "model")
    # the folder counts whole (its manifest records only its total): A inside it is not seen as shared
    assert groups(data) == {"a": (2, A + B, A, 0), "b": (2, A + TREE, A, 0), "c": (1, D, 0, D)}
    assert data["total_bytes"] == A + B + TREE + D
    assert data["naive_bytes"] == A + B + A + TREE + D
    assert data["shared_bytes"] == A
    assert data["archived_only_bytes"] == D
    assert data["collectable_bytes"] == D  # archived 60 days ago, past 30d
    assert data["store"] is None


def test_by_model_with_the_store(shared: Path, blobs: Path) -> None:
    data = by(shared, "model", "--check-store")
    listing = next(
        p.stat().st_size
        for p in (blobs / "sha256").rglob("*")
        if p.is_file() and p.stat().st_size not in (A, B, C, D)
    )
    assert groups(data) == {"a": (2, A + B, A, 0), "b": (2, A + C + listing, A, 0), "c": (1, D, 0, D)}
    assert data["total_bytes"] == A + B + C + D + listing  # each blob once: A is in a@1, b@1 and b@2
    store = data["store"]
    assert store == {  # the store holds exactly the referenced blobs
        "stored_blobs": 5,
        "stored_bytes": A + B + C + D + listing,
        "missing": [],
        "unreferenced_blobs": 0,
        "unreferenced_bytes": 0,
    }
    orphan = write_bytes(blobs / "orphan.tmp", 1234, 9).read_bytes()
    digest = sha256(orphan)
    target = blobs / "sha256" / digest[7:9] / digest[9:]
    target.parent.mkdir(exist_ok=True)
    (blobs / "orphan.tmp").rename(target)
    again = by(shared, "model", "--check-store")["store"]
    assert (again["unreferenced_blobs"], again["unreferenced_bytes"]) == (1, 1234)


def test_by_owner_stage_and_tag(shared: Path) -> None:
    # an owner's group: every version of the models it owns; b is in both @risk's and @growth's
    assert groups(by(shared, "owner")) == {
        "@risk": (4, A + B + TREE, A + TREE, 0),
        "@growth": (2, A + TREE, A + TREE, 0),
        "(none)": (1, D, 0, D),
    }
    assert groups(by(shared, "stage")) == {
        "production": (2, B + A, B + A, 0),  # a@2 (B) is in staging too; b@1 (A) shares a@1's, b@2's
        "staging": (1, B, B, 0),
        "(none)": (3, A + TREE + D, A, D),  # a@1, b@2, c@1
    }
    assert groups(by(shared, "tag:team")) == {
        "risk": (2, A + B, A, 0),
        "growth": (2, A + TREE, A, 0),
        "(none)": (1, D, 0, D),
    }
    assert set(groups(by(shared, "tag:cost-center"))) == {"cc1", "(none)"}


def test_csv_for_a_spreadsheet(shared: Path) -> None:
    result = run("usage", "--by", "model", "--csv", cwd=shared)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["group"] for r in rows] == ["a", "b", "c", "(total)"]
    assert rows[-1]["bytes"] == str(A + B + TREE + D)
    assert sum(int(r["bytes"]) for r in rows[:-1]) == A + B + TREE + D + A  # A counted by a and by b


def test_text_and_the_library_agree(shared: Path) -> None:
    report = usage(Registry.open(shared), "model")
    assert [g.name for g in report.groups] == ["a", "b", "c"]
    result = run("usage", cwd=shared)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == [
        "model",
        "versions",
        "bytes",
        "shared",
        "archived",
        "only",
    ]
    assert "gc would free 200 B by the retention policy" in result.stdout
    assert "folder artifact(s) counted whole" in result.stderr


@pytest.mark.parametrize("grouping", ["team", "tag:", "models", ""])
def test_a_bad_grouping(registry: Path, grouping: str) -> None:
    assert_error(
        run("usage", "--by", grouping, cwd=registry),
        2,
        f"--by {grouping!r} is not a grouping (write model, owner, stage or tag:KEY, e.g. tag:team)",
    )


def test_json_and_csv_together(registry: Path) -> None:
    assert_error(run("usage", "--json", "--csv", cwd=registry), 2, "give --json or --csv, not both")
