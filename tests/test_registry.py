"""Reading a registry: opening it (checkout, subfolder, older commit, bare remote), resolving refs, pulling
artifacts with verification, and the errors for each thing that can be missing or malformed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitreg import GitregError, IntegrityError, ManifestError, NotFoundError, Ref, Registry, UsageError
from gitreg.snapshot import CommitSnapshot, WorkTreeSnapshot
from testing import commit_all, git, run, sha256_file, tree_state, write_bytes


def add_version(registry: Path, tmp_path: Path, model: str, seed: int, *options: str) -> Path:
    """Register a fresh 300-byte artifact as the next version of ``model``; return the artifact."""
    art = write_bytes(tmp_path / "artifacts" / f"{model}-{seed}" / "model.bin", 300, seed)
    result = run("register", model, art, *options, cwd=registry)
    assert result.exit_code == 0, result.stderr
    return art


def set_status(registry: Path, model: str, version: int, status: str) -> None:
    path = registry / "models" / model / "versions" / f"{version}.yaml"
    text = path.read_text()
    assert "status: active\n" in text
    path.write_text(text.replace("status: active\n", f"status: {status}\n"))
    commit_all(registry, f"{status} {model}@{version}")


def blob_path(blobs: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return blobs / "sha256" / hexdigest[:2] / hexdigest[2:]


@pytest.fixture
def two_versions(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2 (fraud@1 in staging), churn@1."""
    add_version(registry, tmp_path, "fraud", 1, "--metric", "auc=0.9")
    add_version(registry, tmp_path, "fraud", 2, "--metric", "auc=0.93")
    add_version(registry, tmp_path, "churn", 3)
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    commit_all(registry, "Promote fraud@1 to staging")
    return registry


# --- opening ----------------------------------------------------------------------------------------------


