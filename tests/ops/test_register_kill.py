"""A register killed at any instant (issue #9) leaves the checkout in the old state, the new one, or with
the new version written but not yet committed; never with the version staged for deletion, which the
user's next ``git commit`` would make real. Real processes, killed with SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testing import git, run, write_bytes

VERSION = "models/m/versions/2.yaml"


def start_register(registry: Path, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitreg", "-C", str(registry), "register", "m", str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen[bytes], registry: Path) -> None:
    """SIGKILL the register, then let a git command it had started finish: SIGKILL reaches gitreg, not its
    git child, which goes on (a commit writes the index, then moves HEAD) and drops its locks when done.
    Checking the state while that git still runs would see a step of it rather than what the crash left
    (seen under load): wait until no process works in the registry and no lock is left."""
    process.kill()
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while (_working_in(registry) or any((registry / ".git").rglob("*.lock"))) and time.monotonic() < deadline:
        time.sleep(0.01)


def _working_in(registry: Path) -> bool:
    """Whether a process other than this one has its working folder in ``registry`` (Linux's /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = (entry / "cwd").resolve(strict=True)
        except OSError:
            continue  # gone, or not ours to see
        if cwd == registry.resolve() or registry.resolve() in cwd.parents:
            return True
    return False


def check_state(registry: Path, old: str) -> str:
    """Assert the checkout is old, new, or new-but-uncommitted; return which."""
    status = git(registry, "status", "--porcelain", "--untracked-files=all")
    lines = [line for line in status.splitlines() if line]
    head = git(registry, "rev-parse", "HEAD").strip()
    if head == old:
        assert all(line[3:] == VERSION and line[:2] in ("??", "A ") for line in lines), status
        return "written" if lines else "old"
    assert git(registry, "rev-parse", "HEAD~1").strip() == old
    assert git(registry, "show", "--name-only", "--format=", "HEAD").split() == [VERSION]
    assert lines == [], status  # the index and the working tree have the new version
    return "new"


def back_to(registry: Path, old: str) -> None:
    git(registry, "reset", "--quiet", "--hard", old)
    git(registry, "clean", "--quiet", "-fd", "models")


@pytest.fixture
def setup(registry: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    source = write_bytes(tmp_path / "art" / "model.bin", 1000, 1)
    assert run("register", "m", source, cwd=registry).exit_code == 0
    return registry, source, git(registry, "rev-parse", "HEAD").strip()


def _kill_when_changed(registry: Path, path: Path, process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` the moment ``path`` (a file git rewrites) changes: a real ordering, no hook."""

    def identity() -> tuple[int, int] | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    before = identity()
    deadline = time.monotonic() + 60
    while identity() == before and process.poll() is None and time.monotonic() < deadline:
        pass
    kill(process, registry)


def test_killed_the_moment_the_branch_moves(setup: tuple[Path, Path, str]) -> None:
    registry, source, old = setup
    ref = registry / ".git" / "refs" / "heads" / "main"
    for _ in range(3):
        process = start_register(registry, source)
        _kill_when_changed(registry, ref, process)
        assert check_state(registry, old) in ("old", "written", "new")
        back_to(registry, old)


def test_killed_the_moment_the_index_changes(setup: tuple[Path, Path, str]) -> None:
    registry, source, old = setup
    index = registry / ".git" / "index"
    for _ in range(3):
        process = start_register(registry, source)
        _kill_when_changed(registry, index, process)
        assert check_state(registry, old) in ("old", "written", "new")
        back_to(registry, old)


def test_killed_at_many_instants(setup: tuple[Path, Path, str]) -> None:
    registry, source, old = setup
    started = time.monotonic()
    process = start_register(registry, source)
    process.wait(timeout=120)
    whole = time.monotonic() - started
    assert check_state(registry, old) == "new"
    back_to(registry, old)
    seen = set()
    steps = 24
    for i in range(steps):
        process = start_register(registry, source)
        time.sleep(whole * (0.4 + 0.8 * i / steps))
        kill(process, registry)
        seen.add(check_state(registry, old))
        back_to(registry, old)
    assert "old" in seen or "new" in seen
