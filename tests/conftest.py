"""Every test runs with its own git identity, config, data and cache folders: nothing from the machine or
the user leaks in, and nothing a test does leaks out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing import run


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    for name in (
        "GITREG_STORAGE_URL",
        "GITREG_STORAGE_OPTIONS",
        "GITREG_DEBUG",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def blobs(tmp_path: Path) -> Path:
    """The blob store folder the ``registry`` fixture uses."""
    return tmp_path / "blobs"


@pytest.fixture
def registry(tmp_path: Path, blobs: Path) -> Path:
    """A fresh registry made by ``gitreg init`` with its blob store in ``blobs``."""
    path = tmp_path / "registry"
    result = run("init", path, "--storage", blobs.as_uri())
    assert result.exit_code == 0, result.stderr
    return path
