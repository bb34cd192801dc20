"""Releasing gitreg: one distribution name that is ours on the package index, one version number, a
CHANGELOG entry and a ``v<version>`` tag for it, and the documented procedure (``scripts/release``) run up
to the publish step: build the sdist and wheel, ``twine check`` them, install the wheel in a fresh virtual
environment, and run ``gitreg init`` and ``register`` from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from gitreg import __version__
from gitreg.distribution import DISTRIBUTION, REPOSITORY, install_hint, requirement
from testing import git
from testing.checkout import CHECKOUT, IDENTITY, commit_checkout

PYPROJECT = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())


def release(*args: str, cwd: Path = CHECKOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(cwd / "scripts" / "release"), *args],
        cwd=cwd,
        env=dict(os.environ, PYTHON=sys.executable),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_the_distribution_has_a_name_of_its_own_and_one_version() -> None:
    project = PYPROJECT["project"]
    # the package index holds an unrelated `gitreg` (0.0.1): users install this one by another name
    assert project["name"] == DISTRIBUTION == "gitreg-registry"
    assert project["scripts"] == {"gitreg": "gitreg.console:main"}  # the quick path, then gitreg.cli
    assert project["urls"]["Repository"] == REPOSITORY
    # the version is gitreg.__version__, read by the build: no second copy in pyproject.toml
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"] == {"path": "gitreg/__init__.py"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    # the test extra installs the project's own extras by the new name
    assert f"{DISTRIBUTION}[s3,gcs,azure]" in project["optional-dependencies"]["test"]


def test_install_hints_name_the_distribution() -> None:
    assert requirement() == f"gitreg-registry=={__version__}"
    assert requirement("s3") == f"gitreg-registry[s3]=={__version__}"
    assert install_hint("gcs") == "pip install 'gitreg-registry[gcs]'"


def test_the_changelog_has_an_entry_for_this_version() -> None:
    changelog = (CHECKOUT / "CHANGELOG.md").read_text()
    headings = re.findall(r"(?m)^## \[(\d+\.\d+\.\d+)\] - (\S+)", changelog)
    assert headings, changelog
    assert headings[0][0] == __version__  # the newest entry is the version being built


def test_every_release_tag_matches_the_version_it_tags() -> None:
    """A ``vX.Y.Z`` tag in this repository names a commit whose ``__version__`` is X.Y.Z (none yet is
    fine: the first release is tagged by ``scripts/release tag``)."""
    for tag in git(CHECKOUT, "tag", "--list", "v*").split():
        source = git(CHECKOUT, "show", f"{tag}:gitreg/__init__.py")
        assert f'__version__ = "{tag.removeprefix("v")}"' in source, tag


def test_release_tag_refuses_an_undated_changelog_then_tags_the_version(tmp_path: Path) -> None:
    repo = commit_checkout(tmp_path / "gitreg")
    changelog = repo / "CHANGELOG.md"
    undated = re.sub(r"(?m)^## \[([\d.]+)\] - .*$", r"## [\1] - Unreleased", changelog.read_text(), count=1)
    changelog.write_text(undated)
    git(repo, "add", "CHANGELOG.md")
    git(repo, *IDENTITY, "commit", "--quiet", "--allow-empty", "--message", "undated")
    refused = release("tag", cwd=repo)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr == (
        f"error: CHANGELOG.md has no dated entry for {__version__} "
        f"(write '## [{__version__}] - YYYY-MM-DD' first)\n"
    )
    assert git(repo, "tag", "--list") == ""

    changelog.write_text(
        undated.replace(f"## [{__version__}] - Unreleased", f"## [{__version__}] - 2026-12-01")
    )
    dirty = release("tag", cwd=repo)
    assert dirty.returncode == 1
    assert dirty.stderr == "error: the working tree has uncommitted changes (commit them first)\n"

    git(repo, "add", "CHANGELOG.md")
    git(repo, *IDENTITY, "commit", "--quiet", "--message", "Release")
    tagged = release("tag", cwd=repo)
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
    assert git(repo, "tag", "--list") == f"v{__version__}\n"
    assert git(repo, "rev-parse", f"v{__version__}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    again = release("tag", cwd=repo)
    assert again.returncode == 1
    assert again.stderr == f"error: tag v{__version__} already exists\n"


def test_release_check_builds_checks_and_installs_the_wheel(tmp_path: Path) -> None:
    """The procedure up to publishing: build, ``twine check``, a fresh venv with the wheel from the built
    files (its dependencies from the package index), and ``gitreg init`` + ``register`` run from it."""
    work = tmp_path / "release"
    result = release("check", str(work))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    dist = sorted(p.name for p in (work / "dist").iterdir())
    assert dist == [
        f"gitreg_registry-{__version__}-py3-none-any.whl",
        f"gitreg_registry-{__version__}.tar.gz",
    ]
    checked = result.stdout.replace("\n", "")  # twine wraps long paths
    for name in dist:
        assert f"{work / 'dist' / name}: PASSED" in checked, output

    with tarfile.open(work / "dist" / dist[1]) as sdist:
        top = {name.split("/")[1] for name in sdist.getnames() if "/" in name}
    assert top == {
        *("gitreg", "registry-template", "hooks", "testing", "tests", "scripts", "benchmarks"),
        *("README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"),
        *(".pre-commit-hooks.yaml", ".pre-commit-config.yaml", ".gitignore"),  # hatch adds .gitignore
        "deploy",  # deploy/kserve/, which tests/test_kserve_deploy.py checks
    }
    with zipfile.ZipFile(work / "dist" / dist[0]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"gitreg_registry-{__version__}.dist-info/METADATA").decode()
    assert "gitreg/_data/registry-template/.pre-commit-config.yaml.j2" in names
    assert "gitreg/_data/hooks/pre-commit" in names
    assert "gitreg/py.typed" in names  # PEP 561: type checkers read gitreg's own annotations
    assert {"gitreg/catalog/templates/home.html.j2", "gitreg/catalog/static/catalog.js"} <= names  # issue 14
    assert f"Name: gitreg-registry\nVersion: {__version__}\n" in metadata

    venv = work / "venv"
    installed = subprocess.run(
        [str(venv / "bin" / "gitreg"), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert installed.stdout == f"gitreg, version {__version__}\n"
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gitreg; print(gitreg.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(venv)), where.stdout
    smoke = work / "smoke" / "registry"
    assert (smoke / "models" / "fraud" / "versions" / "1.yaml").is_file()
    assert f"gitreg-registry=={__version__}" in (smoke / ".gitlab-ci.yml").read_text()
    assert git(smoke, "log", "--format=%s").splitlines()[0].startswith("Register fraud@1")


@pytest.mark.parametrize("command", ["", "publish-now", "check extra args", "publish"])
def test_release_usage(command: str) -> None:
    result = release(*command.split())
    assert result.returncode == 2
    assert result.stderr == "usage: scripts/release check [DIR] | tag | publish DIR\n"
