"""README.md's "Python API" example, run as written against a real registry: a clone of a bare repository
over file://, with its blob store in a temp folder."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from gitreg import Registry
from testing import git, run

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    section = text[text.index("### Python API: register, promote, search, diff") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the Python API section has no python block"
    return match.group(1)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """``registry``: a clone of a bare repository (over file://) made by ``gitreg init``."""
    made = tmp_path / "made"
    assert run("init", made, "--storage", (tmp_path / "blobs").as_uri()).exit_code == 0
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(made), str(remote))
    git(tmp_path, "clone", "--quiet", remote.as_uri(), "registry")
    return tmp_path / "registry"


def test_the_readme_python_api_example_runs(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), str(README), "exec"), {"__name__": "readme"})  # noqa: S102
    assert out.getvalue().splitlines() == [
        "fraud-detector@1 []",
        "fraud-detector@2 []",
        "gitreg/promote/fraud-detector-2-staging ('stages/staging.yaml',)",
        "['fraud-detector@2', 'fraud-detector@1']",
        "metrics.auc 0.91 -> 0.94 0.03",
        "params.max_depth 6 -> 8 2",
    ]
    # what it says it did: both versions on origin's main, the proposal's branch pushed, the clone on main
    remote = tmp_path / "remote.git"
    assert git(remote, "ls-tree", "--name-only", "main", "models/fraud-detector/versions/").split() == [
        "models/fraud-detector/versions/1.yaml",
        "models/fraud-detector/versions/2.yaml",
    ]
    branch = "gitreg/promote/fraud-detector-2-staging"
    assert git(remote, "show", f"{branch}:stages/staging.yaml") == "fraud-detector: 2\n"
    assert git(clone, "branch", "--show-current") == "main\n"
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""
    v2 = Registry.open(clone).resolve("fraud-detector@2")
    assert v2.lineage.data[0].digest == "sha256:" + "ab" * 32
    assert v2.lineage.run is not None and v2.lineage.run.url == "https://mlflow.example.com/runs/run-8"
