"""The catalog's fixtures: the demo registry (testing/catalog_demo.py) with a real controller's status file,
and its site, built once per session (per xdist worker) and only read by the tests; a test that changes a
registry copies it first."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from gitreg.catalog.site import build
from testing import isolate
from testing.catalog_demo import Demo, build_demo, deploy


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("catalog-home"))
        root = tmp_path_factory.mktemp("catalog-demo")
        made = build_demo(root)
        return dataclasses.replace(made, status=deploy(made, root / "target"))


@pytest.fixture(scope="session")
def site(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's catalog, with its controller's status ("Deployed now")."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("catalog-site-home"))
        assert demo.status is not None
        return build(
            demo.registry, tmp_path_factory.mktemp("catalog-site") / "site", status=[demo.status]
        ).path


@pytest.fixture
def demo_copy(demo: Demo, tmp_path: Path) -> Path:
    """A private copy of the demo registry (same blob store), which a test may change."""
    copy = tmp_path / "registry"
    shutil.copytree(demo.registry, copy, symlinks=True)
    return copy
