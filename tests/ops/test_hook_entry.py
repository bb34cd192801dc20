"""The plain git hook's process (``python -m gitreg hook pre-commit``) is answered by the entry point's quick
path without importing click, with the same findings, streams and exit code as the click command; and a
commit through the installed hook behaves as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testing import git, run, write_bytes

_CLICK = "import sys; from gitreg.cli import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"
_ENTRY = (
    "import atexit, sys; atexit.register(lambda: print('click' in sys.modules, file=sys.stderr)); "
    "from gitreg.entry import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"
)


def both(cwd: Path, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str], bool]:
    """(the entry point's result, click's result, whether the entry point loaded click)."""
    results = []
    for code in (_ENTRY, _CLICK):
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=cwd,
        )
        results.append((done.returncode, done.stdout, done.stderr))
    quick, slow = results
    *lines, probe = quick[2].splitlines(keepends=True)
    return (quick[0], quick[1], "".join(lines)), slow, probe.strip() == "True"


@pytest.fixture
def versions(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2, committed (register commits)."""
    for seed in (1, 2):
        art = write_bytes(tmp_path / f"m{seed}.bin", 300, seed)
        assert run("register", "fraud", art, "--metric", f"auc=0.{seed}", cwd=registry).exit_code == 0

    return registry


@pytest.mark.parametrize(
    ("staging", "code"),
    [("fraud: 2\n", 0), ("fraud: 9\n", 1), ("fraud: [\n", 1), ("\x1b[31mfraud: 2\n", 1)],
    ids=["promotion", "no-such-version", "broken-yaml", "escape-sequence"],
)
@pytest.mark.parametrize("args", [(), ("--all",), ("registry.yaml",)], ids=repr)
def test_the_hook_answers_as_click_without_it(
    versions: Path, staging: str, code: int, args: tuple[str, ...]
) -> None:
    (versions / "stages" / "staging.yaml").write_text(staging)
    git(versions, "add", "-A")
    quick, slow, loaded_click = both(versions, "hook", "pre-commit", *args)
    assert quick == slow
    assert quick[0] == code
    assert not loaded_click


def test_a_commit_through_the_installed_hook(versions: Path) -> None:
    assert run("install-hooks", cwd=versions).exit_code == 0
    (versions / "stages" / "staging.yaml").write_text("fraud: 9\n")
    git(versions, "add", "-A")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "bad"],
        cwd=versions,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert "fraud" in refused.stdout + refused.stderr
    (versions / "stages" / "staging.yaml").write_text("fraud: 2\n")
    git(versions, "add", "-A")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "good"],
        cwd=versions,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
