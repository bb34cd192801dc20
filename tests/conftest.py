"""Every test runs with its own git identity, config, data and cache folders: nothing from the machine or
the user leaks in, and nothing a test does leaks out. The costly scenarios (a team on a forge, a history of
promotions landed on it) are built once per session, in an environment of their own, and each test gets a
private copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing import isolate, run
from testing.forge_server import Team
from testing.mlflow_server import MlflowServer, start_mlflow
from testing.scenarios import History, build_history, build_team, copy_team


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))
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


# --- scenarios built once per session -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """``make_team``'s registry on a forge with Alice's and Bob's clones: never used directly, only copied."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("team-home"))
        return build_team(tmp_path_factory.mktemp("team-template"))


@pytest.fixture(scope="session")
def history_template(tmp_path_factory: pytest.TempPathFactory, team_template: Team) -> History:
    """``team_template`` with ``land_history``'s stage changes landed: never used directly, only copied."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("history-home"))
        return build_history(team_template, tmp_path_factory.mktemp("history-template"))


@pytest.fixture
def team(team_template: Team, tmp_path: Path) -> Team:
    """A private copy of ``team_template`` in ``tmp_path`` (Alice's clone is ``tmp_path / "registry"``, its
    blob store ``tmp_path / "blobs"``): a test may change anything in it."""
    return copy_team(team_template, tmp_path)


@pytest.fixture
def landed(team: Team, history_template: History) -> dict[str, str]:
    """``land_history(team)``, copied from ``history_template`` in place of ``team``'s folders; the commits
    it landed, by name."""
    copy_team(history_template.team, team.work)
    return dict(history_template.commits)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` (SQLite backend, local artifacts served by it), one per worker; each test
    imports models of its own."""
    started = start_mlflow(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield started
    finally:
        started.stop()
