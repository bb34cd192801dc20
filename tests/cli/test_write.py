"""``gitreg register`` on the command line: option parsing, what lands in the manifest and the commit, and
one exact ``error:`` line, the right exit code and an untouched registry and blob store for each bad input."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing import Unchanged, assert_error, git, run, sha256_file, tree_state, write_bytes


def artifact(tmp_path: Path, seed: int = 0, size: int = 300, name: str = "model.bin") -> Path:
    return write_bytes(tmp_path / "artifacts" / str(seed) / name, size, seed)


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def manifest(registry: Path, model: str, version: int) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        git(registry, "show", f"HEAD:models/{model}/versions/{version}.yaml")
    )
    return data


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


# --- success ----------------------------------------------------------------------------------------------


def test_register_prints_the_ref_and_counts_up(registry: Path, tmp_path: Path) -> None:
    assert ok("register", "fraud", artifact(tmp_path, 1), cwd=registry) == "fraud@1\n"
    assert ok("register", "fraud", artifact(tmp_path, 2), cwd=registry) == "fraud@2\n"
    assert ok("register", "fraud", artifact(tmp_path, 3), cwd=registry) == "fraud@3\n"
    assert ok("register", "churn", artifact(tmp_path, 4), cwd=registry) == "churn@1\n"
    assert commit_count(registry) == 5
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""


def test_explicit_version(registry: Path, tmp_path: Path) -> None:
    assert ok("register", "fraud", artifact(tmp_path, 1), "--version", "7", cwd=registry) == "fraud@7\n"
    assert manifest(registry, "fraud", 7)["version"] == 7
    assert ok("register", "fraud", artifact(tmp_path, 2), cwd=registry) == "fraud@8\n"


def test_every_option_lands_in_the_manifest(registry: Path, tmp_path: Path) -> None:
    ok("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    art = artifact(tmp_path, 2, size=2048, name="model.onnx")
    data_digest = "sha256:" + "b" * 64
    out = ok(
        "register",
        "fraud",
        art,
        "--metric",
        "auc=0.931",
        "--metric",
        "epochs=10",
        "--param",
        "max_depth=8",
        "--tag",
        "candidate=true",
        "--tag",
        "note=a=b",
        "--description",
        "Retrained on November data",
        "--framework",
        "sklearn==1.5.2",
        "--format",
        "onnx",
        "--code-repo",
        "https://git.example.com/risk/train",
        "--code-commit",
        "1b2c3d4",
        "--code-path",
        "train.py",
        "--data",
        f"s3://datasets/fraud/2026-11@{data_digest}",
        "--data",
        "s3://datasets/plain",
        "--run-id",
        "run-8812",
        "--run-url",
        "https://mlflow.example.com/runs/8812",
        "--parent",
        "1",
        cwd=registry,
    )
    assert out == "fraud@2\n"
    data = manifest(registry, "fraud", 2)
    data.pop("created_at")
    assert data == {
        "apiVersion": "gitreg/v1",
        "kind": "ModelVersion",
        "model": "fraud",
        "version": 2,
        "artifact": {
            "digest": sha256_file(art),
            "size": 2048,
            "type": "file",
            "name": "model.onnx",
            "format": "onnx",
        },
        "framework": {"name": "sklearn", "version": "1.5.2"},
        "metrics": {"auc": 0.931, "epochs": 10},
        "params": {"max_depth": 8},
        "lineage": {
            "code": {"repo": "https://git.example.com/risk/train", "commit": "1b2c3d4", "path": "train.py"},
            "data": [
                {"uri": "s3://datasets/fraud/2026-11", "digest": data_digest},
                {"uri": "s3://datasets/plain"},
            ],
            "run": {"id": "run-8812", "url": "https://mlflow.example.com/runs/8812"},
            "parent": 1,
        },
        "tags": {"candidate": "true", "note": "a=b"},
        "description": "Retrained on November data",
        "created_by": "Test User <test@example.com>",
        "status": "active",
    }
    assert git(registry, "log", "-1", "--format=%B").startswith(
        "Register fraud@2\n\nRetrained on November data\n\n"
    )


def test_param_values_are_typed(registry: Path, tmp_path: Path) -> None:
    ok(
        "register",
        "fraud",
        artifact(tmp_path, 1),
        "--param",
        "max_depth=8",
        "--param",
        "lr=0.1",
        "--param",
        "optimizer=adam",
        "--param",
        "early_stop=true",
        "--param",
        "shuffle=false",
        "--param",
        "answer=no",
        "--param",
        "seed=-3",
        "--param",
        "empty=",
        "--param",
        "layers=[1, 2]",
        cwd=registry,
    )
    params = manifest(registry, "fraud", 1)["params"]
    assert params == {
        "max_depth": 8,
        "lr": 0.1,
        "optimizer": "adam",
        "early_stop": True,
        "shuffle": False,
        "answer": "no",
        "seed": -3,
        "empty": "",
        "layers": "[1, 2]",
    }
    assert type(params["max_depth"]) is int
    assert type(params["lr"]) is float
    assert type(params["optimizer"]) is str
    assert type(params["early_stop"]) is bool


def test_param_in_exponent_notation_is_a_float(registry: Path, tmp_path: Path) -> None:
    """``--param lr=1e-3`` is how people write a learning rate; it is a number (YAML 1.2 core schema)."""
    ok("register", "fraud", artifact(tmp_path, 1), "--param", "lr=1e-3", "--param", "wd=5e4", cwd=registry)
    params = manifest(registry, "fraud", 1)["params"]
    assert params == {"lr": 0.001, "wd": 50000.0}
    assert type(params["lr"]) is float


def test_metric_values_are_numbers(registry: Path, tmp_path: Path) -> None:
    ok(
        "register",
        "fraud",
        artifact(tmp_path, 1),
        *("--metric", "auc=0.9", "--metric", "n=10", "--metric", "loss=-2", "--metric", "big=1e3"),
        *("--metric", "one=1.0"),
        cwd=registry,
    )
    metrics = manifest(registry, "fraud", 1)["metrics"]
    assert metrics == {"auc": 0.9, "n": 10, "loss": -2, "big": 1000.0, "one": 1.0}
    assert type(metrics["n"]) is int
    assert type(metrics["one"]) is float


def test_created_by_and_created_at(registry: Path, tmp_path: Path) -> None:
    ok("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    data = manifest(registry, "fraud", 1)
    assert data["created_by"] == "Test User <test@example.com>"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["created_at"])


def test_code_commit_defaults_to_the_head_of_the_repo_holding_path(registry: Path, tmp_path: Path) -> None:
    code = tmp_path / "train"
    code.mkdir()
    git(code, "init", "--quiet")
    art = write_bytes(code / "model.bin", 100, 1)
    git(code, "add", "--all")
    git(code, "commit", "--quiet", "-m", "train")
    git(code, "remote", "add", "origin", "https://git.example.com/risk/train.git")
    head = git(code, "rev-parse", "HEAD").strip()
    ok("register", "fraud", art, cwd=registry)
    assert manifest(registry, "fraud", 1)["lineage"] == {
        "code": {"repo": "https://git.example.com/risk/train.git", "commit": head}
    }


def test_no_code_lineage_inside_the_registry_or_outside_any_repo(registry: Path, tmp_path: Path) -> None:
    inside = write_bytes(registry / "tmp" / "model.bin", 100, 1)
    ok("register", "fraud", inside, cwd=registry)
    assert "lineage" not in manifest(registry, "fraud", 1)
    ok("register", "fraud", artifact(tmp_path, 2), cwd=registry)
    assert "lineage" not in manifest(registry, "fraud", 2)


def test_commit_trailers(registry: Path, tmp_path: Path) -> None:
    art = artifact(tmp_path, 1)
    ok("register", "fraud", art, "--message", "Nightly retrain", cwd=registry)
    assert git(registry, "log", "-1", "--format=%B") == (
        f"Nightly retrain\n\nGitreg-Model: fraud\nGitreg-Version: 1\nGitreg-Digest: {sha256_file(art)}\n\n"
    )


def test_staged_and_unstaged_work_is_untouched(registry: Path, tmp_path: Path) -> None:
    readme = registry / "README.md"
    original = readme.read_text()
    readme.write_text(original + "staged\n")
    git(registry, "add", "README.md")
    (registry / ".gitignore").write_text("unstaged\n")
    ok("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    assert git(registry, "diff", "--cached", "--name-only").split() == ["README.md"]
    assert git(registry, "diff", "--name-only").split() == [".gitignore"]
    assert git(registry, "show", "HEAD:README.md") == original
    assert readme.read_text() == original + "staged\n"
    assert git(registry, "show", "--name-only", "--format=", "HEAD").split() == [
        "models/fraud/model.yaml",
        "models/fraud/versions/1.yaml",
    ]


def test_directory_artifact(registry: Path, tmp_path: Path) -> None:
    src = tmp_path / "saved_model"
    write_bytes(src / "a.bin", 100, 1)
    write_bytes(src / "variables" / "b.bin", 23, 2)
    ok("register", "tf", src, cwd=registry)
    art = manifest(registry, "tf", 1)["artifact"]
    assert (art["type"], art["name"], art["size"]) == ("tree", "saved_model", 123)


def test_relative_path_is_relative_to_dash_c(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    art = write_bytes(registry / "incoming" / "model.bin", 100, 1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert ok("register", "fraud", "incoming/model.bin", cwd=registry) == "fraud@1\n"
    assert manifest(registry, "fraud", 1)["artifact"]["digest"] == sha256_file(art)
    assert manifest(registry, "fraud", 1)["artifact"]["name"] == "model.bin"


def test_relative_path_from_a_subfolder(registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    art = write_bytes(registry / "incoming" / "model.bin", 100, 1)
    monkeypatch.chdir(registry / "incoming")
    result = run("register", "fraud", "model.bin")
    assert result.exit_code == 0, result.stderr
    assert manifest(registry, "fraud", 1)["artifact"]["digest"] == sha256_file(art)


def test_branch_option_new_branch(registry: Path, tmp_path: Path) -> None:
    head = git(registry, "rev-parse", "HEAD").strip()
    assert (
        ok("register", "fraud", artifact(tmp_path, 1), "--branch", "reg/fraud-1", cwd=registry) == "fraud@1\n"
    )
    assert git(registry, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(registry, "rev-parse", "HEAD").strip() == head
    assert not (registry / "models" / "fraud").exists()
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(registry, "rev-parse", "reg/fraud-1~1").strip() == head


def test_branch_option_existing_branch(registry: Path, tmp_path: Path) -> None:
    git(registry, "branch", "candidate")
    ok("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    tip = git(registry, "rev-parse", "candidate").strip()
    main = git(registry, "rev-parse", "main").strip()
    assert (
        ok("register", "fraud", artifact(tmp_path, 2), "--branch", "candidate", cwd=registry) == "fraud@1\n"
    )
    assert git(registry, "rev-parse", "candidate~1").strip() == tip
    assert git(registry, "rev-parse", "main").strip() == main


# --- refusals ---------------------------------------------------------------------------------------------


def test_version_that_exists(registry: Path, blobs: Path, tmp_path: Path) -> None:
    ok("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    ok("register", "fraud", artifact(tmp_path, 2), cwd=registry)
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 3), "--version", "1", cwd=registry)
    assert_error(result, 3, "fraud@1 already exists (versions are immutable; the next free one is 3)")
    state.check()


def test_version_below_latest(registry: Path, blobs: Path, tmp_path: Path) -> None:
    ok("register", "fraud", artifact(tmp_path, 1), "--version", "4", cwd=registry)
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 3), "--version", "2", cwd=registry)
    assert_error(
        result, 3, "--version 2 is below fraud's latest version 4 (versions only go up; use 5 or more)"
    )
    state.check()


def test_version_zero(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 3), "--version", "0", cwd=registry)
    message = (
        "Invalid value for '--version': '0' is not a version number: write plain decimal digits, such as 3"
    )
    assert_error(result, 2, message)
    state.check()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--metric", "auc=high"), "--metric auc=high: a metric is a number"),
        (("--metric", "auc=nan"), "--metric auc=nan: a metric is a finite number"),
        (("--metric", "auc=inf"), "--metric auc=inf: a metric is a finite number"),
        (("--metric", "auc="), "--metric auc=: a metric is a number"),
        (("--metric", "auc"), "--metric 'auc': write KEY=VALUE"),
        (("--metric", "=0.9"), "--metric '=0.9': write KEY=VALUE"),
        (("--metric", "auc=0.9", "--metric", "auc=0.8"), "--metric 'auc' is given twice"),
        (("--tag", "candidate"), "--tag 'candidate': write KEY=VALUE"),
        (("--param", "depth"), "--param 'depth': write KEY=VALUE"),
    ],
)
def test_bad_key_value_options(
    registry: Path, blobs: Path, tmp_path: Path, option: tuple[str, ...], message: str
) -> None:
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 1), *option, cwd=registry)
    assert_error(result, 2, message)
    state.check()


def test_invalid_model_name(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    result = run("register", "Fraud_Detector!", artifact(tmp_path, 1), cwd=registry)
    assert_error(
        result,
        2,
        "'Fraud_Detector!' is not a valid model name (use 1-64 lowercase letters, digits, '.', '_' or '-', "
        "starting and ending with a letter or digit)",
    )
    state.check()


def test_missing_path(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    missing = tmp_path / "nope.onnx"
    result = run("register", "fraud", missing, cwd=registry)
    assert_error(
        result, 3, f"{missing} does not exist (give the path of the model file or folder to register)"
    )
    state.check()


def test_missing_path_argument(registry: Path, blobs: Path) -> None:
    state = Unchanged(registry, blobs)
    assert_error(run("register", "fraud", cwd=registry), 2, "Missing argument 'PATH'.")
    state.check()


def test_parent_that_does_not_exist(registry: Path, blobs: Path, tmp_path: Path) -> None:
    ok("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 2), "--parent", "3", cwd=registry)
    assert_error(result, 3, "--parent 3: fraud has no version 3")
    state.check()


def test_untracked_file_at_the_version_path(registry: Path, blobs: Path, tmp_path: Path) -> None:
    target = registry / "models" / "m" / "versions" / "1.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("draft: true\n")
    state = Unchanged(registry, blobs)
    result = run("register", "m", artifact(tmp_path, 1), cwd=registry)
    assert_error(
        result,
        3,
        "models/m/versions/1.yaml has uncommitted changes in the working tree "
        "(commit them or move them away first)",
    )
    state.check()
    assert commit_count(registry) == 1


def test_detached_head(registry: Path, blobs: Path, tmp_path: Path) -> None:
    git(registry, "checkout", "--quiet", "--detach")
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 1), cwd=registry)
    assert_error(result, 3, "HEAD is detached (check out a branch, or pass --branch NAME)")
    state.check()


def test_invalid_branch_name(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    result = run("register", "fraud", artifact(tmp_path, 1), "--branch", "no spaces", cwd=registry)
    assert_error(result, 2, "'no spaces' is not a valid branch name")
    state.check()


def test_register_outside_a_registry(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "--quiet")
    art = artifact(tmp_path, 1)
    before = tree_state(plain)
    result = run("register", "fraud", art, cwd=plain)
    assert_error(
        result,
        3,
        f"{plain} is not a gitreg registry (no registry.yaml at its top) (create one with gitreg init)",
    )
    assert tree_state(plain) == before


def test_owner_option(registry: Path, tmp_path: Path) -> None:
    ok(
        "register",
        "fraud",
        artifact(tmp_path, 1),
        "--owner",
        "@risk-ml",
        "--owner",
        "@org/team",
        cwd=registry,
    )
    model: dict[str, Any] = yaml.safe_load(git(registry, "show", "HEAD:models/fraud/model.yaml"))
    assert model["owners"] == ["@risk-ml", "@org/team"]
    assert git(registry, "show", "HEAD:CODEOWNERS").endswith("\n/models/fraud/ @risk-ml @org/team\n")


# --- register --branch NEW goes through the same proposal path as promote ---------------------------------


def test_branch_new_with_push_proposes_the_version_like_a_promotion(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "forge.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(registry, "remote", "add", "origin", remote.as_uri())
    git(registry, "push", "--quiet", "origin", "main")
    head = git(registry, "rev-parse", "HEAD").strip()
    result = run("register", "fraud", artifact(tmp_path), "--branch", "add-fraud", "--push", cwd=registry)
    assert result.exit_code == 0, result.stderr
    commit = git(registry, "rev-parse", "add-fraud").strip()
    assert result.stdout == (
        f"fraud@1\nbranch add-fraud (commit {commit[:12]}) from HEAD\npushed add-fraud to origin\n"
    )
    assert git(tmp_path / "forge.git", "rev-parse", "add-fraud").strip() == commit
    assert git(registry, "rev-parse", "HEAD").strip() == head  # the checkout did not move
    assert git(registry, "log", "-1", "--format=%B", commit).endswith(
        "Gitreg-Model: fraud\nGitreg-Version: 1\n"
        f"Gitreg-Digest: sha256:{hashlib.sha256(artifact(tmp_path).read_bytes()).hexdigest()}\n\n"
    )


def test_push_without_a_new_branch_is_a_usage_error(registry: Path, blobs: Path, tmp_path: Path) -> None:
    before, store = tree_state(registry), tree_state(blobs)
    result = run("register", "fraud", artifact(tmp_path), "--push", cwd=registry)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --push and --open-pr go with --branch NEW, the branch that proposes the version\n"
    )
    assert tree_state(registry) == before
    assert tree_state(blobs) == store
