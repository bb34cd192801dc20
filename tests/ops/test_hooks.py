"""Hooks on real repositories: ``gitreg hook pre-commit`` judges the index, ``gitreg install-hooks`` installs
a plain git hook that blocks real commits, ``gitreg hook no-large-files``, and this repository's
``.pre-commit-hooks.yaml`` run by the real pre-commit framework (``pre-commit run``)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from testing import git, run, write_bytes

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
MISMATCH = "models/fraud/model.yaml:3:1: path-mismatch: name is 'froud' but the folder is models/fraud/"
LARGE = "model files belong in the blob store (gitreg register), not in the registry repository"


@pytest.fixture
def owned(registry: Path, tmp_path: Path) -> Path:
    """A registry with fraud@1 (owned) registered and committed."""
    art = write_bytes(tmp_path / "model.onnx", 300)
    result = run("register", "fraud", art, "--owner", "@risk-ml", cwd=registry)
    assert result.exit_code == 0, result.stderr
    return registry


def rename_model(registry: Path, name: str) -> None:
    path = registry / "models" / "fraud" / "model.yaml"
    path.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", path.read_text()))


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def staged_files(repo: Path) -> int:
    """How many files the hook checks: those staged differently from HEAD (HEAD passed the hook)."""
    return len(git(repo, "diff", "--cached", "--name-only").splitlines())


def git_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A real ``git commit``, hooks and all, with the test's environment."""
    return subprocess.run(
        ["git", "commit", "--quiet", *args],
        check=False,
        cwd=repo,
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )


def pre_commit_run(
    registry: Path, config: Path, home: Path, hook: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """``pre-commit run --config CONFIG [HOOK] ARGS`` in ``registry`` (every hook when ``hook`` is None),
    with the session's store ``home``: what ``pre-commit try-repo`` runs, without rebuilding the hooks'
    environment in a store of its own for each call."""
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--config", str(config), *([hook] if hook else []), *args],
        check=False,
        cwd=registry,
        env=dict(os.environ, PRE_COMMIT_HOME=str(home)),
        capture_output=True,
        text=True,
    )


# --- gitreg hook pre-commit -----------------------------------------------------------------------------


def test_pre_commit_hook_validates_the_index_not_the_working_tree(owned: Path) -> None:
    rename_model(owned, "froud")
    git(owned, "add", "models/fraud/model.yaml")
    rename_model(owned, "fraud")  # fixed in the working tree, but the fix is not staged
    (owned / "models" / "fraud" / "scratch.txt").write_text("untracked\n")
    files = staged_files(owned)
    staged_bad = run("hook", "pre-commit", cwd=owned)
    assert (staged_bad.exit_code, staged_bad.stdout, staged_bad.stderr) == (
        1,
        "",
        f"{MISMATCH}\n1 error, 0 warnings ({_files(files)} checked)\n",
    )

    git(owned, "add", "models/fraud/model.yaml")  # the fix staged ...
    rename_model(owned, "froud")  # ... and the working tree broken again, unstaged
    staged_good = run("hook", "pre-commit", cwd=owned)
    assert (staged_good.exit_code, staged_good.stdout, staged_good.stderr) == (
        0,
        f"ok: {_files(staged_files(owned))} checked, no problems\n",
        "",
    )


# --- gitreg install-hooks -------------------------------------------------------------------------------


def test_install_hooks_pins_this_python_and_keeps_foreign_hooks(owned: Path) -> None:
    hook = owned / ".git" / "hooks" / "pre-commit"
    result = run("install-hooks", cwd=owned)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"installed {hook}\n", "")
    text = hook.read_text()
    assert f'GITREG_PYTHON="${{GITREG_PYTHON:-{sys.executable}}}"\n' in text
    assert text.rstrip().endswith('exec "$GITREG_PYTHON" -m gitreg hook pre-commit')
    assert hook.stat().st_mode & stat.S_IXUSR
    assert run("install-hooks", cwd=owned).exit_code == 0  # installing again is harmless

    foreign = "#!/bin/sh\nexec make lint\n"
    hook.write_text(foreign)
    refused = run("install-hooks", cwd=owned)
    assert (refused.exit_code, refused.stdout, refused.stderr) == (
        3,
        "",
        f"error: {hook} exists and is not gitreg's (pass --force to replace it)\n",
    )
    assert hook.read_text() == foreign
    forced = run("install-hooks", "--force", cwd=owned)
    assert (forced.exit_code, forced.stdout) == (0, f"installed {hook}\n")
    assert hook.read_text() == text


