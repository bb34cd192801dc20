"""Hooks that see every invalid commit: a commit that only deletes or renames registry files is checked by
the pre-commit framework's hook as by the plain git hook; ``pre-commit run --all-files`` and ``gitreg hook
pre-commit --all`` judge the whole tree, not only what changed since HEAD; and the plain git hook and the
pre-commit hook give the same verdict on the same staged change."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from testing import git, run, write_bytes

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
IN_USE = "stages/staging.yaml:1:1: stage-entry: fraud@1 does not exist"
GONE = "stages/staging.yaml:1:1: stage-entry: model 'fraud' is not in the registry"
MISMATCH = "models/fraud/model.yaml:3:1: path-mismatch: name is 'froud' but the folder is models/fraud/"


@pytest.fixture
def in_staging(registry: Path, tmp_path: Path) -> Path:
    """A registry with fraud@1 registered and in staging, committed."""
    art = write_bytes(tmp_path / "model.onnx", 300)
    result = run("register", "fraud", art, "--owner", "@risk-ml", cwd=registry)
    assert result.exit_code == 0, result.stderr
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    git(registry, "add", "--all")
    git(registry, "commit", "--quiet", "--no-verify", "-m", "fraud@1 to staging")
    assert run("validate", cwd=registry).exit_code == 0
    return registry


def pre_commit(registry: Path, config: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit run --config CONFIG gitreg-validate ARGS`` with the session's hook store."""
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--config", str(config), "gitreg-validate", *args],
        check=False,
        cwd=registry,
        env=dict(os.environ, PRE_COMMIT_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=300,
    )


