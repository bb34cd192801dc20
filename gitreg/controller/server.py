"""The controller's HTTP endpoints (``--listen HOST:PORT``), served from a thread beside the loop:

    GET  /healthz     200 {"status": "ok" | "stuck", ...}; 503 {"status": "stale", ...} (see health.py)
    GET  /status      the status JSON (as in DIR/.gitreg/status.json, plus the last poll and the health)
    GET  /metrics     Prometheus text format
    POST /reconcile   reconcile now (202); with a webhook secret, only with a valid signature

A webhook is authenticated the way forges sign them (``gitreg.controller.webhook``).

The server is exposed to whatever can reach the port, so it bounds what a client can cost: one request
per connection; the request (line, headers, body) must arrive within ``timeout`` seconds; bodies have a
Content-Length of at most ``MAX_BODY`` bytes, checked with the signature headers before a byte of the
body is read; at most ``max_connections`` connections at once (a new one makes room by closing the one
that has waited longest for its request, so idle clients cannot starve ``/healthz``). Every refusal is an
HTTP error with a JSON body and one ``request-refused`` log line; a client that has left gets the line."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from gitreg.controller.events import Event, Field, Log
from gitreg.controller.health import Health
from gitreg.controller.reconcile import Controller
from gitreg.controller.webhook import check_secret, header_error, signature_error
from gitreg.errors import UsageError

MAX_BODY = 64 * 1024  # a forge's push event is a few KiB; the body is only hashed, never parsed
MAX_LINE = 8 * 1024  # the request line, and each header line
TIMEOUT = 5.0  # seconds a connection has to send its whole request
MAX_CONNECTIONS = 32
LINGER_SECONDS = 1.0  # after the answer, what a client still sends is read and dropped for this long,
LINGER_BYTES = 256 * 1024  # up to this much
LENGTH = re.compile(r"[0-9]+")


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (every interface) or ``[IPv6]:PORT``; port 0 picks a free one."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(
            f"--listen {text!r} is not an address", "write HOST:PORT, e.g. 127.0.0.1:9100 or :9100"
        )
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - ":PORT" asks for every interface


class Server:
    def __init__(
        self,
        controller: Controller,
        address: tuple[str, int],
        wake: Callable[[], None],
        secret: str | None = None,
        log: Log | None = None,
        health: Health | None = None,
        timeout: float = TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.controller = controller
        self.wake = wake
        self.secret = check_secret(secret)
        self.log = log or controller.log
        self.health = health
        self.httpd = _Listener(address, _handler(self), timeout, max_connections, self.log)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="gitreg-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a serve_forever that never ran
            self.httpd.shutdown()
        self.httpd.server_close()

    def healthz(self) -> tuple[int, dict[str, object]]:
        status = self.controller.published()
        if self.health is None:
            return 200, {"status": "ok", "last_poll": status.last_poll}
        verdict = self.health.check(status)
        body: dict[str, object] = {"status": verdict.state, "last_poll": status.last_poll}
        if verdict.reason:
            body["reason"] = verdict.reason
        return (503 if verdict.state == "stale" else 200), body

    def status(self) -> dict[str, object]:
        status = self.controller.published()
        data = status.as_json()
        if self.health is not None:
            data["health"] = self.health.check(status).as_json(self.health.stale_after)
        return data


@dataclass
class _Connection:
    deadline: float
    busy: bool = False  # its request has arrived and is being answered: not to be closed for room
    ended: str | None = None  # why the server cut its reading short: "timeout" or "room"


class _Listener(ThreadingHTTPServer):
    """A threading HTTP server that bounds each connection's time and the number of connections."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        timeout: float,
        max_connections: int,
        log: Log,
    ) -> None:
        self.idle_timeout = timeout
        self.max_connections = max_connections
        self.log = log
        self.open: dict[socket.socket, _Connection] = {}
        self.guard = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.guard:
            if len([c for c in self.open.values() if c.ended is None]) >= self.max_connections:
                waiting = [(c.deadline, s) for s, c in self.open.items() if not c.busy and c.ended is None]
                if not waiting:
                    self._turn_away(request, client_address)
                    return
                self._end(min(waiting, key=lambda pair: pair[0])[1], "room")
            self.open[request] = _Connection(time.monotonic() + self.idle_timeout)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.guard:
                self.open.pop(request, None)

    def service_actions(self) -> None:
        """Called by serve_forever between polls: end the reading of every request past its deadline."""
        moment = time.monotonic()
        with self.guard:
            for sock, connection in self.open.items():
                if connection.ended is None and not connection.busy and connection.deadline < moment:
                    self._end(sock, "timeout")

    def _end(self, sock: socket.socket, why: str) -> None:
        """Stop the connection's reading (its thread sees the end of the request, answers and closes)."""
        self.open[sock].ended = why
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)

    def _turn_away(self, request: socket.socket, client_address: Any) -> None:
        error = f"too many connections (at most {self.max_connections}); try again"
        self.log(
            Event("request-refused", "warning", {"status": 503, "error": error, "from": client_address[0]})
        )
        body = json.dumps({"error": error}).encode() + b"\n"
        head = (
            "HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            request.setblocking(False)  # a few bytes into a fresh socket's empty buffer: never blocks
            request.send(head.encode() + body)
        except OSError:
            pass
        self.close_request(request)

    def shutdown_request(self, request: Any) -> None:
        """Close after a lingering read: say we are done, then read (and drop) what the client still sends,
        a bounded amount for a bounded time. Closing with unread bytes would reset the connection, and a
        reset makes the client discard the answer it has not read yet (the refusal of its request)."""
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_WR)
            request.settimeout(LINGER_SECONDS)
            deadline, left = time.monotonic() + LINGER_SECONDS, LINGER_BYTES
            while left > 0 and time.monotonic() < deadline and (chunk := request.recv(min(left, 65536))):
                left -= len(chunk)
        self.close_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A bug in a handler: one log line, not the traceback socketserver would print."""
        exc = sys.exc_info()[1]
        error = f"{type(exc).__name__}: {exc}"
        self.log(Event("request-crashed", "error", {"error": error, "from": client_address[0]}))


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gitreg-controller"
        sys_version = ""  # the Server header does not advertise the Python version
        protocol_version = "HTTP/1.0"  # one request per connection
        default_request_version = "HTTP/1.0"  # every answer has a status line, even to a broken request
        timeout = TIMEOUT
        _logged = False

        @property
        def listener(self) -> _Listener:
            return cast(_Listener, self.server)

        def setup(self) -> None:
            super().setup()
            # Slightly over the deadline, so that a slow request meets the deadline (and its 408) first.
            self.connection.settimeout(self.listener.idle_timeout + 1)

        def handle(self) -> None:
            self.close_connection = True
            self.request_version, self.requestline, self.command = self.default_request_version, "", ""
            try:
                self._one_request()
            except TimeoutError:  # a read or a write waited the whole timeout
                if not self._logged:
                    with contextlib.suppress(OSError):
                        limit = self.listener.idle_timeout
                        self.send_error(408, f"the request did not arrive within {limit:g}s")
            except OSError as exc:  # the client left (or stopped reading) mid-request
                if not self._logged:
                    self._log_refusal(400, f"the client went away: {exc.strerror or type(exc).__name__}")

        def _one_request(self) -> None:
            line = self.rfile.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                self.send_error(414, f"the request line is over {MAX_LINE} bytes")
                return
            if not line.endswith(b"\n"):
                if line or self._ended() is not None:
                    self._incomplete("the request line")
                return  # connected and left without a word (a port scan, a TCP probe)
            self.raw_requestline = line
            if not self.parse_request():
                return
            if len(self.requestline.split()) == 2:
                self.send_error(400, "HTTP/0.9 requests are not served: send HTTP/1.0 or 1.1")
                return
            if self._ended() is not None:  # the headers were cut short
                self._incomplete("the headers")
                return
            method = getattr(self, f"do_{self.command}", None)
            if method is None:
                self.send_error(501, f"{self.command[:32]!r} is not served: GET or POST")
                return
            method()

        def do_GET(self) -> None:
            self._busy()
            path = self.path.split("?")[0]
            if path == "/healthz":
                self._json(*server.healthz())
            elif path == "/status":
                self._json(200, server.status())
            elif path == "/metrics":
                body, content_type = server.controller.metrics.render()
                self._send(200, body, content_type)
            elif path == "/reconcile":
                self._json(405, {"error": "use POST /reconcile"})
            else:
                self._json(404, {"error": f"no such endpoint {path[:200]}: try /healthz, /status, /metrics"})

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            if path != "/reconcile":
                self._busy()
                self._json(404, {"error": f"no such endpoint {path[:200]}: POST /reconcile"})
                return
            length = self._length()
            if length is None:
                return
            if server.secret is not None:
                problem = header_error(server.secret, self.headers)
                if problem is not None:
                    self._webhook_refused(problem)
                    return
            body = self.rfile.read(length)
            if len(body) < length:
                self._incomplete("the body", f"the body ended after {len(body)} of {length} bytes")
                return
            self._busy()
            if server.secret is not None:
                problem = signature_error(server.secret, body, self.headers)
                if problem is not None:
                    self._webhook_refused(problem)
                    return
            server.log(Event("reconcile-requested", "info", {"from": self.client_address[0]}))
            server.wake()
            self._json(202, {"status": "queued"})

        def _length(self) -> int | None:
            """The body's length, checked before a byte of it is read; None once refused."""
            if self.headers.get("Transfer-Encoding") is not None:
                self.send_error(411, "a POST needs a Content-Length (chunked bodies are not accepted)")
                return None
            values = self.headers.get_all("Content-Length") or []
            if not values:
                self.send_error(411, "a POST needs a Content-Length")
                return None
            if len(values) > 1:
                self.send_error(400, "more than one Content-Length")
                return None
            text = values[0].strip()
            if not LENGTH.fullmatch(text):
                self.send_error(400, f"Content-Length {text[:40]!r} is not a number of bytes")
                return None
            # compared by length first: int() of thousands of digits is refused by Python itself
            if len(text.lstrip("0")) > len(str(MAX_BODY)) or int(text) > MAX_BODY:
                self.send_error(413, f"the body is {text[:40]} bytes; the most accepted is {MAX_BODY}")
                return None
            return int(text)

        def _webhook_refused(self, problem: str) -> None:
            self._logged = True
            server.log(
                Event("webhook-refused", "warning", {"error": problem, "from": self.client_address[0]})
            )
            self._json(401, {"error": problem})

        def _ended(self) -> str | None:
            with self.listener.guard:
                connection = self.listener.open.get(self.connection)
                return None if connection is None else connection.ended

        def _busy(self) -> None:
            with self.listener.guard:
                connection = self.listener.open.get(self.connection)
                if connection is not None:
                    connection.busy = True

        def _incomplete(self, part: str, error: str | None = None) -> None:
            ended = self._ended()
            if ended == "timeout":
                limit = self.listener.idle_timeout
                self.send_error(408, f"{part} did not arrive within {limit:g}s")
            elif ended == "room":
                self.send_error(503, f"too many connections: this one waited longest for {part}")
            else:
                self.send_error(400, error or f"{part} ended early")

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """Every refusal, the standard library's own (a bad request line, headers too long) included:
            a JSON body and one log line."""
            error = message or HTTPStatus(code).phrase
            self._log_refusal(code, error)
            self._json(code, {"error": error})

        def _log_refusal(self, code: int, error: str) -> None:
            self._logged = True
            fields: dict[str, Field] = {"status": code, "error": error[:300], "from": self.client_address[0]}
            server.log(Event("request-refused", "warning", fields))

        def _json(self, code: int, data: object) -> None:
            self._send(code, (json.dumps(data, indent=2) + "\n").encode(), "application/json")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Not logged (see log_message); and a refused request may not have a request line to log."""

        def log_message(self, format: str, *args: Any) -> None:
            """Requests are not logged one by one (scrapes would flood the log); events are."""

    return Handler
