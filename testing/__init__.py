"""Helpers for gitreg's tests: an environment of their own, real git repositories in temp folders, the CLI
through click's runner, and snapshots of a tree so a test can assert that a failed command changed nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

from gitreg.cli import cli

if TYPE_CHECKING:  # benchmarks import testing.servers without pytest
    import pytest

#: Variables from the machine that would change what gitreg or git does; no test inherits them.
LEAKY_VARIABLES = (
    "GITREG_STORAGE_URL",
    "GITREG_STORAGE_OPTIONS",
    "GITREG_DEBUG",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Give git and gitreg a fresh ``home``: its own git identity and config, data and cache folders, and
    none of the machine's variables. Each test gets one (tests/conftest.py), and so does each scenario built
    once per session, so that nothing from the machine or the user leaks in and nothing leaks out."""
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
    for name in LEAKY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run(*args: str | os.PathLike[str], cwd: Path | None = None) -> Result:
    """Run ``gitreg ARGS`` in process (click's runner), from ``cwd`` (passed as -C)."""
    argv = [str(a) for a in args]
    if cwd is not None:
        argv = ["-C", str(cwd), *argv]
    result = CliRunner().invoke(cli, argv, prog_name="gitreg", catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def assert_error(result: Result, code: int, message: str) -> None:
    """The command failed the way the CLI must: exit ``code``, one line ``error: MESSAGE`` on stderr (no
    traceback), nothing on stdout."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""


def sha256(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of ``data``, computed independently of gitreg's own code."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The ``sha256:<hex>`` digest of the file at ``path``, read in chunks, independently of gitreg."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def git(cwd: Path, *args: str) -> str:
    """Run a real git command and return its stdout; raise if it fails."""
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout


def commit_all(repo: Path, message: str) -> None:
    """Stage everything in ``repo`` (new, changed, deleted) and commit it."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


def write_bytes(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` deterministic pseudo-random bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = []
    block = hashlib.sha256(str(seed).encode()).digest()
    remaining = size
    while remaining > 0:
        block = hashlib.sha256(block).digest()
        chunks.append(block[: min(32, remaining)])
        remaining -= 32
    path.write_bytes(b"".join(chunks))
    return path


def tree_state(root: Path) -> dict[str, str]:
    """{relative path: sha256 of content, or 'dir'/'link'} of everything below ``root`` (``.git`` included,
    except files git rewrites on reads), to compare before and after a command that must change nothing."""
    state: dict[str, str] = {}
    if not root.exists():
        return state
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.endswith(("/index.lock", "/FETCH_HEAD")) or "/logs/" in f"/{rel}":
            continue
        if path.is_symlink():
            state[rel] = "link:" + str(path.readlink())
        elif path.is_dir():
            state[rel] = "dir"
        else:
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


class Unchanged:
    """Snapshots of folders (a registry with its ``.git``, a blob store), to assert after a refused command
    that it changed nothing in any of them."""

    def __init__(self, *roots: Path) -> None:
        self.roots = roots
        self.before = [tree_state(root) for root in roots]

    def check(self) -> None:
        assert [tree_state(root) for root in self.roots] == self.before
