"""Clean data out: non-finite metrics are refused by the validator at their line, every ``--json`` output is
strict JSON (a NaN already committed comes out as null), verify, gc and copy speak JSON, and verify tells a
store it cannot read (exit 3) from blobs that are missing or corrupt (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitreg.storage import LocalStore
from testing import commit_all, run, sha256, tree_state, write_bytes


def strict(text: str) -> Any:
    """``text`` parsed as strict JSON: NaN, Infinity and -Infinity are not JSON."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 (a file, metric auc=0.9), fraud@2 (a folder of two files)."""
    ok(
        "register",
        "fraud",
        write_bytes(tmp_path / "art" / "model.bin", 300, 1),
        "--metric",
        "auc=0.9",
        cwd=registry,
    )
    folder = tmp_path / "bundle"
    write_bytes(folder / "weights.bin", 500, 2)
    write_bytes(folder / "conf" / "config.json", 40, 3)
    ok("register", "fraud", folder, "--metric", "auc=0.95", cwd=registry)
    return registry


def hand_edit_metrics(registry: Path, version: int, metrics: str) -> Path:
    """Replace the metrics of fraud@VERSION by hand-written YAML, and commit."""
    path = registry / "models" / "fraud" / "versions" / f"{version}.yaml"
    text = path.read_text()
    start = text.index("metrics:")
    end = text.index("\n", text.index("auc:", start))
    path.write_text(text[:start] + metrics + text[end:])
    commit_all(registry, "hand-written metrics")
    return path


# --- non-finite metrics -----------------------------------------------------------------------------------


def test_the_validator_refuses_non_finite_metrics_at_their_line(populated: Path) -> None:
    path = hand_edit_metrics(populated, 1, "metrics:\n  auc: .nan\n  f1: 0.5\n  loss: -.inf\n  gain: .Inf")
    lines = path.read_text().splitlines()
    auc = lines.index("  auc: .nan") + 1
    result = run("validate", cwd=populated)
    assert result.exit_code == 1, result.stdout
    where = "models/fraud/versions/1.yaml"
    assert f"{where}:{auc}:3: non-finite-metric: metrics.auc is .nan: " in result.stdout
    assert f"{where}:{auc + 2}:3: non-finite-metric: metrics.loss is -.inf: " in result.stdout
    assert f"{where}:{auc + 3}:3: non-finite-metric: metrics.gain is .inf: " in result.stdout
    assert "metrics.f1" not in result.stdout
    assert "write a finite number" in result.stdout
    json_report = run("validate", "--format", "json", cwd=populated)
    assert json_report.exit_code == 1
    rules = [f["rule"] for f in strict(json_report.stdout)["findings"]]
    assert rules.count("non-finite-metric") == 3


def test_finite_metrics_pass(populated: Path) -> None:
    hand_edit_metrics(populated, 1, "metrics:\n  auc: 1.0e+300\n  loss: -0.0")
    result = run("validate", cwd=populated)
    assert result.exit_code == 0, result.stdout


# --- strict JSON ------------------------------------------------------------------------------------------


def test_a_committed_nan_comes_out_as_null_in_every_json_output(populated: Path) -> None:
    hand_edit_metrics(populated, 1, "metrics:\n  auc: .nan\n  loss: .inf")
    shown = strict(ok("show", "fraud@1", "--json", cwd=populated))
    assert shown["metrics"] == {"auc": None, "loss": None}
    listed = strict(ok("list", "fraud", "--json", cwd=populated))
    assert listed[0]["metrics"] == {"auc": None, "loss": None}
    diff = strict(ok("diff", "fraud@1", "fraud@2", "--json", cwd=populated))
    auc = next(c for c in diff["changes"] if c["field"] == "metrics.auc")
    assert auc["a"] is None
    assert auc["b"] == 0.95
    # the text forms still show what is written
    assert "auc: .nan" in ok("show", "fraud@1", cwd=populated)


# --- verify, gc and copy speak JSON -----------------------------------------------------------------------


