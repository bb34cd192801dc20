"""The controller's HTTP endpoints (``--listen HOST:PORT``), served from a thread beside the loop:

    GET  /healthz     200 {"status": "ok", ...} while the loop runs
    GET  /status      the status JSON (as in DIR/.gitreg/status.json, plus the last poll)
    GET  /metrics     Prometheus text format
    POST /reconcile   reconcile now (202); with a webhook secret, only with a valid signature

A webhook is authenticated the way forges sign them: GitHub's ``X-Hub-Signature-256: sha256=<hex
HMAC-SHA256 of the body>`` (Gitea and Forgejo send the same), or GitLab's ``X-Gitlab-Token: <secret>``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gitreg.controller.events import Event, Log
from gitreg.controller.reconcile import Controller
from gitreg.errors import UsageError

MAX_BODY = 1024 * 1024


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (every interface) or ``[IPv6]:PORT``; port 0 picks a free one."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(
            f"--listen {text!r} is not an address", "write HOST:PORT, e.g. 127.0.0.1:9100 or :9100"
        )
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - ":PORT" asks for every interface


def signature_error(secret: bytes, body: bytes, headers: Any) -> str | None:
    """Why a webhook request is not authentic, or None if it is."""
    token = headers.get("X-Gitlab-Token")
    if token is not None:
        return None if hmac.compare_digest(token.encode(), secret) else "X-Gitlab-Token does not match"
    signature = headers.get("X-Hub-Signature-256")
    if signature is None:
        return "missing X-Hub-Signature-256 header (the webhook must be signed with the shared secret)"
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        return "X-Hub-Signature-256 does not match the body signed with the webhook secret"
    return None


class Server:
    def __init__(
        self,
        controller: Controller,
        address: tuple[str, int],
        wake: Callable[[], None],
        secret: str | None = None,
        log: Log | None = None,
    ) -> None:
        self.controller = controller
        self.wake = wake
        self.secret = secret.encode() if secret else None
        self.log = log or controller.log
        self.httpd = ThreadingHTTPServer(address, _handler(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="gitreg-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gitreg-controller"

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/healthz":
                status = server.controller.published()
                self._json(200, {"status": "ok", "last_poll": status.last_poll})
            elif path == "/status":
                self._json(200, server.controller.published().as_json())
            elif path == "/metrics":
                body, content_type = server.controller.metrics.render()
                self._send(200, body, content_type)
            elif path == "/reconcile":
                self._json(405, {"error": "use POST /reconcile"})
            else:
                self._json(404, {"error": f"no such endpoint {path}: try /healthz, /status, /metrics"})

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            if path != "/reconcile":
                self._json(404, {"error": f"no such endpoint {path}: POST /reconcile"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, {"error": f"the body is over {MAX_BODY} bytes"})
                return
            body = self.rfile.read(length)
            if server.secret is not None:
                problem = signature_error(server.secret, body, self.headers)
                if problem is not None:
                    server.log(
                        Event(
                            "webhook-refused", "warning", {"error": problem, "from": self.client_address[0]}
                        )
                    )
                    self._json(401, {"error": problem})
                    return
            server.log(Event("reconcile-requested", "info", {"from": self.client_address[0]}))
            server.wake()
            self._json(202, {"status": "queued"})

        def _json(self, code: int, data: object) -> None:
            self._send(code, (json.dumps(data, indent=2) + "\n").encode(), "application/json")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Requests are not logged one by one (scrapes would flood the log); events are."""

    return Handler
