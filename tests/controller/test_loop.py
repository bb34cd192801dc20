"""``gitreg controller`` as a long-running process: its loop, its HTTP endpoints, its webhook, its log,
and how it stops."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from controller.helpers import Remote, Running, controller_argv, live, status_of, wait_for


def http(
    url: str, method: str = "GET", body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 - the test's own local server
        url, data=body if method == "POST" else None, method=method
    )
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a local test server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def metrics(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    code, body = http(f"{url}/metrics")
    assert code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_http_endpoints_and_a_signed_webhook(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    first = remote.stage({"fraud": 1})
    secret = "it's a secret"  # noqa: S105 - a test's shared secret
    argv = controller_argv(remote, target, "--interval", "3600", "--listen", "127.0.0.1:0")
    running = Running([*argv, "--webhook-secret", secret])
    url = running.event("listening")["url"]
    running.event("reconciled", commit=first, result="applied")

    code, body = http(f"{url}/healthz")
    assert (code, json.loads(body)["status"]) == (200, "ok")
    code, body = http(f"{url}/status")
    status = json.loads(body)
    assert (code, status["applied"]["commit"], status["models"]["fraud"]["live"]) == (200, first, 1)
    assert status["last_poll"] is not None
    found = metrics(url)
    assert found[("gitreg_controller_reconciles_total", (("result", "applied"),))] == 1
    assert found[("gitreg_controller_git_requests_total", (("kind", "ls-remote"),))] == 1
    assert found[("gitreg_controller_git_requests_total", (("kind", "fetch"),))] == 1
    assert found[("gitreg_controller_git_request_failures_total", (("kind", "fetch"),))] == 0
    assert found[("gitreg_controller_downloaded_bytes_total", ())] == 1000
    assert found[("gitreg_controller_reconcile_duration_seconds_count", ())] == 1
    info = (("model", "fraud"), ("state", "synced"), ("version", "1"), ("wanted", "1"))
    assert found[("gitreg_controller_model_info", info)] == 1
    assert found[("gitreg_controller_model_synced", (("model", "fraud"),))] == 1
    assert found[("gitreg_controller_seconds_since_last_apply", ())] >= 0
    assert http(f"{url}/nothing")[0] == 404
    assert http(f"{url}/reconcile")[0] == 405

    second = remote.stage({"fraud": 2})
    body = json.dumps({"ref": "refs/heads/main", "after": second}).encode()
    code, answer = http(f"{url}/reconcile", "POST", body)
    assert (code, json.loads(answer)) == (
        401,
        {"error": "missing X-Hub-Signature-256 header (the webhook must be signed with the shared secret)"},
    )
    code, answer = http(f"{url}/reconcile", "POST", body, {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (code, json.loads(answer)) == (
        401,
        {"error": "X-Hub-Signature-256 does not match the body signed with the webhook secret"},
    )
    assert live(target, "fraud") == "1"  # refused requests reconcile nothing (the interval is an hour)

    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    code, answer = http(f"{url}/reconcile", "POST", body, {"X-Hub-Signature-256": signature})
    assert (code, json.loads(answer)) == (202, {"status": "queued"})
    running.event("reconciled", commit=second, result="applied")
    assert live(target, "fraud") == "2"
    assert http(f"{url}/reconcile", "POST", b"{}", {"X-Gitlab-Token": secret})[0] == 202
    running.event("reconcile-requested")

    assert running.stop() == 0
    assert running.events[-1]["event"] == "stopped"
    assert running.events[-1]["signal"] == "SIGTERM"
    refused = [e for e in running.events if e["event"] == "webhook-refused"]
    assert [e["error"] for e in refused] == [
        "missing X-Hub-Signature-256 header (the webhook must be signed with the shared secret)",
        "X-Hub-Signature-256 does not match the body signed with the webhook secret",
    ]


def test_the_loop_follows_promotions_and_rides_out_an_unreachable_remote(
    remote: Remote, target: Path
) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.register("churn", seed=3)
    first = remote.stage({"fraud": 1})
    running = Running(controller_argv(remote, target, "--interval", "0.1"))
    running.event("reconciled", commit=first)

    away = remote.bare.with_name("away.git")
    remote.bare.rename(away)
    event = running.event("remote-unreachable")
    assert (
        event["error"]
        == f"git ls-remote failed: fatal: '{remote.bare}' does not appear to be a git repository"
    )
    assert event["level"] == "error"
    wait_for(lambda: status_of(target)["remote_error"] is not None, "the status to report the remote")
    away.rename(remote.bare)
    running.event("remote-reachable")

    second = remote.stage({"fraud": 2, "churn": 1})
    event = running.event("reconciled", commit=second)
    assert event["changes"] == ["churn none -> 1", "fraud 1 -> 2"]
    assert (live(target, "fraud"), live(target, "churn")) == ("2", "1")
    assert running.stop() == 0
    names = [e["event"] for e in running.events]
    assert names.count("remote-unreachable") == 1  # reported when it starts, not at every poll
    assert set(names) <= {
        "observed",
        "deploy",
        "downloaded",
        "switched",
        "reconciled",
        "remote-unreachable",
        "remote-reachable",
        "stopped",
    }
    switched = next(e for e in running.events if e["event"] == "switched" and e["version"] == 2)
    assert switched == {
        "time": switched["time"],
        "level": "info",
        "event": "switched",
        "model": "fraud",
        "version": 2,
        "previous": 1,
        "path": str(target / "fraud" / "2" / "model.bin"),
    }


def test_sigterm_while_the_remote_hangs_stops_at_once(remote: Remote, target: Path, tmp_path: Path) -> None:
    called = tmp_path / "remote-called"
    hang = tmp_path / "hang.sh"
    hang.write_text(f"#!/bin/sh\ntouch {called}\nexec sleep 120\n")
    hang.chmod(0o755)
    running = Running(
        [*controller_argv(remote, target)[:5], f"ext::{hang}", *controller_argv(remote, target)[6:]],
        env={"GIT_ALLOW_PROTOCOL": "ext:file"},
    )
    wait_for(called.exists, "git to call the remote")

    assert running.stop() == 0  # not after the git timeout: the interrupted command's watchdog is cancelled
    assert [e["event"] for e in running.events] == ["stopped"]
    assert not target.joinpath(".gitreg", "status.json").exists()