def test_verify_json(populated: Path, blobs: Path) -> None:
    report = strict(ok("verify", "--all", "--json", cwd=populated))
    assert report["ok"] is True
    assert (report["versions"], report["blobs"], report["bytes"]) == (2, 4, 840)
    assert [c["state"] for c in report["checks"]] == ["ok"] * 4
    assert {c["ref"] for c in report["checks"]} == {"fraud@1", "fraud@2"}
    weights = sha256((populated.parent / "bundle" / "weights.bin").read_bytes())
    LocalStore(blobs).path(weights).unlink()
    result = run("verify", "--all", "--json", cwd=populated)
    assert result.exit_code == 1
    report = strict(result.stdout)
    assert report["ok"] is False
    missing = [c for c in report["checks"] if c["state"] != "ok"]
    assert missing == [
        {
            "state": "missing",
            "digest": weights,
            "ref": "fraud@2",
            "path": "bundle/weights.bin",
            "size": 500,
            "detail": "",
        }
    ]


def test_gc_json(populated: Path, blobs: Path, tmp_path: Path) -> None:
    garbage = LocalStore(blobs).put_file(write_bytes(tmp_path / "garbage.bin", 70, 9))
    report = strict(ok("gc", "--grace", "0", "--json", cwd=populated))
    assert report["deleted"] is False
    assert report["blobs"] == [
        {"digest": garbage.digest, "size": 70, "modified": report["blobs"][0]["modified"]}
    ]
    assert (report["bytes"], report["kept"], report["young"], report["uploads"]) == (70, 4, 0, [])
    assert LocalStore(blobs).size(garbage.digest) == 70
    report = strict(ok("gc", "--grace", "0", "--yes", "--json", cwd=populated))
    assert report["deleted"] is True
    assert [b["digest"] for b in report["blobs"]] == [garbage.digest]
    assert LocalStore(blobs).size(garbage.digest) is None


def test_copy_json(populated: Path, tmp_path: Path) -> None:
    dest = tmp_path / "company"
    ok("init", dest, "--storage", (tmp_path / "company-blobs").as_uri(), cwd=tmp_path)
    report = strict(ok("copy", "fraud@2", "--to-registry", dest, "--json", cwd=populated))
    assert report == {
        "source": "fraud@2",
        "ref": "fraud@1",
        "branch": "gitreg/copy/fraud-1",
        "commit": report["commit"],
        "destination": str(dest),
        "pushed_to": None,
        "blobs_copied": 3,
        "bytes_copied": report["bytes_copied"],
    }
    assert len(report["commit"]) == 40


# --- exit codes: a store gitreg cannot read is not a corrupt blob ------------------------------------------


def test_verify_a_store_that_is_not_a_folder_exits_3(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("not a store")
    monkeypatch.setenv("GITREG_STORAGE_URL", not_a_folder.as_uri())
    before = tree_state(populated)
    for args in (("fraud@1",), ("--all",), ("--all", "--json")):
        result = run("verify", *args, cwd=populated)
        assert result.exit_code == 3, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("error: cannot read the blob store")
        assert len(result.stderr.splitlines()) == 1
        assert "missing or corrupt" not in result.stdout
    assert tree_state(populated) == before


def test_verify_a_store_folder_that_does_not_exist_exits_3(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = tmp_path / "no-such-store"
    monkeypatch.setenv("GITREG_STORAGE_URL", nowhere.as_uri())
    result = run("verify", "--all", cwd=populated)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stderr == (
        f"error: the blob store folder {nowhere} does not exist "
        "(check storage.url in registry.yaml, or GITREG_STORAGE_URL)\n"
    )
    assert not nowhere.exists()


def test_missing_blobs_are_still_exit_1(populated: Path, blobs: Path) -> None:
    for blob in list(LocalStore(blobs).digests()):
        LocalStore(blobs).path(blob.digest).unlink()
    result = run("verify", "--all", cwd=populated)
    assert result.exit_code == 1
    assert result.stdout.endswith("missing or corrupt\n")