def test_installed_hook_blocks_a_bad_commit_and_passes_a_good_one(owned: Path) -> None:
    assert run("install-hooks", cwd=owned).exit_code == 0
    head = git(owned, "rev-parse", "HEAD")

    rename_model(owned, "froud")
    git(owned, "add", "--all")
    blocked = git_commit(owned, "-m", "Rename the model")
    assert blocked.returncode != 0
    assert f"{MISMATCH}\n" in blocked.stderr
    assert git(owned, "rev-parse", "HEAD") == head
    blocked_all = git_commit(owned, "--all", "-m", "Rename the model")  # git's own temporary index
    assert blocked_all.returncode != 0
    assert MISMATCH in blocked_all.stderr
    assert git(owned, "rev-parse", "HEAD") == head

    rename_model(owned, "fraud")
    path = owned / "models" / "fraud" / "model.yaml"
    path.write_text(
        path.read_text().replace("description: ''", "description: Card-not-present fraud scoring")
    )
    passed = git_commit(owned, "--all", "-m", "Describe the model")
    assert passed.returncode == 0, passed.stderr
    assert git(owned, "rev-parse", "HEAD") != head
    assert git(owned, "status", "--porcelain") == ""


# --- gitreg hook no-large-files -------------------------------------------------------------------------


def test_no_large_files_hook(owned: Path) -> None:
    mib = 1024 * 1024
    write_bytes(owned / "weights.bin", 2 * mib)
    write_bytes(owned / "notes.txt", 1024)
    flagged = run("hook", "no-large-files", "weights.bin", "notes.txt", cwd=owned)
    assert (flagged.exit_code, flagged.stdout) == (
        1,
        f"weights.bin:0:0: large-file: file is {2 * mib} bytes, over the {mib}-byte limit: {LARGE}\n"
        "1 error, 0 warnings (2 files checked)\n",
    )
    small = run("hook", "no-large-files", "notes.txt", "models/fraud/model.yaml", cwd=owned)
    assert (small.exit_code, small.stdout) == (0, "")

    config = owned / "registry.yaml"
    config.write_text(config.read_text() + "rules:\n  max_file_size: 1000\n")
    tight = run("hook", "no-large-files", "notes.txt", cwd=owned)
    assert (tight.exit_code, tight.stdout) == (
        1,
        f"notes.txt:0:0: large-file: file is 1024 bytes, over the 1000-byte limit: {LARGE}\n"
        "1 error, 0 warnings (1 file checked)\n",
    )


# --- the pre-commit framework ---------------------------------------------------------------------------


def test_pre_commit_framework_blocks_a_bad_manifest_and_a_large_file(
    owned: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    rename_model(owned, "froud")
    write_bytes(owned / "weights.bin", 2 * 1024 * 1024)
    write_bytes(owned / "notes.txt", 1024)
    git(owned, "add", "--all")
    result = pre_commit_run(owned, hooks_config, pre_commit_home, None, "--all-files")  # every hook
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"gitreg validate\.+Failed", output), output
    assert re.search(r"gitreg no large files\.+Failed", output), output
    assert f"{MISMATCH}\n" in output
    large = f"weights.bin:0:0: large-file: file is 2097152 bytes, over the 1048576-byte limit: {LARGE}\n"
    assert output.count(large) == 2  # from both hooks
    assert "notes.txt:" not in output


def test_pre_commit_framework_passes_a_good_registry(
    owned: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    write_bytes(owned / "notes.txt", 1024)
    git(owned, "add", "--all")
    result = pre_commit_run(owned, hooks_config, pre_commit_home, None, "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"gitreg validate\.+Passed", output), output
    assert re.search(r"gitreg no large files\.+Passed", output), output


def test_pre_commit_framework_judges_what_is_committed(
    owned: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    """An untracked scratch file is not part of the commit, so it must not block it (as with the plain git
    hook, which judges the index)."""
    (owned / "models" / "fraud" / "eval-notes.md").write_text("AUC looked fine\n")
    path = owned / "models" / "fraud" / "model.yaml"
    path.write_text(
        path.read_text().replace("description: ''", "description: Card-not-present fraud scoring")
    )
    git(owned, "add", "models/fraud/model.yaml")
    assert run("hook", "pre-commit", cwd=owned).exit_code == 0
    result = pre_commit_run(owned, hooks_config, pre_commit_home, "gitreg-validate")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"gitreg validate\.+Passed", output), output
