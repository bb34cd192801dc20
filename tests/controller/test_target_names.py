"""The controller never writes outside its target because of a name in the registry: a hostile artifact name
or tree listing is refused by the validator before anything is applied, and checked again where the target
writes (Target.install), whatever called it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from controller.helpers import Remote
from gitreg.controller import reconcile_once
from gitreg.controller.target import Target
from gitreg.errors import GitregError, StorageError
from gitreg.manifest import Artifact
from gitreg.storage import LocalStore
from testing import tree_state

MANIFEST_HINT = "set artifact.name to the file or folder name alone, as gitreg register records it"


def manifest_path(remote: Remote, model: str, version: int) -> Path:
    return remote.registry / "models" / model / "versions" / f"{version}.yaml"


def outside(tmp_path: Path, target: Path) -> dict[str, str]:
    """Everything below tmp_path except the target folder (which the controller may write)."""
    return {p: h for p, h in tree_state(tmp_path).items() if not p.startswith(target.name)}


def test_a_hostile_artifact_name_is_refused_before_anything_is_applied(
    remote: Remote, target: Path, tmp_path: Path
) -> None:
    remote.register("fraud", seed=1)
    path = manifest_path(remote, "fraud", 1)
    data = yaml.safe_load(path.read_text())
    data["artifact"]["name"] = "../../../escaped"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    remote.commit({"stages/production.yaml": "fraud: 1\n"}, "Deploy a version with a hostile name")
    before = outside(tmp_path, target)

    result = reconcile_once(remote.url, "production", target)

    assert result.outcome == "invalid"
    assert any(": unsafe-name: artifact.name '../../../escaped' contains '/'" in e for e in result.errors)
    assert outside(tmp_path, target) == before
    assert not (target / "fraud").exists()


@pytest.mark.parametrize("name", ["../x", "/etc/x", "..", "a\\b", "con"])
@pytest.mark.parametrize("kind", ["file", "tree"])
def test_install_refuses_an_unsafe_artifact_name(tmp_path: Path, name: str, kind: str) -> None:
    store = LocalStore(tmp_path / "blobs")
    blob = store.put_bytes(b"payload")
    art = Artifact(digest=blob.digest, size=7, type=kind, name=name)
    target = Target(tmp_path / "serving")
    target.prepare()
    before = tree_state(tmp_path)
    with pytest.raises(GitregError) as info:
        target.install("fraud", 1, store, art)
    assert str(info.value).startswith(f"fraud@1: artifact name {name!r} ")
    assert str(info.value).endswith(f" ({MANIFEST_HINT})")
    assert tree_state(tmp_path) == before


@pytest.mark.parametrize("model", ["../evil", "Fraud", "a/b", "", "aux"])
def test_install_refuses_a_model_name_that_is_not_one(tmp_path: Path, model: str) -> None:
    store = LocalStore(tmp_path / "blobs")
    blob = store.put_bytes(b"payload")
    art = Artifact(digest=blob.digest, size=7, type="file", name="model.bin")
    target = Target(tmp_path / "serving")
    target.prepare()
    before = tree_state(tmp_path)
    with pytest.raises(GitregError) as info:
        target.install(model, 1, store, art)
    assert str(info.value) == f"{model!r}@1 is not a model version gitreg can deploy"
    assert tree_state(tmp_path) == before


def test_install_refuses_a_listing_naming_one_path_twice(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    rows = [
        {"path": "w.bin", "size": len(data), "digest": store.put_bytes(data).digest, "executable": False}
        for data in (b"first", b"other bytes")
    ]
    listing = store.put_bytes(json.dumps({"kind": "gitreg-tree/v1", "entries": rows}).encode())
    art = Artifact(digest=listing.digest, size=16, type="tree", name="weights")
    target = Target(tmp_path / "serving")
    target.prepare()
    with pytest.raises(StorageError) as info:
        target.install("fraud", 1, store, art)
    assert "is not a valid tree listing: 'w.bin' is listed twice" in str(info.value)
    assert target.versions("fraud") == []
    assert list(target.tmp.iterdir()) == []
