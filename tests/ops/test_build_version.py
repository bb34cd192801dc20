"""Building a version apart from delivering it (``gitreg.ops.register.build_version``), what a library
caller can set that the CLI takes from git and the clock, and the one trailer builder every commit uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from gitreg import Registry
from gitreg.ops.copy import copy_version
from gitreg.ops.propose import trailers
from gitreg.ops.register import BuiltVersion, Registration, build_version, register
from testing import git, run, tree_state, write_bytes


def artifact(tmp_path: Path, seed: int = 0) -> Path:
    return write_bytes(tmp_path / "artifacts" / str(seed) / "model.bin", 300, seed)


def committed(registry: Path, path: str, rev: str = "HEAD") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(git(registry, "show", f"{rev}:{path}"))
    return data


def test_an_importer_keeps_the_original_creation(registry: Path, tmp_path: Path) -> None:
    when = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2)))
    version = register(
        Registry.open(registry),
        Registration("fraud", artifact(tmp_path)),
        created_at=when,
        created_by="Original Author <orig@example.com>",
    )
    assert (version.created_at, version.created_by) == (
        "2021-03-04T03:06:07Z",
        "Original Author <orig@example.com>",
    )
    data = committed(registry, "models/fraud/versions/1.yaml")
    assert (data["created_at"], data["created_by"]) == (
        "2021-03-04T03:06:07Z",
        "Original Author <orig@example.com>",
    )


def test_created_at_text_is_kept_as_given(registry: Path, tmp_path: Path) -> None:
    register(
        Registry.open(registry),
        Registration("fraud", artifact(tmp_path)),
        created_at="2019-12-31T23:59:59Z",
        created_by="importer",
    )
    data = committed(registry, "models/fraud/versions/1.yaml")
    assert (data["created_at"], data["created_by"]) == ("2019-12-31T23:59:59Z", "importer")


def test_without_them_the_clock_and_git_identity(registry: Path, tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    version = register(Registry.open(registry), Registration("fraud", artifact(tmp_path)))
    after = datetime.now(UTC)
    assert before <= datetime.fromisoformat(version.created_at) <= after
    assert version.created_by == "Test User <test@example.com>"


def test_building_writes_no_git(registry: Path, blobs: Path, tmp_path: Path) -> None:
    repo_before = tree_state(registry)
    head = git(registry, "rev-parse", "HEAD").strip()
    built = build_version(
        Registry.open(registry),
        Registration("fraud", artifact(tmp_path), owners=["@ml"]),
        head,
        created_at="2020-01-01T00:00:00Z",
        created_by="importer",
    )
    assert isinstance(built, BuiltVersion)
    assert tree_state(registry) == repo_before  # no commit, no ref, no index or working tree change
    assert sorted(built.files) == ["CODEOWNERS", "models/fraud/model.yaml", "models/fraud/versions/1.yaml"]
    manifest = yaml.safe_load(built.files["models/fraud/versions/1.yaml"])
    assert manifest == built.version.to_yaml_data()
    assert (manifest["created_at"], manifest["created_by"]) == ("2020-01-01T00:00:00Z", "importer")
    digest = built.version.artifact.digest.removeprefix("sha256:")
    assert (blobs / "sha256" / digest[:2] / digest[2:]).is_file()  # the artifact is stored


def test_one_trailer_builder() -> None:
    assert trailers("fraud", 3, stage="production", from_version="none", rollback="true") == {
        "Gitreg-Model": "fraud",
        "Gitreg-Version": "3",
        "Gitreg-Stage": "production",
        "Gitreg-From-Version": "none",
        "Gitreg-Rollback": "true",
    }


def test_copy_commits_through_the_proposal_path_with_the_same_message(registry: Path, tmp_path: Path) -> None:
    art = artifact(tmp_path)
    register(Registry.open(registry), Registration("fraud", art))
    dest = tmp_path / "company"
    assert run("init", dest, "--storage", (tmp_path / "company-blobs").as_uri()).exit_code == 0
    result = copy_version(Registry.open(registry), "fraud@1", str(dest))
    digest = committed(registry, "models/fraud/versions/1.yaml")["artifact"]["digest"]
    raw = git(dest, "cat-file", "commit", result.commit)
    assert raw.split("\n\n", 1)[1] == (
        "Copy fraud@1 as fraud@1\n\n"
        f"Gitreg-Model: fraud\nGitreg-Version: 1\nGitreg-Digest: {digest}\nGitreg-Copied-From: fraud@1\n"
    )
    assert git(dest, "rev-parse", "gitreg/copy/fraud-1").strip() == result.commit
