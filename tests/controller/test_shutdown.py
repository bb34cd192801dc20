"""Stopping ``gitreg controller``: SIGTERM or SIGINT ends the process within a bound, whatever it is doing
(a reconcile asked for by a webhook, a fetch, a download, an HTTP request in flight)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from controller.helpers import Remote, Running, controller_argv, wait_for

SECRET = "shutdown-secret"  # noqa: S105 - a test's shared secret
BOUND = 30.0  # seconds a stop may take before the test calls it a hang (a guard, not a measurement)


def post_reconcile(url: str) -> int:
    body = b'{"ref": "refs/heads/main"}'
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/reconcile", body, {"X-Hub-Signature-256": signature})
        return connection.getresponse().status
    finally:
        connection.close()


def stopped_within_bound(running: Running, sig: signal.Signals = signal.SIGTERM) -> int:
    running.process.send_signal(sig)
    try:
        return running.process.wait(timeout=BOUND)
    except subprocess.TimeoutExpired:
        running.kill()
        raise AssertionError(
            f"the controller did not stop after {sig.name}: {''.join(running.lines)}"
        ) from None


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.05, 0.1, 0.3])
def test_sigterm_right_after_a_webhook_stops_the_controller(
    remote: Remote, target: Path, delay: float
) -> None:
    remote.register("fraud", seed=1, size=200_000)
    remote.register("fraud", seed=2, size=200_000)
    first = remote.stage({"fraud": 1})
    argv = controller_argv(remote, target, "--interval", "3600", "--listen", "127.0.0.1:0")
    running = Running([*argv, "--webhook-secret", SECRET])
    url = running.event("listening")["url"]
    running.event("reconciled", commit=first, result="applied")
    remote.stage({"fraud": 2})

    assert post_reconcile(url) == 202
    time.sleep(delay)
    code = stopped_within_bound(running)

    assert code == 0, "".join(running.lines)
    assert not [line for line in running.lines if "Traceback" in line], "".join(running.lines)
    assert json.loads(running.lines[-1])["event"] == "stopped"


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5])
def test_sigterm_during_the_first_reconcile_stops_the_controller(
    remote: Remote, target: Path, delay: float
) -> None:
    # The signal lands in git, in GitPython (which catches every Exception while opening a repository),
    # in the validator or in a download: the stop must get through all of them.
    remote.register("fraud", seed=1, size=200_000)
    remote.stage({"fraud": 1})
    argv = controller_argv(remote, target, "--interval", "3600", "--listen", "127.0.0.1:0")
    running = Running([*argv, "--webhook-secret", SECRET])
    running.event("listening")
    time.sleep(delay)
    assert stopped_within_bound(running) == 0, "".join(running.lines)
    assert running.events[-1]["event"] == "stopped"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finding child processes needs /proc")
def test_sigterm_ends_the_git_processes_in_flight(remote: Remote, target: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "remote-pid"
    hang = tmp_path / "hang.sh"
    hang.write_text(f"#!/bin/sh\necho $$ > {pid_file}.tmp\nmv {pid_file}.tmp {pid_file}\nexec sleep 120\n")
    hang.chmod(0o755)
    argv = controller_argv(remote, target, "--listen", "127.0.0.1:0")
    running = Running([*argv[:5], f"ext::{hang}", *argv[6:]], env={"GIT_ALLOW_PROTOCOL": "ext:file"})
    wait_for(pid_file.exists, "git to call the remote")
    helper = int(pid_file.read_text())
    assert alive(helper)

    assert stopped_within_bound(running) == 0, "".join(running.lines)
    # Nothing the controller started outlives it: not git, not the transport helper git started.
    assert not alive(helper)
    assert running.events[-1]["event"] == "stopped"
    assert running.events[-1]["ended_processes"] >= 1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finding child processes needs /proc")
def test_sigterm_ends_an_on_deploy_hook_in_flight(remote: Remote, target: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "hook-pid"
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    hook = f"sleep 120 & echo $! > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; wait"
    running = Running(controller_argv(remote, target, "--on-deploy", hook, "--hook-timeout", "600"))
    wait_for(pid_file.exists, "the hook to start")
    sleeper = int(pid_file.read_text())

    assert stopped_within_bound(running) == 0, "".join(running.lines)
    assert not alive(sleeper)


def test_a_second_signal_ends_the_process_at_once(remote: Remote, target: Path, tmp_path: Path) -> None:
    called = tmp_path / "remote-called"
    hang = tmp_path / "hang.sh"
    hang.write_text(f"#!/bin/sh\ntouch {called}\nexec sleep 120\n")
    hang.chmod(0o755)
    argv = controller_argv(remote, target)
    running = Running([*argv[:5], f"ext::{hang}", *argv[6:]], env={"GIT_ALLOW_PROTOCOL": "ext:file"})
    wait_for(called.exists, "git to call the remote")
    running.process.send_signal(signal.SIGINT)
    code = stopped_within_bound(running, signal.SIGINT)
    assert code in (0, -signal.SIGINT)
