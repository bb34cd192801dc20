"""``gitreg.ops.register``: numbering, the manifest it writes, lineage, the commit it makes, and every refusal
(each detected before a byte is stored, so the blob store and the repository are left as they were)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitreg import ConflictError, GitregError, ManifestError, NotFoundError, Registry, UsageError
from gitreg.ops.register import Registration, register
from testing import Unchanged, git, run, sha256_file, tree_state, write_bytes


def artifact(tmp_path: Path, seed: int = 0, size: int = 300, name: str = "model.bin") -> Path:
    return write_bytes(tmp_path / "artifacts" / str(seed) / name, size, seed)


def do_register(registry: Path, reg: Registration) -> int:
    return register(Registry.open(registry), reg).version


def manifest(registry: Path, model: str, version: int) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (registry / "models" / model / "versions" / f"{version}.yaml").read_text()
    )
    return data


def committed(registry: Path, path: str, rev: str = "HEAD") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(git(registry, "show", f"{rev}:{path}"))
    return data


def changed_files(repo: Path, rev: str = "HEAD") -> list[str]:
    return sorted(git(repo, "show", "--name-only", "--format=", rev).split())


def blob_path(blobs: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return blobs / "sha256" / hexdigest[:2] / hexdigest[2:]


def commit_count(repo: Path, rev: str = "HEAD") -> int:
    return int(git(repo, "rev-list", "--count", rev))


# --- numbering --------------------------------------------------------------------------------------------


def test_versions_count_up_from_one(registry: Path, tmp_path: Path) -> None:
    assert [do_register(registry, Registration("fraud", artifact(tmp_path, n))) for n in (1, 2, 3)] == [
        1,
        2,
        3,
    ]
    assert sorted(p.name for p in (registry / "models" / "fraud" / "versions").iterdir()) == [
        "1.yaml",
        "2.yaml",
        "3.yaml",
    ]
    assert commit_count(registry) == 4
    # the first registration creates model.yaml as well; later ones only add their version
    assert changed_files(registry, "HEAD~2") == ["models/fraud/model.yaml", "models/fraud/versions/1.yaml"]
    assert changed_files(registry, "HEAD~1") == ["models/fraud/versions/2.yaml"]
    assert changed_files(registry, "HEAD") == ["models/fraud/versions/3.yaml"]
    assert committed(registry, "models/fraud/model.yaml") == {
        "apiVersion": "gitreg/v1",
        "kind": "Model",
        "name": "fraud",
        "description": "",
        "owners": [],
        "tags": {},
        "policy": {},
    }
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""


def test_each_model_has_its_own_numbers(registry: Path, tmp_path: Path) -> None:
    assert do_register(registry, Registration("fraud", artifact(tmp_path, 1))) == 1
    assert do_register(registry, Registration("churn", artifact(tmp_path, 2))) == 1
    assert do_register(registry, Registration("fraud", artifact(tmp_path, 3))) == 2


def test_explicit_version(registry: Path, tmp_path: Path) -> None:
    assert do_register(registry, Registration("fraud", artifact(tmp_path, 1), version=5)) == 5
    assert manifest(registry, "fraud", 5)["version"] == 5
    assert do_register(registry, Registration("fraud", artifact(tmp_path, 2))) == 6


def test_explicit_version_that_exists(registry: Path, blobs: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    do_register(registry, Registration("fraud", artifact(tmp_path, 2)))
    state = Unchanged(registry, blobs)
    with pytest.raises(ConflictError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 3), version=1))
    assert str(exc.value) == "fraud@1 already exists (versions are immutable; the next free one is 3)"
    state.check()


def test_explicit_version_below_latest(registry: Path, blobs: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1), version=5))
    state = Unchanged(registry, blobs)
    with pytest.raises(ConflictError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 3), version=4))
    assert str(exc.value) == (
        "version=4 is below fraud's latest version 5 (versions only go up; use 6 or more)"
    )
    state.check()


def test_version_zero(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    with pytest.raises(UsageError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 3), version=0))
    assert str(exc.value) == "version=0: versions are positive integers"
    state.check()


# --- the manifest -----------------------------------------------------------------------------------------


def test_every_field_is_written_in_the_spec_order(registry: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    art = artifact(tmp_path, 2, size=1234, name="model.onnx")
    data_digest = "sha256:" + "a" * 64
    reg = Registration(
        "fraud",
        art,
        metrics={"auc": 0.931, "epochs": 10},
        params={"max_depth": 8, "lr": 0.1, "optimizer": "adam", "early_stop": True},
        tags={"candidate": "true", "team": "risk"},
        description="Retrained on November data",
        framework="sklearn==1.5.2",
        format="onnx",
        code_repo="https://git.example.com/risk/train",
        code_commit="1b2c3d4e5f",
        code_path="train.py",
        data=[f"s3://datasets/fraud/2026-11@{data_digest}", "s3://datasets/extra@v2"],
        run_id="run-8812",
        run_url="https://mlflow.example.com/runs/8812",
        parent=1,
    )
    version = register(Registry.open(registry), reg)
    data = manifest(registry, "fraud", 2)
    assert data == committed(registry, "models/fraud/versions/2.yaml")
    created_at = data.pop("created_at")
    assert isinstance(created_at, str)
    assert created_at == version.created_at
    assert data == {
        "apiVersion": "gitreg/v1",
        "kind": "ModelVersion",
        "model": "fraud",
        "version": 2,
        "artifact": {
            "digest": sha256_file(art),
            "size": 1234,
            "type": "file",
            "name": "model.onnx",
            "format": "onnx",
        },
        "framework": {"name": "sklearn", "version": "1.5.2"},
        "metrics": {"auc": 0.931, "epochs": 10},
        "params": {"max_depth": 8, "lr": 0.1, "optimizer": "adam", "early_stop": True},
        "lineage": {
            "code": {
                "repo": "https://git.example.com/risk/train",
                "commit": "1b2c3d4e5f",
                "path": "train.py",
            },
            "data": [
                {"uri": "s3://datasets/fraud/2026-11", "digest": data_digest},
                {"uri": "s3://datasets/extra@v2"},
            ],
            "run": {"id": "run-8812", "url": "https://mlflow.example.com/runs/8812"},
            "parent": 1,
        },
        "tags": {"candidate": "true", "team": "risk"},
        "description": "Retrained on November data",
        "created_by": "Test User <test@example.com>",
        "status": "active",
    }
    keys = list(yaml.safe_load((registry / "models/fraud/versions/2.yaml").read_text()))
    assert keys == [
        "apiVersion",
        "kind",
        "model",
        "version",
        "artifact",
        "framework",
        "metrics",
        "params",
        "lineage",
        "tags",
        "description",
        "created_at",
        "created_by",
        "status",
    ]


def test_empty_fields_are_left_out(registry: Path, tmp_path: Path) -> None:
    art = artifact(tmp_path, 1)
    do_register(registry, Registration("fraud", art))
    data = manifest(registry, "fraud", 1)
    assert sorted(data) == sorted(
        ["apiVersion", "kind", "model", "version", "artifact", "created_at", "created_by", "status"]
    )
    assert data["artifact"] == {"digest": sha256_file(art), "size": 300, "type": "file", "name": "model.bin"}


def test_framework_without_version(registry: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1), framework="pytorch"))
    assert manifest(registry, "fraud", 1)["framework"] == {"name": "pytorch"}


def test_created_by_and_created_at(registry: Path, tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    after = datetime.now(UTC)
    data = manifest(registry, "fraud", 1)
    assert data["created_by"] == "Test User <test@example.com>"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["created_at"])
    stamp = datetime.strptime(data["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= after


def test_created_by_follows_git_author_variables(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Alice Example")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "alice@example.com")
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    assert manifest(registry, "fraud", 1)["created_by"] == "Alice Example <alice@example.com>"
    assert git(registry, "log", "-1", "--format=%an <%ae>").strip() == "Alice Example <alice@example.com>"


def test_folder_artifact_is_a_tree(registry: Path, blobs: Path, tmp_path: Path) -> None:
    src = tmp_path / "src" / "bert"
    write_bytes(src / "weights.safetensors", 4000, 1)
    write_bytes(src / "tokenizer" / "vocab.txt", 50, 2)
    do_register(registry, Registration("bert", src))
    art = manifest(registry, "bert", 1)["artifact"]
    assert art["type"] == "tree"
    assert art["name"] == "bert"
    assert art["size"] == 4050
    listing = blob_path(blobs, art["digest"])
    assert sha256_file(listing) == art["digest"]
    entries = json.loads(listing.read_bytes())["entries"]
    assert [e["path"] for e in entries] == ["tokenizer/vocab.txt", "weights.safetensors"]
    for entry in entries:
        assert entry["digest"] == sha256_file(src / entry["path"])
        assert blob_path(blobs, entry["digest"]).read_bytes() == (src / entry["path"]).read_bytes()


def test_same_bytes_are_stored_once(registry: Path, blobs: Path, tmp_path: Path) -> None:
    art = artifact(tmp_path, 1)
    do_register(registry, Registration("fraud", art))
    stored = tree_state(blobs)
    do_register(registry, Registration("churn", art))
    assert (
        manifest(registry, "churn", 1)["artifact"]["digest"]
        == manifest(registry, "fraud", 1)["artifact"]["digest"]
    )
    assert {k: v for k, v in tree_state(blobs).items() if not k.startswith("tmp")} == {
        k: v for k, v in stored.items() if not k.startswith("tmp")
    }


# --- code lineage -----------------------------------------------------------------------------------------


def code_repo(tmp_path: Path, origin: str | None) -> tuple[Path, str]:
    """A training-code repository holding an artifact; returns (artifact, HEAD)."""
    repo = tmp_path / "train"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / "train.py").write_text("print('train')\n")
    art = write_bytes(repo / "out" / "model.bin", 200, 7)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "train")
    if origin:
        git(repo, "remote", "add", "origin", origin)
    return art, git(repo, "rev-parse", "HEAD").strip()


def test_code_lineage_from_the_repo_holding_the_artifact(registry: Path, tmp_path: Path) -> None:
    art, head = code_repo(tmp_path, "https://git.example.com/risk/train.git")
    do_register(registry, Registration("fraud", art))
    assert manifest(registry, "fraud", 1)["lineage"] == {
        "code": {"repo": "https://git.example.com/risk/train.git", "commit": head}
    }


def test_code_lineage_without_origin(registry: Path, tmp_path: Path) -> None:
    art, head = code_repo(tmp_path, None)
    do_register(registry, Registration("fraud", art, code_path="train.py"))
    assert manifest(registry, "fraud", 1)["lineage"] == {"code": {"commit": head, "path": "train.py"}}


def test_code_lineage_for_a_folder_in_the_code_repo(registry: Path, tmp_path: Path) -> None:
    art, head = code_repo(tmp_path, "https://git.example.com/t.git")
    do_register(registry, Registration("fraud", art.parent))
    assert manifest(registry, "fraud", 1)["lineage"]["code"]["commit"] == head


def test_code_repo_option_overrides_origin(registry: Path, tmp_path: Path) -> None:
    art, head = code_repo(tmp_path, "https://git.example.com/origin.git")
    do_register(registry, Registration("fraud", art, code_repo="https://mirror.example.com/train.git"))
    assert manifest(registry, "fraud", 1)["lineage"]["code"] == {
        "repo": "https://mirror.example.com/train.git",
        "commit": head,
    }


def test_explicit_code_commit_wins(registry: Path, tmp_path: Path) -> None:
    art, _head = code_repo(tmp_path, "https://git.example.com/origin.git")
    do_register(registry, Registration("fraud", art, code_commit="abc1234"))
    assert manifest(registry, "fraud", 1)["lineage"]["code"] == {"commit": "abc1234"}


def test_no_code_lineage_for_an_artifact_in_the_registry_itself(registry: Path) -> None:
    art = write_bytes(registry / "scratch" / "model.bin", 100, 1)
    do_register(registry, Registration("fraud", art))
    assert "lineage" not in manifest(registry, "fraud", 1)


def test_no_code_lineage_through_a_symlinked_registry_path(registry: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(registry)
    art = write_bytes(registry / "scratch" / "model.bin", 100, 1)
    do_register(link, Registration("fraud", link / "scratch" / "model.bin"))
    assert art.is_file()
    assert "lineage" not in manifest(registry, "fraud", 1)


def test_no_code_lineage_outside_any_repo(registry: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    assert "lineage" not in manifest(registry, "fraud", 1)


# --- the commit -------------------------------------------------------------------------------------------


def test_commit_message_subject_body_and_trailers(registry: Path, tmp_path: Path) -> None:
    art = artifact(tmp_path, 1)
    do_register(registry, Registration("fraud", art, description="Retrained on November data"))
    digest = sha256_file(art)
    assert git(registry, "log", "-1", "--format=%B") == (
        "Register fraud@1\n\nRetrained on November data\n\n"
        f"Gitreg-Model: fraud\nGitreg-Version: 1\nGitreg-Digest: {digest}\n\n"
    )
    trailers = git(registry, "log", "-1", "--format=%(trailers:only,unfold)").strip().splitlines()
    assert trailers == ["Gitreg-Model: fraud", "Gitreg-Version: 1", f"Gitreg-Digest: {digest}"]
    assert git(registry, "log", "-1", "--format=%an <%ae>").strip() == "Test User <test@example.com>"


def test_commit_message_option(registry: Path, tmp_path: Path) -> None:
    do_register(
        registry, Registration("fraud", artifact(tmp_path, 1), message="Nightly retrain", description="d")
    )
    assert git(registry, "log", "-1", "--format=%s").strip() == "Nightly retrain"
    assert git(registry, "log", "-1", "--format=%(trailers:key=Gitreg-Version,valueonly)").strip() == "1"


def test_other_work_in_the_checkout_is_untouched(registry: Path, tmp_path: Path) -> None:
    readme = registry / "README.md"
    original = readme.read_text()
    readme.write_text(original + "\nStaged edit.\n")
    git(registry, "add", "README.md")
    staged_blob = git(registry, "rev-parse", ":README.md").strip()
    readme.write_text(original + "\nStaged edit.\nUnstaged edit.\n")
    (registry / "CODEOWNERS").write_text("* @someone\n")
    (registry / "notes.txt").write_text("mine\n")
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    assert changed_files(registry) == ["models/fraud/model.yaml", "models/fraud/versions/1.yaml"]
    assert git(registry, "show", "HEAD:README.md") == original
    assert git(registry, "rev-parse", ":README.md").strip() == staged_blob
    assert readme.read_text() == original + "\nStaged edit.\nUnstaged edit.\n"
    assert sorted(git(registry, "status", "--porcelain", "--untracked-files=all").splitlines()) == [
        " M CODEOWNERS",
        "?? notes.txt",
        "MM README.md",
    ]
    # the new files are in the working tree and the index, exactly as committed
    assert (registry / "models/fraud/versions/1.yaml").read_text() == git(
        registry, "show", "HEAD:models/fraud/versions/1.yaml"
    )


def test_untracked_version_file_is_a_conflict(registry: Path, blobs: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    (registry / "models/fraud/versions/2.yaml").write_text("mine: true\n")
    state = Unchanged(registry, blobs)
    with pytest.raises(ConflictError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 2)))
    assert str(exc.value) == (
        "models/fraud/versions/2.yaml has uncommitted changes in the working tree "
        "(commit them or move them away first)"
    )
    state.check()
    assert commit_count(registry) == 2


def test_untracked_version_file_of_a_new_model(registry: Path, blobs: Path, tmp_path: Path) -> None:
    path = registry / "models/fraud/versions/1.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("mine: true\n")
    state = Unchanged(registry, blobs)
    with pytest.raises(ConflictError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 2)))
    assert str(exc.value) == (
        "models/fraud/versions/1.yaml has uncommitted changes in the working tree "
        "(commit them or move them away first)"
    )
    state.check()
    assert commit_count(registry) == 1


def test_untracked_model_file_of_a_new_model(registry: Path, blobs: Path, tmp_path: Path) -> None:
    path = registry / "models/fraud/model.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("apiVersion: gitreg/v1\nkind: Model\nname: fraud\n")
    state = Unchanged(registry, blobs)
    with pytest.raises(ConflictError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 2)))
    assert str(exc.value) == (
        "models/fraud/model.yaml has uncommitted changes in the working tree "
        "(commit them or move them away first)"
    )
    state.check()


def test_branch_option_creates_a_branch_and_leaves_the_checkout_alone(registry: Path, tmp_path: Path) -> None:
    head = git(registry, "rev-parse", "HEAD").strip()
    worktree = {k: v for k, v in tree_state(registry).items() if not k.startswith(".git/")}
    index = git(registry, "ls-files", "--stage")
    do_register(registry, Registration("fraud", artifact(tmp_path, 1), branch="register/fraud"))
    assert git(registry, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(registry, "rev-parse", "HEAD").strip() == head
    assert {k: v for k, v in tree_state(registry).items() if not k.startswith(".git/")} == worktree
    assert git(registry, "ls-files", "--stage") == index
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(registry, "rev-parse", "register/fraud~1").strip() == head
    assert changed_files(registry, "register/fraud") == [
        "models/fraud/model.yaml",
        "models/fraud/versions/1.yaml",
    ]
    assert committed(registry, "models/fraud/versions/1.yaml", "register/fraud")["version"] == 1


def test_branch_option_on_an_existing_branch(registry: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    git(registry, "checkout", "--quiet", "-b", "candidate")
    do_register(registry, Registration("fraud", artifact(tmp_path, 2)))
    git(registry, "checkout", "--quiet", "main")
    main = git(registry, "rev-parse", "main").strip()
    tip = git(registry, "rev-parse", "candidate").strip()
    # numbering follows the target branch: candidate has 1 and 2, main only 1
    assert do_register(registry, Registration("fraud", artifact(tmp_path, 3), branch="candidate")) == 3
    assert git(registry, "rev-parse", "candidate~1").strip() == tip
    assert git(registry, "rev-parse", "main").strip() == main
    assert changed_files(registry, "candidate") == ["models/fraud/versions/3.yaml"]
    assert not (registry / "models/fraud/versions/2.yaml").exists()
    assert not (registry / "models/fraud/versions/3.yaml").exists()
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""


def test_branch_option_naming_the_current_branch(registry: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1), branch="main"))
    assert (registry / "models/fraud/versions/1.yaml").is_file()
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""


def test_invalid_branch_name(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    with pytest.raises(UsageError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 1), branch="bad..name"))
    assert str(exc.value) == "'bad..name' is not a valid branch name"
    state.check()


def test_detached_head_is_refused(registry: Path, blobs: Path, tmp_path: Path) -> None:
    git(registry, "checkout", "--quiet", "--detach")
    state = Unchanged(registry, blobs)
    with pytest.raises(GitregError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    assert str(exc.value) == "HEAD is detached (check out a branch, or pass branch=NAME)"
    assert exc.value.exit_code == 3
    state.check()


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Fraud", "-fraud", "fraud-", "fr/aud", "a" * 65, ""])
def test_invalid_model_name(registry: Path, blobs: Path, tmp_path: Path, name: str) -> None:
    state = Unchanged(registry, blobs)
    with pytest.raises(UsageError) as exc:
        do_register(registry, Registration(name, artifact(tmp_path, 1)))
    assert str(exc.value) == (
        f"{name!r} is not a valid model name (use 1-64 lowercase letters, digits, '.', '_' or '-', "
        "starting and ending with a letter or digit)"
    )
    state.check()


def test_missing_path(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    missing = tmp_path / "nope.bin"
    with pytest.raises(NotFoundError) as exc:
        do_register(registry, Registration("fraud", missing))
    assert (
        str(exc.value) == f"{missing} does not exist (give the path of the model file or folder to register)"
    )
    state.check()


def test_parent_that_does_not_exist(registry: Path, blobs: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    state = Unchanged(registry, blobs)
    with pytest.raises(NotFoundError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 2), parent=5))
    assert str(exc.value) == "parent=5: fraud has no version 5"
    state.check()


def test_parent_of_a_new_model(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    with pytest.raises(NotFoundError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 2), parent=1))
    assert str(exc.value) == "parent=1: fraud has no version 1"
    state.check()


def test_empty_folder(registry: Path, blobs: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    state = Unchanged(registry, blobs)
    with pytest.raises(GitregError) as exc:
        do_register(registry, Registration("fraud", empty))
    assert str(exc.value) == f"folder {empty} has no files to register"
    state.check()


def test_folder_with_a_symlink_leaving_it(registry: Path, blobs: Path, tmp_path: Path) -> None:
    src = tmp_path / "model"
    write_bytes(src / "a.bin", 100, 1)
    secret = write_bytes(tmp_path / "secret.txt", 10, 2)
    (src / "z-link").symlink_to(secret)
    state = Unchanged(registry, blobs)
    with pytest.raises(GitregError) as exc:
        do_register(registry, Registration("fraud", src))
    assert (
        str(exc.value)
        == f"{src / 'z-link'} is a symlink to {secret}, outside the artifact (copy the file in instead)"
    )
    state.check()


def test_broken_registry_yaml_is_refused_before_upload(registry: Path, blobs: Path, tmp_path: Path) -> None:
    (registry / "registry.yaml").write_text("apiVersion: gitreg/v1\nkind: Registry\n")
    git(registry, "commit", "--quiet", "-am", "break")
    state = Unchanged(registry, blobs)
    with pytest.raises(ManifestError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    assert str(exc.value) == "registry.yaml:1:1: missing required field 'storage'"
    state.check()


def test_remote_registry_cannot_register(registry: Path, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(registry), str(bare))
    before = tree_state(bare)
    with pytest.raises(GitregError) as exc:
        register(Registry.open(bare.as_uri()), Registration("fraud", artifact(tmp_path, 1)))
    assert str(exc.value) == (
        "registering needs a checkout with a working tree, not a remote URL "
        "(clone the registry and work in the clone)"
    )
    assert tree_state(bare) == before


def test_registered_version_resolves(registry: Path, tmp_path: Path) -> None:
    art = artifact(tmp_path, 1)
    version = register(Registry.open(registry), Registration("fraud", art, metrics={"auc": 0.9}))
    assert version.ref == "fraud@1"
    again = Registry.open(registry, ref="HEAD").resolve("fraud@latest")
    assert again == version
    assert run("show", "fraud@1", cwd=registry).exit_code == 0


# --- owners of a new model --------------------------------------------------------------------------------


def test_owners_of_a_new_model(registry: Path, tmp_path: Path) -> None:
    codeowners = (registry / "CODEOWNERS").read_text()
    do_register(
        registry, Registration("fraud", artifact(tmp_path, 1), owners=["@risk-ml", "alice@example.com"])
    )
    assert committed(registry, "models/fraud/model.yaml")["owners"] == ["@risk-ml", "alice@example.com"]
    assert (
        git(registry, "show", "HEAD:CODEOWNERS") == codeowners + "/models/fraud/ @risk-ml alice@example.com\n"
    )
    assert changed_files(registry) == [
        "CODEOWNERS",
        "models/fraud/model.yaml",
        "models/fraud/versions/1.yaml",
    ]
    assert (registry / "CODEOWNERS").read_text() == git(registry, "show", "HEAD:CODEOWNERS")
    assert git(registry, "status", "--porcelain", "--untracked-files=all") == ""


def test_owners_of_an_existing_model(registry: Path, blobs: Path, tmp_path: Path) -> None:
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    state = Unchanged(registry, blobs)
    with pytest.raises(UsageError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 2), owners=["@risk-ml"]))
    assert str(exc.value) == (
        "owners= sets the owners of a new model, and fraud exists "
        "(edit models/fraud/model.yaml (and CODEOWNERS) to change its owners)"
    )
    state.check()


def test_owner_that_is_not_a_handle(registry: Path, blobs: Path, tmp_path: Path) -> None:
    state = Unchanged(registry, blobs)
    with pytest.raises(UsageError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 1), owners=["risk-ml"]))
    assert (
        str(exc.value) == "owners='risk-ml' is not a CODEOWNERS handle (write @user, @org/team or an email)"
    )
    state.check()


def test_owners_with_uncommitted_codeowners(registry: Path, blobs: Path, tmp_path: Path) -> None:
    (registry / "CODEOWNERS").write_text("* @me\n")
    state = Unchanged(registry, blobs)
    with pytest.raises(ConflictError) as exc:
        do_register(registry, Registration("fraud", artifact(tmp_path, 1), owners=["@risk-ml"]))
    assert str(exc.value) == (
        "CODEOWNERS has uncommitted changes in the working tree (commit them or move them away first)"
    )
    state.check()
    # without --owner, CODEOWNERS is not written, so the edit is no obstacle
    do_register(registry, Registration("fraud", artifact(tmp_path, 1)))
    assert (registry / "CODEOWNERS").read_text() == "* @me\n"
