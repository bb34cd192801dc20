"""``/healthz``, ``/status`` and the metrics tell three states apart: ok; stuck on a refused commit (the
last good state is kept; restarting cannot help, so /healthz stays 200); stale (no successful poll for
--stale-after seconds: /healthz answers 503)."""

from __future__ import annotations

import json
from pathlib import Path

from controller.helpers import Remote, Running, controller_argv, live, wait_for
from controller.test_loop import http, metrics


def health(url: str) -> dict[str, float]:
    found = metrics(url)
    return {
        state: found[("gitreg_controller_health", (("state", state),))] for state in ("ok", "stuck", "stale")
    }


def test_healthz_tells_ok_stuck_and_stale_apart(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    first = remote.stage({"fraud": 1})
    argv = controller_argv(
        remote, target, "--interval", "0.1", "--stale-after", "2", "--listen", "127.0.0.1:0"
    )
    running = Running(argv)
    url = running.event("listening")["url"]
    running.event("reconciled", commit=first, result="applied")
    code, body = http(f"{url}/healthz")
    assert (code, json.loads(body)["status"]) == (200, "ok")
    assert health(url) == {"ok": 1, "stuck": 0, "stale": 0}

    refused = remote.stage({"fraud": 99})  # no such version: the validator refuses the commit
    running.event("invalid", commit=refused)
    wait_for(lambda: json.loads(http(f"{url}/healthz")[1])["status"] == "stuck", "the stuck state")
    code, body = http(f"{url}/healthz")
    assert code == 200
    assert json.loads(body)["reason"].startswith(
        f"commit {refused[:12]} was refused (keeping {first[:12]}): "
    )
    status = json.loads(http(f"{url}/status")[1])
    assert status["health"]["state"] == "stuck"
    assert status["health"]["stale_after_seconds"] == 2
    assert health(url) == {"ok": 0, "stuck": 1, "stale": 0}
    assert live(target, "fraud") == "1"

    away = remote.bare.with_name("away.git")
    remote.bare.rename(away)
    wait_for(lambda: http(f"{url}/healthz")[0] == 503, "/healthz to go stale")
    body = json.loads(http(f"{url}/healthz")[1])
    assert body["status"] == "stale"
    assert "the remote is unreachable" in body["reason"]
    assert json.loads(http(f"{url}/status")[1])["health"]["state"] == "stale"
    assert health(url) == {"ok": 0, "stuck": 0, "stale": 1}

    away.rename(remote.bare)
    fixed = remote.stage({"fraud": 1})
    running.event("reconciled", commit=fixed, result="applied")
    wait_for(lambda: http(f"{url}/healthz")[0] == 200, "/healthz to recover")
    assert health(url)["ok"] == 1
    assert running.stop() == 0
