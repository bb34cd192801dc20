"""The ``--on-deploy`` hook is judged by its exit status, not by its output closing, and one that outlives
``--hook-timeout`` is killed with every process it started. The controller runs as a real process, with a
subprocess timeout well below the hook timeout as the sign that it waited for the wrong thing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.helpers import Remote, controller_argv, live, status_of, wait_for


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not count)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] != "Z"


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Path]:
    """A file a hook writes the pids of its background children to; they are killed after the test."""
    pids = tmp_path / "children.pid"
    yield pids
    if pids.exists():
        for pid in pids.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def controller_once(
    remote: Remote, target: Path, *args: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    argv = controller_argv(remote, target, "--once", *args)
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)


def test_a_hook_that_leaves_a_server_running_has_succeeded(
    remote: Remote, target: Path, children: Path
) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    assert controller_once(remote, target, timeout=60).returncode == 0
    remote.stage({"fraud": 2})
    # the background process inherits the hook's stdout and stderr, and outlives it
    hook = f'sleep 300 & echo $! >> {children}; echo "reloading $GITREG_VERSION"; exit 0'

    done = controller_once(
        remote,
        target,
        "--on-deploy",
        hook,
        "--hook-timeout",
        "600",
        "--rollback-on-hook-failure",
        timeout=90,  # far below --hook-timeout: waiting for the pipes to close fails here
    )

    assert done.returncode == 0, done.stderr
    assert live(target, "fraud") == "2"
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["live"], fraud["state"], fraud["error"]) == (2, "synced", None)
    pid = int(children.read_text().split()[0])
    assert alive(pid)  # what the hook started in the background is the hook's business: it keeps running


def test_a_hook_that_hangs_is_killed_with_its_children(remote: Remote, target: Path, children: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    assert controller_once(remote, target, timeout=60).returncode == 0
    remote.stage({"fraud": 2})
    hook = f"sleep 300 & echo $! >> {children}; sh -c 'sleep 301' & echo $! >> {children}; wait"

    done = controller_once(
        remote,
        target,
        "--on-deploy",
        hook,
        "--hook-timeout",
        "2",
        "--rollback-on-hook-failure",
        timeout=90,
    )

    assert done.returncode == 3, done.stderr
    error = (
        "on-deploy hook did not finish within 2s (killed, with the processes it started); rolled back to 1"
    )
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["live"], fraud["state"], fraud["error"]) == (1, "failed", error)
    assert live(target, "fraud") == "1"
    pids = [int(p) for p in children.read_text().split()]
    assert len(pids) == 2
    wait_for(lambda: not any(alive(p) for p in pids), "the hook's children to be gone", timeout=20)
