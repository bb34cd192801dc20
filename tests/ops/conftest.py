"""Fixtures of the hook tests: this checkout as a hooks repository for the real pre-commit framework, a
config naming its hooks, and one pre-commit store for the session (its hook environment built once)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from testing import git
from testing.checkout import commit_checkout


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout as it is on disk, committed to a fresh repository: what pre-commit clones, as it would
    clone gitreg at a tag."""
    return commit_checkout(tmp_path_factory.mktemp("gitreg-hooks-repo"))


@pytest.fixture(scope="session")
def hooks_config(hooks_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pre-commit config naming every hook of ``hooks_repo`` at its commit, as ``pre-commit try-repo``
    writes one; kept outside the registries, which have a .pre-commit-config.yaml of their own."""
    manifest = yaml.safe_load((hooks_repo / ".pre-commit-hooks.yaml").read_text())
    hooks = [{"id": hook_id} for hook_id in sorted(hook["id"] for hook in manifest)]
    rev = git(hooks_repo, "rev-parse", "HEAD").strip()
    config = tmp_path_factory.mktemp("pre-commit-config") / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [{"repo": str(hooks_repo), "rev": rev, "hooks": hooks}]}))
    return config


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store for the session: the hooks' environment (gitreg installed from ``hooks_repo``)
    is built by the first test that runs them, about ten seconds, and reused by the others."""
    return tmp_path_factory.mktemp("pre-commit-home")