def test_open_dot_from_a_subfolder(two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(two_versions / "models" / "fraud")
    reg = Registry.open(".")
    assert reg.workdir == two_versions
    assert isinstance(reg.snapshot, WorkTreeSnapshot)
    assert reg.model_names() == ["churn", "fraud"]
    assert reg.resolve("fraud@2").version == 2


def test_open_default_location_is_the_current_folder(
    two_versions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(two_versions / "stages")
    assert Registry.open().workdir == two_versions


def test_open_reads_the_working_tree(two_versions: Path) -> None:
    """Without ``ref``, uncommitted edits are what is read (what pre-commit sees)."""
    (two_versions / "stages" / "staging.yaml").write_text("fraud: 2\n")
    assert Registry.open(two_versions).stage("staging") == {"fraud": 2}
    assert Registry.open(two_versions, ref="HEAD").stage("staging") == {"fraud": 1}


def test_open_a_git_repo_that_is_not_a_registry(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "--quiet")
    (plain / "README.md").write_text("hi\n")
    commit_all(plain, "first")
    before = tree_state(plain)
    with pytest.raises(NotFoundError) as exc:
        Registry.open(plain)
    assert str(exc.value) == (
        f"{plain} is not a gitreg registry (no registry.yaml at its top) (create one with gitreg init)"
    )
    with pytest.raises(NotFoundError) as exc:
        Registry.open(plain, ref="HEAD")
    assert str(exc.value) == (
        f"{plain} is not a gitreg registry (no registry.yaml at its top) (create one with gitreg init)"
    )
    assert tree_state(plain) == before


def test_open_a_folder_that_is_not_a_git_repo(tmp_path: Path) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    with pytest.raises(NotFoundError) as exc:
        Registry.open(folder)
    assert str(exc.value) == (
        f"{folder} is not inside a git repository (run gitreg inside a registry checkout, or pass -C DIR)"
    )
    assert list(folder.iterdir()) == []
    missing = tmp_path / "missing"
    with pytest.raises(NotFoundError) as exc:
        Registry.open(missing)
    assert str(exc.value) == (
        f"{missing} is not inside a git repository (run gitreg inside a registry checkout, or pass -C DIR)"
    )
    assert not missing.exists()


def test_open_an_older_commit(two_versions: Path) -> None:
    # HEAD is the staging promotion; HEAD~1 registered churn; HEAD~2 registered fraud@2
    old = Registry.open(two_versions, ref="HEAD~2")
    assert isinstance(old.snapshot, CommitSnapshot)
    assert old.model_names() == ["fraud"]
    assert old.version_numbers("fraud") == [1, 2]
    assert old.stage("staging") == {}
    older = Registry.open(two_versions, ref="HEAD~3")
    assert older.version_numbers("fraud") == [1]
    assert older.resolve("fraud@latest").version == 1
    with pytest.raises(NotFoundError) as exc:
        older.resolve("fraud@2")
    assert str(exc.value) == "fraud has no version 2 (it has versions 1)"


def test_open_an_unknown_ref(two_versions: Path) -> None:
    with pytest.raises(NotFoundError) as exc:
        Registry.open(two_versions, ref="no-such-branch")
    assert str(exc.value) == f"no-such-branch does not name a commit in {two_versions}"


def test_open_a_bare_remote_over_file_url(two_versions: Path, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    git(two_versions, "push", "--quiet", str(bare), "main")
    reg = Registry.open(bare.as_uri(), ref="main")
    assert reg.workdir is None
    assert reg.model_names() == ["churn", "fraud"]
    assert reg.version_numbers("fraud") == [1, 2]
    assert reg.resolve("fraud@staging").version == 1
    assert reg.resolve("fraud").metrics == {"auc": 0.93}
    # the artifact can be pulled through the remote registry's storage URL
    out = reg.pull("fraud@1", tmp_path / "out.bin")
    assert out == tmp_path / "out.bin"
    assert sha256_file(out) == reg.resolve("fraud@1").artifact.digest


def test_open_a_bare_remote_sees_new_commits(two_versions: Path, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    git(two_versions, "push", "--quiet", str(bare), "main")
    assert Registry.open(bare.as_uri()).version_numbers("fraud") == [1, 2]
    add_version(two_versions, tmp_path, "fraud", 9)
    git(two_versions, "push", "--quiet", str(bare), "main")
    # the default ref is main, and a cached clone is brought up to date
    assert Registry.open(bare.as_uri()).version_numbers("fraud") == [1, 2, 3]


def test_open_a_remote_ref_that_does_not_exist(two_versions: Path, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    git(two_versions, "push", "--quiet", str(bare), "main")
    with pytest.raises(GitregError) as exc:
        Registry.open(bare.as_uri(), ref="no-such-branch")
    assert exc.value.exit_code == 3
    assert "no-such-branch" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_storage_url_environment_override(
    two_versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    monkeypatch.setenv("GITREG_STORAGE_URL", mirror.as_uri())
    assert Registry.open(two_versions).store.url == mirror.as_uri()
    monkeypatch.setenv("GITREG_STORAGE_URL", "")
    assert Registry.open(two_versions).store.url == (tmp_path / "blobs").as_uri()


# --- resolving --------------------------------------------------------------------------------------------


def test_resolve_each_kind_of_ref(two_versions: Path) -> None:
    reg = Registry.open(two_versions)
    assert reg.resolve("fraud@1").ref == "fraud@1"
    assert reg.resolve("fraud@2").metrics == {"auc": 0.93}
    assert reg.resolve("fraud@latest").version == 2
    assert reg.resolve("fraud").version == 2
    assert reg.resolve("fraud@staging").version == 1
    assert reg.resolve(Ref("fraud", "1")).version == 1
    assert reg.resolve("  fraud@1  ").version == 1


def test_latest_skips_archived_versions(two_versions: Path) -> None:
    set_status(two_versions, "fraud", 2, "archived")
    reg = Registry.open(two_versions)
    assert reg.resolve("fraud@latest").version == 1
    assert reg.resolve("fraud").version == 1
    # an archived version can still be named by number
    assert reg.resolve("fraud@2").status == "archived"


def test_latest_with_every_version_archived(two_versions: Path) -> None:
    set_status(two_versions, "churn", 1, "archived")
    with pytest.raises(NotFoundError) as exc:
        Registry.open(two_versions).resolve("churn@latest")
    assert str(exc.value) == "churn has no active version (register one with gitreg register)"


def test_stage_written_by_hand(two_versions: Path) -> None:
    (two_versions / "stages" / "production.yaml").write_text("fraud: 2\nchurn: 1\n")
    commit_all(two_versions, "Promote")
    reg = Registry.open(two_versions, ref="HEAD")
    assert reg.resolve("fraud@production").version == 2
    assert reg.resolve("churn@production").version == 1
    assert reg.stage("production") == {"fraud": 2, "churn": 1}
    assert reg.stages_of("fraud") == {"staging": 1, "production": 2}
    assert reg.stages_of("churn") == {"production": 1}


def test_unknown_model_suggests_a_close_name(two_versions: Path) -> None:
    reg = Registry.open(two_versions)
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("frod@1")
    assert str(exc.value) == "model 'frod' is not in the registry (did you mean 'fraud'?)"
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("zzzzzz")
    assert str(exc.value) == "model 'zzzzzz' is not in the registry (known: churn, fraud)"


def test_unknown_model_in_an_empty_registry(registry: Path) -> None:
    with pytest.raises(NotFoundError) as exc:
        Registry.open(registry).resolve("fraud")
    assert str(exc.value) == "model 'fraud' is not in the registry"


def test_unknown_version_lists_the_known_ones(two_versions: Path) -> None:
    reg = Registry.open(two_versions)
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("fraud@9")
    assert str(exc.value) == "fraud has no version 9 (it has versions 1..2)"
    with pytest.raises(NotFoundError) as exc:
        reg.version("fraud", 0)
    assert str(exc.value) == "fraud has no version 0 (it has versions 1..2)"
    with pytest.raises(NotFoundError) as exc:
        reg.version("nope", 1)
    assert str(exc.value) == "model 'nope' is not in the registry (known: churn, fraud)"


def test_undeclared_stage(two_versions: Path) -> None:
    reg = Registry.open(two_versions)
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("fraud@stagin")
    assert str(exc.value) == "stage 'stagin' is not declared in registry.yaml (did you mean 'staging'?)"
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("fraud@qa")
    assert str(exc.value) == "stage 'qa' is not declared in registry.yaml (known: staging, production)"


def test_model_not_in_stage(two_versions: Path) -> None:
    reg = Registry.open(two_versions)
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("churn@staging")
    assert str(exc.value) == "churn has no version in stage 'staging'"
    with pytest.raises(NotFoundError) as exc:
        reg.resolve("fraud@production")  # no stages/production.yaml yet
    assert str(exc.value) == "fraud has no version in stage 'production'"


@pytest.mark.parametrize("text", ["a@b@c", "", "fraud@", "@1", "fr aud@1"])
def test_malformed_ref(two_versions: Path, text: str) -> None:
    reg = Registry.open(two_versions)
    with pytest.raises(UsageError) as exc:
        reg.resolve(text)
    assert str(exc.value) == (
        f"{text!r} is not a reference (write MODEL, MODEL@VERSION, MODEL@STAGE or MODEL@latest)"
    )
    assert exc.value.exit_code == 2


def test_ref_parse() -> None:
    assert Ref.parse("fraud@3") == Ref("fraud", "3")
    assert Ref.parse("fraud@3").version == 3
    assert Ref.parse("fraud@production").version is None
    assert Ref.parse("fraud") == Ref("fraud", None)
    assert str(Ref.parse("fraud@latest")) == "fraud@latest"
    assert str(Ref.parse("fraud")) == "fraud"


# --- files ------------------------------------------------------------------------------------------------


def test_version_numbers_ignore_other_files(two_versions: Path) -> None:
    versions = two_versions / "models" / "fraud" / "versions"
    for name in ("notes.txt", "01.yaml", "0.yaml", "latest.yaml", "3.yml", "-4.yaml", "5.yaml.bak"):
        (versions / name).write_text("not a manifest\n")
    (versions / "10").mkdir()
    (versions / "10" / "x.txt").write_text("x\n")
    assert Registry.open(two_versions).version_numbers("fraud") == [1, 2]
    commit_all(two_versions, "clutter")
    reg = Registry.open(two_versions, ref="HEAD")
    assert reg.version_numbers("fraud") == [1, 2]
    assert reg.resolve("fraud@latest").version == 2
    assert [v.version for v in reg.versions("fraud")] == [1, 2]


def test_version_numbers_sort_numerically(registry: Path, tmp_path: Path) -> None:
    add_version(registry, tmp_path, "fraud", 1)
    add_version(registry, tmp_path, "fraud", 2, "--version", "10")
    add_version(registry, tmp_path, "fraud", 3, "--version", "9" + "0")
    reg = Registry.open(registry)
    assert reg.version_numbers("fraud") == [1, 10, 90]
    assert reg.resolve("fraud").version == 90
    assert reg.version_numbers("nope") == []


def test_model_names_ignore_invalid_folders(two_versions: Path) -> None:
    (two_versions / "models" / "Not_Valid").mkdir()
    (two_versions / "models" / "Not_Valid" / "model.yaml").write_text("x: 1\n")
    assert Registry.open(two_versions).model_names() == ["churn", "fraud"]


def test_malformed_yaml_names_path_line_and_column(two_versions: Path) -> None:
    path = two_versions / "models" / "fraud" / "versions" / "2.yaml"
    path.write_text("apiVersion: gitreg/v1\nkind: ModelVersion\nmodel: [fraud\n")
    commit_all(two_versions, "break it")
    for reg in (Registry.open(two_versions), Registry.open(two_versions, ref="HEAD")):
        with pytest.raises(ManifestError) as exc:
            reg.resolve("fraud@2")
        problem = exc.value.problems[0]
        assert problem.path == "models/fraud/versions/2.yaml"
        assert (problem.line, problem.col) > (3, 0)
        assert str(exc.value).startswith(f"models/fraud/versions/2.yaml:{problem.line}:{problem.col}: yaml: ")
        assert "\n" not in str(exc.value)
        # the other versions stay readable
        assert reg.resolve("fraud@1").version == 1


def test_schema_error_names_the_field_position(two_versions: Path) -> None:
    path = two_versions / "models" / "fraud" / "versions" / "1.yaml"
    lines = path.read_text().splitlines()
    index = lines.index("status: active")
    lines[index] = "status: retired"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ManifestError) as exc:
        Registry.open(two_versions).resolve("fraud@1")
    assert str(exc.value).startswith(f"models/fraud/versions/1.yaml:{index + 1}:1: status: ")


def test_duplicate_key_is_refused(two_versions: Path) -> None:
    (two_versions / "stages" / "staging.yaml").write_text("fraud: 1\nfraud: 2\n")
    with pytest.raises(ManifestError) as exc:
        Registry.open(two_versions).stage("staging")
    assert str(exc.value) == "stages/staging.yaml:2:1: yaml: duplicate key 'fraud'"


# --- pulling ----------------------------------------------------------------------------------------------


def test_pull_into_a_folder_and_to_a_path(two_versions: Path, tmp_path: Path) -> None:
    reg = Registry.open(two_versions)
    version = reg.resolve("fraud@1")
    source = tmp_path / "artifacts" / "fraud-1" / "model.bin"
    folder = tmp_path / "dest"
    folder.mkdir()
    got = reg.pull(version, folder)
    assert got == folder / "model.bin"
    assert got.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == ["model.bin"]
    target = tmp_path / "deep" / "renamed.onnx"
    assert reg.pull("fraud@1", target) == target
    assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["renamed.onnx"]


def test_pull_to_the_current_folder(
    two_versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    got = Registry.open(two_versions).pull("fraud@2")
    assert got.resolve() == (here / "model.bin").resolve()
    assert (here / "model.bin").read_bytes() == (
        tmp_path / "artifacts" / "fraud-2" / "model.bin"
    ).read_bytes()


def test_pull_a_folder_artifact(registry: Path, tmp_path: Path) -> None:
    src = tmp_path / "src" / "model"
    write_bytes(src / "weights.bin", 5000, 1)
    write_bytes(src / "sub" / "config.json", 10, 2)
    write_bytes(src / "run.sh", 20, 3).chmod(0o755)
    assert run("register", "fraud", src, cwd=registry).exit_code == 0
    reg = Registry.open(registry)
    version = reg.resolve("fraud@1")
    assert version.artifact.type == "tree"
    dest = tmp_path / "out"
    dest.mkdir()
    got = reg.pull(version, dest)
    assert got == dest / "model"
    assert sorted(p.relative_to(got).as_posix() for p in got.rglob("*") if p.is_file()) == [
        "run.sh",
        "sub/config.json",
        "weights.bin",
    ]
    for rel in ("run.sh", "sub/config.json", "weights.bin"):
        assert (got / rel).read_bytes() == (src / rel).read_bytes()
    assert os.access(got / "run.sh", os.X_OK)
    assert not os.access(got / "weights.bin", os.X_OK)


def test_pull_of_a_tampered_blob_leaves_nothing(two_versions: Path, tmp_path: Path, blobs: Path) -> None:
    reg = Registry.open(two_versions)
    version = reg.resolve("fraud@1")
    stored = blob_path(blobs, version.artifact.digest)
    stored.chmod(stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(stored.read_bytes())
    data[10] ^= 0xFF
    stored.write_bytes(bytes(data))
    actual = sha256_file(stored)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(IntegrityError) as exc:
        reg.pull(version, dest)
    assert str(exc.value) == (
        f"blob {version.artifact.digest} is corrupt: its content hashes to {actual} "
        "(the store copy was altered; run `gitreg verify` and re-register the artifact from its source)"
    )
    assert list(dest.iterdir()) == []
    with pytest.raises(IntegrityError):
        reg.pull(version, tmp_path / "file.bin")
    assert not (tmp_path / "file.bin").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_pull_of_a_truncated_blob_leaves_nothing(two_versions: Path, tmp_path: Path, blobs: Path) -> None:
    version = Registry.open(two_versions).resolve("fraud@2")
    stored = blob_path(blobs, version.artifact.digest)
    stored.chmod(stat.S_IRUSR | stat.S_IWUSR)
    stored.write_bytes(stored.read_bytes()[:100])
    with pytest.raises(IntegrityError):
        Registry.open(two_versions).pull(version, tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()
