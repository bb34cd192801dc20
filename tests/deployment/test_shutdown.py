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

from deployment.helpers import Remote, Running, controller_argv

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
