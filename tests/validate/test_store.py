"""``--check-artifacts`` on real registries and blob stores: a missing blob, a blob of the wrong size and a
tree with a missing file are findings; without the flag the store is never opened."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gitreg.registry import Registry
from gitreg.validate.runner import validate_registry
from testing import run, tree_state, write_bytes


def register(registry: Path, path: Path) -> None:
    result = run("register", "fraud", path, "--owner", "@risk-ml", cwd=registry)
    assert result.exit_code == 0, result.stderr


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(blobs: Path, key: str) -> Path:
    hexdigest = key.removeprefix("sha256:")
    return blobs / "sha256" / hexdigest[:2] / hexdigest[2:]


def findings(registry: Path) -> list[str]:
    report = validate_registry(Registry.open(registry), check_artifacts=True)
    return [str(f) for f in report.findings]


def test_missing_blob(registry: Path, blobs: Path, tmp_path: Path) -> None:
    art = write_bytes(tmp_path / "model.onnx", 300, seed=1)
    register(registry, art)
    key = digest(art.read_bytes())
    assert findings(registry) == []

    blob(blobs, key).unlink()
    assert findings(registry) == [
        f"models/fraud/versions/1.yaml:6:3: artifact: {key} is not in the blob store {blobs.as_uri()}: "
        "register the artifact again"
    ]


def test_blob_of_another_size(registry: Path, blobs: Path, tmp_path: Path) -> None:
    art = write_bytes(tmp_path / "model.onnx", 300, seed=1)
    register(registry, art)
    key = digest(art.read_bytes())
    stored = blob(blobs, key)
    assert stored.stat().st_size == 300
    assert findings(registry) == []

    stored.unlink()  # a truncated upload, or a tampered store
    stored.write_bytes(art.read_bytes()[:120])
    assert findings(registry) == [
        f"models/fraud/versions/1.yaml:6:3: artifact: {key} is 120 bytes in the store, "
        "but the manifest says 300"
    ]


def test_tree_with_a_missing_file(registry: Path, blobs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    weights = write_bytes(folder / "weights.bin", 200, seed=2)
    (folder / "config").mkdir()
    (folder / "config" / "params.json").write_text('{"depth": 8}\n')
    register(registry, folder)
    manifest = (registry / "models" / "fraud" / "versions" / "1.yaml").read_text()
    tree = next(line.split()[1] for line in manifest.splitlines() if line.strip().startswith("digest:"))
    listing = json.loads(blob(blobs, tree).read_bytes())
    assert sorted(e["path"] for e in listing["entries"]) == ["config/params.json", "weights.bin"]
    assert findings(registry) == []

    key = digest(weights.read_bytes())
    blob(blobs, key).unlink()
    assert findings(registry) == [
        f"models/fraud/versions/1.yaml:6:3: artifact: "
        f"weights.bin ({key}) of tree {tree} is not in the blob store"
    ]

    blob(blobs, tree).unlink()  # the listing itself gone: the whole artifact is missing
    assert findings(registry) == [
        f"models/fraud/versions/1.yaml:6:3: artifact: {tree} is not in the blob store {blobs.as_uri()}: "
        "register the artifact again"
    ]


def test_without_the_flag_the_store_is_never_touched(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(registry, write_bytes(tmp_path / "model.onnx", 300, seed=1))
    nowhere = tmp_path / "nowhere" / "blobs"
    monkeypatch.setenv("GITREG_STORAGE_URL", str(nowhere))
    files = len(Registry.open(registry).snapshot.files())

    result = run("validate", cwd=registry)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"ok: {files} files checked, no problems\n",
        "",
    )
    checked = run("validate", "--check-artifacts", cwd=registry)
    assert checked.exit_code == 1
    assert f"is not in the blob store {nowhere.as_uri()}: register the artifact again" in checked.stdout
    assert tree_state(tmp_path / "nowhere") == {}

    # A store gitreg cannot even open: validation without the flag does not try to.
    monkeypatch.setenv("GITREG_STORAGE_URL", "nosuch://models-bucket/registry")
    assert run("validate", cwd=registry).exit_code == 0
    unreachable = run("validate", "--check-artifacts", cwd=registry)
    assert unreachable.exit_code == 2  # the URL is a usage error, never "findings"
    assert unreachable.stderr.startswith(
        "error: storage URL 'nosuch://models-bucket/registry' has an unknown"
    )
