"""``gitreg catalog serve``: builds into a temporary folder, serves it on 127.0.0.1 until stopped, and
removes the folder when it stops."""

from __future__ import annotations

import re
import selectors
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from testing import assert_error, run

SERVING = r"serving the catalog of main at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)\n"


def test_serve_builds_serves_and_cleans_up(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "gitreg", "-C", str(demo_copy), "catalog", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        with selectors.DefaultSelector() as waiting:  # a build that hangs fails here instead of hanging
            waiting.register(server.stdout, selectors.EVENT_READ)
            assert waiting.select(timeout=120), "gitreg catalog serve printed nothing in 120 s"
        line = server.stdout.readline()
        match = re.fullmatch(SERVING, line)
        assert match, (line, server.stderr.read() if server.poll() is not None else "")  # type: ignore[union-attr]
        with urllib.request.urlopen(match.group(1), timeout=10) as response:  # noqa: S310 - a local URL
            assert "fraud-detector" in response.read().decode()
        with urllib.request.urlopen(match.group(1) + "models/churn/2/", timeout=10) as response:  # noqa: S310
            assert "Compared with v1" in response.read().decode()
        assert [p.name for p in (tmp_path / "tmp").iterdir()] != []  # the site, while it is served
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0, err
    assert err == ""
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary site is gone


def test_serve_on_a_port_in_use_is_a_clear_error(demo_copy: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("catalog", "serve", "--port", str(port), cwd=demo_copy)
    assert_error(
        result,
        3,
        f"cannot listen on 127.0.0.1:{port}: Address already in use "
        "(choose another --port (0: any free one))",
    )