def plain_hook(registry: Path) -> subprocess.CompletedProcess[str]:
    """The hook ``gitreg install-hooks`` installs, run as git runs it before a commit."""
    assert run("install-hooks", "--force", cwd=registry).exit_code == 0
    return subprocess.run(
        [str(registry / ".git" / "hooks" / "pre-commit")],
        check=False,
        cwd=registry,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def delete_version(registry: Path) -> None:
    git(registry, "rm", "--quiet", "models/fraud/versions/1.yaml")


def rename_version_out(registry: Path) -> None:
    git(registry, "mv", "models/fraud/versions/1.yaml", "fraud-1.yaml")


def rename_model_folder_out(registry: Path) -> None:
    git(registry, "mv", "models/fraud", "old-models")


def rename_model(registry: Path) -> None:
    path = registry / "models" / "fraud" / "model.yaml"
    path.write_text(re.sub(r"(?m)^name: .*$", "name: froud", path.read_text()))
    git(registry, "add", "--all")


def describe_model(registry: Path) -> None:
    path = registry / "models" / "fraud" / "model.yaml"
    path.write_text(path.read_text().replace("description: ''", "description: Fraud scoring"))
    git(registry, "add", "--all")


def unrelated_file(registry: Path) -> None:
    (registry / "notes.txt").write_text("meeting notes\n")
    git(registry, "add", "--all")


# (staged change, the finding it must give, or None when it is a good change)
CHANGES: dict[str, tuple[Callable[[Path], None], str | None]] = {
    "delete a version in use": (delete_version, IN_USE),
    "rename a version out of the registry": (rename_version_out, IN_USE),
    "rename a model folder out of the registry": (rename_model_folder_out, GONE),
    "a bad edit": (rename_model, MISMATCH),
    "a good edit": (describe_model, None),
    "a file outside the registry": (unrelated_file, None),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_pre_commit_framework_and_the_plain_hook_agree(
    in_staging: Path, hooks_config: Path, pre_commit_home: Path, change: str
) -> None:
    stage_change, finding = CHANGES[change]
    stage_change(in_staging)
    framework = pre_commit(in_staging, hooks_config, pre_commit_home)
    plain = plain_hook(in_staging)
    output = framework.stdout + framework.stderr
    if finding is None:
        assert framework.returncode == 0, output
        assert re.search(r"gitreg validate\.+Passed", output), output
        assert plain.returncode == 0, plain.stderr
    else:
        assert framework.returncode == 1, output
        assert re.search(r"gitreg validate\.+Failed", output), output
        assert f"{finding}\n" in output
        assert plain.returncode == 1, plain.stdout
        assert f"{finding}\n" in plain.stderr


def test_a_deletion_only_commit_is_blocked_by_the_framework(
    in_staging: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    """Through a real ``git commit`` with the framework's hook installed, as a user commits."""
    head = git(in_staging, "rev-parse", "HEAD")
    subprocess.run(
        [str(PRE_COMMIT), "install", "--config", str(hooks_config)],
        check=True,
        cwd=in_staging,
        env=dict(os.environ, PRE_COMMIT_HOME=str(pre_commit_home)),
        capture_output=True,
        timeout=120,
    )
    # the installed hook names the config it was installed with
    delete_version(in_staging)
    commit = subprocess.run(
        ["git", "commit", "--quiet", "-m", "Drop fraud@1"],
        check=False,
        cwd=in_staging,
        env=dict(os.environ, PRE_COMMIT_HOME=str(pre_commit_home)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert commit.returncode != 0, commit.stdout + commit.stderr
    assert f"{IN_USE}\n" in commit.stdout + commit.stderr
    assert git(in_staging, "rev-parse", "HEAD") == head


def commit_bad_head(registry: Path) -> None:
    """A HEAD that ``gitreg validate`` rejects, committed past the hooks (``--no-verify``)."""
    rename_model(registry)
    git(registry, "commit", "--quiet", "--no-verify", "-m", "Rename the model")
    assert run("validate", cwd=registry).exit_code == 1


def test_all_files_judges_the_whole_tree(in_staging: Path, hooks_config: Path, pre_commit_home: Path) -> None:
    commit_bad_head(in_staging)
    changed_only = pre_commit(in_staging, hooks_config, pre_commit_home)
    assert changed_only.returncode == 0, changed_only.stdout  # HEAD passed the hook: nothing new to judge
    every_file = pre_commit(in_staging, hooks_config, pre_commit_home, "--all-files")
    output = every_file.stdout + every_file.stderr
    assert every_file.returncode == 1, output
    assert re.search(r"gitreg validate\.+Failed", output), output
    assert f"{MISMATCH}\n" in output
    assert output.count(MISMATCH) == 1


def test_hook_pre_commit_all_judges_the_whole_index(in_staging: Path) -> None:
    commit_bad_head(in_staging)
    changed = run("hook", "pre-commit", cwd=in_staging)
    assert (changed.exit_code, changed.stdout, changed.stderr) == (
        0,
        "ok: 0 files checked, no problems\n",
        "",
    )
    everything = run("hook", "pre-commit", "--all", cwd=in_staging)
    full = run("validate", cwd=in_staging)
    assert everything.exit_code == full.exit_code == 1
    assert everything.stderr == full.stdout
    named = run("hook", "pre-commit", "models/fraud/model.yaml", cwd=in_staging)
    assert (named.exit_code, named.stderr) == (1, f"{MISMATCH}\n1 error, 0 warnings (1 file checked)\n")


def test_the_hook_process_loads_neither_gitpython_nor_storage(in_staging: Path) -> None:
    """The hook runs on every commit: it reads git through plain git calls, and never the blob store."""
    delete_version(in_staging)
    probe = (
        "import atexit, sys\n"
        "heavy = ('git', 'gitdb', 'gitreg.gitrepo', 'gitreg.registry', 'gitreg.storage')\n"
        "atexit.register(lambda: print('loaded:', [m for m in heavy if m in sys.modules]))\n"
        "sys.argv = ['gitreg', 'hook', 'pre-commit']\n"
        "from gitreg.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=in_staging,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "loaded: []\n",
        f"{IN_USE}\n1 error, 0 warnings (0 files checked)\n",
    )
