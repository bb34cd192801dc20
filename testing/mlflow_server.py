"""A real ``mlflow server`` for the importer's tests and benchmark: on 127.0.0.1 and a free port, with a
SQLite backend store and a local artifact folder (served by the tracking server: ``--serve-artifacts``), in a
folder of the caller's. And ``CuttingProxy``, an HTTP proxy in front of it that cuts (or stalls) the download
of chosen artifact files halfway through, as a failing network or server would."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class MlflowServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    folder: Path

    def purge_runs(self, *run_ids: str) -> None:
        """``mlflow gc`` of deleted runs: gone from the backend store, as an administrator's clean-up does."""
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mlflow",
                "gc",
                "--backend-store-uri",
                f"sqlite:///{self.folder / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.folder / "artifacts"),
                "--run-ids",
                ",".join(run_ids),
            ],
            env={**os.environ, "MLFLOW_TRACKING_URI": self.url},
            capture_output=True,
            check=True,
            timeout=120,
        )

    def stop(self) -> None:
        """Stop the server and the processes it started (uvicorn): its whole process group."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
                return
            except subprocess.TimeoutExpired:
                continue


def start_mlflow(folder: Path) -> MlflowServer:
    """Start ``mlflow server`` with its store in ``folder``; return once /health answers."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backend-store-uri",
                f"sqlite:///{folder / 'mlflow.db'}",
                "--serve-artifacts",
                "--artifacts-destination",
                str(folder / "artifacts"),
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # no job runner (seven huey consumer processes): the tests run no server-side jobs
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            cwd=folder,
            start_new_session=True,
        )
    server = MlflowServer(f"http://127.0.0.1:{port}", process, log, folder)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2):  # noqa: S310 - our own server
                return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"mlflow server did not answer within {START_TIMEOUT} s: {log.read_text()[-2000:]}")


MLMODEL = """\
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.9
  sklearn:
    sklearn_version: 1.5.2
    serialization_format: cloudpickle
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
"""


def model_folder(folder: Path, seed: int, extra: dict[str, bytes] | None = None) -> Path:
    """An MLflow model directory: an MLmodel file (sklearn flavour, a signature) and nested files."""
    (folder / "data" / "nested").mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text(MLMODEL)
    (folder / "model.pkl").write_bytes(bytes((seed * 7 + i) % 251 for i in range(3000 + seed)))
    (folder / "data" / "nested" / "weights.bin").write_bytes(os.urandom(2048))
    (folder / "requirements.txt").write_text(f"scikit-learn==1.5.2\n# {seed}\n")
    for rel, data in (extra or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def add_version(
    client: Any,
    model: str,
    folder: Path,
    *,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    run_tags: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    description: str = "",
) -> tuple[int, str]:
    """Log ``folder`` as the artifact ``model`` of a new run (with metrics, params, tags) and register it as
    a new version of ``model`` (created if new); (version number, run id)."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - the test extra's client

    experiment = client.get_experiment_by_name("gitreg-tests")
    experiment_id = (
        experiment.experiment_id if experiment is not None else client.create_experiment("gitreg-tests")
    )
    run = client.create_run(experiment_id, tags=run_tags or {})
    run_id = run.info.run_id
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, key, value)
    for name, text in (params or {}).items():
        client.log_param(run_id, name, text)
    client.log_artifacts(run_id, str(folder), "model")
    client.set_terminated(run_id)
    with contextlib.suppress(MlflowException):
        client.create_registered_model(model)
    version = client.create_model_version(
        model, f"runs:/{run_id}/model", run_id, tags=tags or {}, description=description, await_creation_for=0
    )
    return int(version.version), run_id


class CuttingProxy:
    """Forwards every request to ``target``; for a GET whose path ``cut`` selects, sends the headers (with
    the full Content-Length) and half the body, then closes the connection, or with ``stall`` waits until
    the proxy stops. ``cut_count`` counts the cut responses; ``stalled`` is set once one stalls."""

    def __init__(self, target: str, cut: Callable[[str], bool], stall: bool = False) -> None:
        self.target = urlsplit(target)
        self.cut = cut
        self.stall = stall
        self.cut_count = 0
        self.stalled = threading.Event()
        self._stop = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(proxy.target.hostname or "", proxy.target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                cutting = self.command == "GET" and response.status == 200 and proxy.cut(self.path)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                if cutting:
                    self.send_header("Connection", "close")
                self.end_headers()
                if not cutting:
                    self.wfile.write(data)
                    return
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                proxy.cut_count += 1
                if proxy.stall:
                    proxy.stalled.set()
                    proxy._stop.wait(120)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = _forward
            do_POST = _forward
            do_PATCH = _forward
            do_DELETE = _forward
            do_PUT = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def cutting_proxy(target: str, cut: Callable[[str], bool], stall: bool = False) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(target, cut, stall)
    try:
        yield proxy
    finally:
        proxy.close()


__all__ = [
    "CuttingProxy",
    "MlflowServer",
    "add_version",
    "cutting_proxy",
    "free_port",
    "model_folder",
    "start_mlflow",
]
