"""``gitreg audit`` and ``gitreg history`` as processes load no pydantic while every file they judge is in the
plain form: the walk reads registry.yaml, the models and the versions as records (``gitreg.validate.light``),
the stage files by their lines, and the walk cache's key reads pydantic's version from its source. A file
only the typed model can read still loads it, and the verdicts are the same either way. A test of imports,
not of time; each probe also checks the verdicts, so the guard is not blind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitreg.gitrepo import GitRepo
from ops.test_audit_verdicts import _reference
from testing.imports import modules_after
from testing.synthetic import commit_all, make_registry, model_names, registry_files, stage_manifest

MODELS = model_names(3, width=1)
PYDANTIC = ("pydantic", "pydantic_core")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """Three models promoted to staging, then to production (whose policy asks for fields)."""
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(MODELS, 2))
    for stage in ("staging", "production"):
        (root / "stages" / f"{stage}.yaml").write_text(stage_manifest(dict.fromkeys(MODELS, 2)))
        commit_all(root, f"Promote to {stage}")
    return root


def _audit(registry: Path, tmp_path: Path) -> tuple[list[dict[str, object]], set[str]]:
    done, modules = modules_after(tmp_path, "-C", registry, "audit", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["changes"], modules


def _pydantic(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in PYDANTIC or m == "gitreg.manifest")


def test_a_plain_history_is_judged_without_pydantic(registry: Path, tmp_path: Path) -> None:
    changes, modules = _audit(registry, tmp_path)
    assert [(c["stage"], c["verdict"]) for c in changes] == [("staging", "pass")] * 3 + [
        ("production", "pass")
    ] * 3
    assert all(c["digest"] for c in changes)
    assert "gitreg.ops.verdicts" in modules
    assert _pydantic(modules) == []
    done, modules = modules_after(tmp_path, "-C", registry, "history", MODELS[0])
    assert done.returncode == 0, done.stderr
    assert "production" in done.stdout and "gitreg.stage_history" in modules
    assert _pydantic(modules) == []


def test_a_file_the_light_path_refuses_loads_the_model_and_the_verdicts_stay(
    registry: Path, tmp_path: Path
) -> None:
    plain, _modules = _audit(registry, tmp_path)
    version = registry / "models" / MODELS[0] / "versions" / "1.yaml"
    version.write_text(version.read_text().replace("\nstatus: active", "\nstatus: retired"))
    commit_all(registry, "A status the schema does not know: the typed model says why")
    (registry / "stages" / "staging.yaml").write_text(stage_manifest(dict.fromkeys(MODELS, 1)))
    commit_all(registry, "Back to version 1")
    changes, modules = _audit(registry, tmp_path)
    assert changes[:6] == plain
    assert [c["verdict"] for c in changes] == [
        verdict for _commit, verdict in _reference(GitRepo.open(registry))
    ]
    assert "pydantic" in modules  # the refused file went to the typed model, and the commit to the validator


def test_a_promotion_to_a_version_that_is_not_valid_fails(registry: Path, tmp_path: Path) -> None:
    """The version file broke in an earlier commit (which fails on its own); the promotion that puts it in
    a stage leaves the file alone, and fails too: the stage names a version no one can deploy."""
    version = registry / "models" / MODELS[0] / "versions" / "1.yaml"
    version.write_text(version.read_text().replace("\nstatus: active", "\nstatus: retired"))
    commit_all(registry, "A status the schema does not know")
    (registry / "stages" / "staging.yaml").write_text(
        stage_manifest({**dict.fromkeys(MODELS, 2), MODELS[0]: 1})
    )
    commit_all(registry, "Back to version 1")
    changes, _modules = _audit(registry, tmp_path)
    last = changes[-1]
    assert (last["model"], last["to_version"]) == (MODELS[0], 1)
    assert last["verdict"] == (
        f"fail: stages/staging.yaml:1:1: stage-entry: {MODELS[0]}@1 is not a valid version: "
        f"models/{MODELS[0]}/versions/1.yaml fails validation (gitreg validate says why)"
    )
    assert [c["verdict"] for c in changes] == [
        verdict for _commit, verdict in _reference(GitRepo.open(registry))
    ]
