"""``gitreg init``: the layout it writes, its first commit, and every folder it must refuse."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitreg import yamlio
from gitreg.errors import ConflictError, UsageError
from gitreg.manifest import RegistryConfig, parse
from gitreg.ops.init import init
from testing import assert_error, git, run, tree_state, write_bytes

LAYOUT = [
    "registry.yaml",
    ".pre-commit-config.yaml",
    ".github/workflows/gitreg.yml",
    ".gitlab-ci.yml",
    "CODEOWNERS",
    "README.md",
    ".gitignore",
]


def registry_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((path / "registry.yaml").read_text())
    return data


def test_init_writes_the_whole_layout_in_one_commit(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    url = (tmp_path / "blobs").as_uri()
    result = run("init", path, "--storage", url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Created registry in {path} (blobs in {url})\n"
    assert result.stderr == ""
    for rel in LAYOUT:
        assert (path / rel).is_file(), rel
    assert (path / "models").is_dir()
    assert (path / "stages").is_dir()
    tracked = set(git(path, "ls-files").splitlines())
    assert set(LAYOUT) <= tracked
    # a clone must have models/ and stages/ too, so something below each is committed
    assert any(p.startswith("models/") for p in tracked)
    assert any(p.startswith("stages/") for p in tracked)
    assert git(path, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(path, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(path, "status", "--porcelain", "--untracked-files=all").strip() == ""
    assert git(path, "log", "-1", "--format=%an <%ae>").strip() == "Test User <test@example.com>"


def test_registry_yaml_has_default_stages_and_the_given_storage(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    url = (tmp_path / "some where" / "blobs").as_uri()
    assert run("init", path, "--storage", url).exit_code == 0
    data = registry_yaml(path)
    assert data["apiVersion"] == "gitreg/v1"
    assert data["kind"] == "Registry"
    assert data["storage"]["url"] == url
    assert data["storage"]["options"] == {}
    assert [s["name"] for s in data["stages"]] == ["staging", "production"]
    assert data["stages"][0].get("requires", []) == []
    assert data["stages"][1]["requires"] == ["staging"]
    # and the file passes gitreg's own schema
    config = parse(RegistryConfig, yamlio.load((path / "registry.yaml").read_bytes(), "registry.yaml"))
    assert config.storage.url == url
    production = config.stage("production")
    assert production is not None
    assert production.requires == ["staging"]


def test_storage_url_with_a_quote_survives_the_template(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    url = (tmp_path / "it's blobs").as_uri()
    assert run("init", path, "--storage", url).exit_code == 0
    assert registry_yaml(path)["storage"]["url"] == url


def test_relative_storage_path_is_kept_relative(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    assert run("init", path, "--storage", "../blobs").exit_code == 0
    assert registry_yaml(path)["storage"]["url"] == "../blobs"
    art = write_bytes(tmp_path / "m.bin", 100)
    assert run("register", "fraud", art, cwd=path).exit_code == 0
    # relative to the registry's working tree, not to the current folder
    assert (tmp_path / "blobs" / "sha256").is_dir()


def test_default_storage_is_a_folder_in_the_user_data_dir(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    expected = (Path(os.environ["XDG_DATA_HOME"]) / "gitreg" / "blobs").as_uri()
    result = run("init", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Created registry in {path} (blobs in {expected})\n"
    url = registry_yaml(path)["storage"]["url"]
    assert url == expected
    assert url.startswith("file:///")
    # registering stores the bytes there
    art = write_bytes(tmp_path / "m.bin", 100)
    assert run("register", "fraud", art, cwd=path).exit_code == 0
    assert (Path(os.environ["XDG_DATA_HOME"]) / "gitreg" / "blobs" / "sha256").is_dir()


def test_init_library_returns_path_and_url(tmp_path: Path) -> None:
    url = (tmp_path / "blobs").as_uri()
    path, got = init(tmp_path / "reg", url)
    assert (path, got) == (tmp_path / "reg", url)
    assert (path / "registry.yaml").is_file()


def test_init_accepts_an_existing_empty_folder(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.mkdir()
    result = run("init", path, "--storage", (tmp_path / "blobs").as_uri())
    assert result.exit_code == 0, result.stderr
    assert (path / "registry.yaml").is_file()
    assert git(path, "rev-list", "--count", "HEAD").strip() == "1"


def test_init_creates_missing_parents(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "reg"
    assert run("init", path, "--storage", (tmp_path / "blobs").as_uri()).exit_code == 0
    assert (path / "registry.yaml").is_file()


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    path = tmp_path / "work"
    (path / "sub").mkdir(parents=True)
    (path / "notes.txt").write_text("mine\n")
    before = tree_state(path)
    result = run("init", path, "--storage", (tmp_path / "blobs").as_uri())
    assert_error(result, 3, f"{path} is not empty and is not a registry (choose a new or empty folder)")
    assert tree_state(path) == before
    assert not (tmp_path / "blobs").exists()


def test_init_refuses_a_folder_holding_only_a_hidden_file(tmp_path: Path) -> None:
    path = tmp_path / "work"
    path.mkdir()
    (path / ".env").write_text("X=1\n")
    before = tree_state(path)
    result = run("init", path, "--storage", (tmp_path / "blobs").as_uri())
    assert_error(result, 3, f"{path} is not empty and is not a registry (choose a new or empty folder)")
    assert tree_state(path) == before


def test_init_refuses_an_existing_registry(registry: Path, tmp_path: Path) -> None:
    before = tree_state(registry)
    result = run("init", registry, "--storage", (tmp_path / "other").as_uri())
    assert_error(result, 3, f"{registry} is already a gitreg registry")
    assert tree_state(registry) == before
    assert git(registry, "rev-list", "--count", "HEAD").strip() == "1"


def test_init_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    result = run("init", path, "--storage", (tmp_path / "blobs").as_uri())
    assert_error(result, 3, f"{path} exists and is not a folder")
    assert path.read_text() == "x"


def test_bad_storage_scheme_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    result = run("init", path, "--storage", "ftp://example.com/blobs")
    assert_error(
        result,
        2,
        "storage URL 'ftp://example.com/blobs' has an unknown scheme 'ftp' (use file://, s3://, gs:// or az://)",
    )
    assert not path.exists()


def test_file_url_with_a_host_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    result = run("init", path, "--storage", "file://server/blobs")
    assert_error(
        result,
        2,
        "storage URL 'file://server/blobs' names a host (file URLs look like file:///absolute/path)",
    )
    assert not path.exists()


def test_bad_storage_in_an_existing_empty_folder_leaves_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.mkdir()
    result = run("init", path, "--storage", "ftp://example.com/blobs")
    assert result.exit_code == 2
    assert list(path.iterdir()) == []


def test_library_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        init(tmp_path / "reg", "ftp://example.com/blobs")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ConflictError) as exc:
        init(tmp_path / "full", (tmp_path / "blobs").as_uri())
    assert (
        str(exc.value)
        == f"{tmp_path / 'full'} is not empty and is not a registry (choose a new or empty folder)"
    )


def test_relative_dir_is_relative_to_dash_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-C DIR`` means "as if started in DIR", for init as for every other command (like ``git -C``)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    base = tmp_path / "base"
    base.mkdir()
    result = run("init", "reg", "--storage", (tmp_path / "blobs").as_uri(), cwd=base)
    assert result.exit_code == 0, result.stderr
    assert (base / "reg" / "registry.yaml").is_file()
    assert list(elsewhere.iterdir()) == []
