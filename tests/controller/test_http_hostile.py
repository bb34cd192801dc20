"""The controller's HTTP server against hostile or broken clients: every malformed, oversized, unsigned,
slow or abandoned request gets a clean HTTP error (while the client is there to read it) and at most one
log line, never a traceback; no request can make the server read an unbounded body or hold a thread."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.helpers import Remote, Running, controller_argv, wait_for

SECRET = "hostile-secret"  # noqa: S105 - a test's shared secret
TIMEOUT = 20.0  # socket timeout: a server that does not answer fails the test instead of hanging it


@pytest.fixture
def server(remote: Remote, target: Path) -> Iterator[tuple[Running, tuple[str, int]]]:
    """A real controller process listening on 127.0.0.1 with a webhook secret; (process, address)."""
    argv = controller_argv(remote, target, "--interval", "3600", "--listen", "127.0.0.1:0")
    running = Running([*argv, "--webhook-secret", SECRET])
    url = running.event("listening")["url"]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    yield running, (host, int(port))
    code = running.stop()
    assert code == 0, "".join(running.lines)
    assert not [line for line in running.lines if not line.startswith("{")], "".join(running.lines)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=TIMEOUT)
    sock.settimeout(TIMEOUT)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read until the server closes; (status, headers, body). Fails (socket timeout) if it never does."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1."), f"not an HTTP response: {data[:200]!r}"
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def exchange(address: tuple[str, int], raw: bytes, close: bool = False) -> tuple[int, dict[str, Any]]:
    """Send ``raw`` (then half-close if ``close``), read the whole answer: (status, JSON body)."""
    with connect(address) as sock:
        sock.sendall(raw)
        if close:
            sock.shutdown(socket.SHUT_WR)
        code, headers, body = read_response(sock)
    assert headers["content-type"] == "application/json", body
    data: dict[str, Any] = json.loads(body)
    return code, data


def post(length: str | None, *headers: str) -> bytes:
    lines = ["POST /reconcile HTTP/1.1", "Host: controller", *headers]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed(body: bytes) -> str:
    return "X-Hub-Signature-256: sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def refusals(running: Running, count: int = 0) -> list[tuple[int, str]]:
    """The request-refused log lines, once there are at least ``count`` (the log is read as it comes)."""
    wait_for(lambda: len(refusals(running)) >= count, f"{count} request-refused lines") if count else None
    return [(e["status"], e["error"]) for e in running.events if e["event"] == "request-refused"]


def healthz(address: tuple[str, int]) -> int:
    code, data = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: controller\r\n\r\n")
    assert "status" in data
    return code


@pytest.mark.parametrize(
    ("length", "code", "error"),
    [
        ("-1", 400, "Content-Length '-1' is not a number of bytes"),
        ("abc", 400, "Content-Length 'abc' is not a number of bytes"),
        ("1e3", 400, "Content-Length '1e3' is not a number of bytes"),
        ("+5", 400, "Content-Length '+5' is not a number of bytes"),
        ("", 400, "Content-Length '' is not a number of bytes"),
        ("209715200", 413, "the body is 209715200 bytes; the most accepted is 65536"),
        (
            "99999999999999999999999",
            413,
            "the body is 99999999999999999999999 bytes; the most accepted is 65536",
        ),
        ("1" * 5000, 413, f"the body is {'1' * 40} bytes; the most accepted is 65536"),
        (None, 411, "a POST needs a Content-Length"),
    ],
)
def test_a_bad_length_is_refused_before_the_body_is_read(
    server: tuple[Running, tuple[str, int]], length: str | None, code: int, error: str
) -> None:
    running, address = server
    # No body is sent: the answer must come from the headers alone (the old server read a -1 body to EOF).
    assert exchange(address, post(length, signed(b""))) == (code, {"error": error})
    assert refusals(running, 1) == [(code, error)]
    assert healthz(address) == 200


@pytest.mark.parametrize(
    ("headers", "code", "error"),
    [
        (["Content-Length: 2", "Content-Length: 3"], 400, "more than one Content-Length"),
        (
            ["Transfer-Encoding: chunked"],
            411,
            "a POST needs a Content-Length (chunked bodies are not accepted)",
        ),
        (
            ["Transfer-Encoding: chunked", "Content-Length: 2"],
            411,
            "a POST needs a Content-Length (chunked bodies are not accepted)",
        ),
    ],
)
def test_ambiguous_framing_is_refused(
    server: tuple[Running, tuple[str, int]], headers: list[str], code: int, error: str
) -> None:
    running, address = server
    assert exchange(address, post(None, signed(b"{}"), *headers) + b"{}") == (code, {"error": error})
    assert refusals(running, 1) == [(code, error)]


def test_an_unsigned_post_is_refused_before_its_body_is_read(server: tuple[Running, tuple[str, int]]) -> None:
    running, address = server
    missing = "missing X-Hub-Signature-256 header (the webhook must be signed with the shared secret)"
    # Headers only, a 60 KiB body announced and never sent: the answer must not wait for it.
    assert exchange(address, post("61440")) == (401, {"error": missing})
    wrong_token = "X-Gitlab-Token does not match"  # noqa: S105 - an error message
    assert exchange(address, post("61440", "X-Gitlab-Token: guess")) == (401, {"error": wrong_token})
    body = b'{"ref": "refs/heads/main"}'
    forged = "X-Hub-Signature-256: sha256=" + "0" * 64
    mismatch = "X-Hub-Signature-256 does not match the body signed with the webhook secret"
    assert exchange(address, post(str(len(body)), forged) + body) == (401, {"error": mismatch})
    assert exchange(address, post(str(len(body)), signed(body)) + body) == (202, {"status": "queued"})
    running.event("reconcile-requested")
    refused = [e["error"] for e in running.events if e["event"] == "webhook-refused"]
    assert refused == [missing, wrong_token, mismatch]


def test_a_client_that_leaves_mid_body_gets_an_answer_and_one_log_line(
    server: tuple[Running, tuple[str, int]],
) -> None:
    running, address = server
    body = b'{"ref": "refs/heads/main"}'
    error = f"the body ended after 5 of {len(body)} bytes"
    assert exchange(address, post(str(len(body)), signed(body)) + body[:5], close=True) == (
        400,
        {"error": error},
    )
    assert refusals(running, 1) == [(400, error)]

    with connect(address) as sock:  # gone for good: nobody to answer, one line in the log at most
        sock.sendall(post(str(len(body)), signed(body)) + body[:5])
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with connect(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: contr")
    assert healthz(address) == 200
    gone = [error, "the client went away: Connection reset by peer", "the client went away: Broken pipe"]
    assert refusals(running, 2)[1] in [(400, text) for text in gone]
    assert healthz(address) == 200
    assert len(refusals(running)) <= 3  # at most one line for each client that left


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xff\xfe\r\n\r\n", 400),  # TLS spoken to plain HTTP
        (b"GET\r\n\r\n", 400),
        (b"GET /healthz\r\n\r\n", 400),  # HTTP/0.9: no status line to answer with
        (b"GET /healthz HTTP/9.9\r\n\r\n", 505),
        (b"GET /healthz HTTQ/1.1\r\n\r\n", 400),
        (b"BREW /healthz HTTP/1.1\r\n\r\n", 501),
        (b"GET /healthz HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\n\xff\xfe\x00: \x00\r\n\r\n", 200),  # odd but harmless header bytes
        (b"POST /reconcile HTTP/1.1\r\nContent-Length: \xd9\xa3\r\n\r\n", 400),  # a non-ASCII digit
    ],
)
def test_garbage_requests_get_a_clean_error(
    server: tuple[Running, tuple[str, int]], raw: bytes, code: int
) -> None:
    running, address = server
    assert exchange(address, raw)[0] == code
    assert healthz(address) == 200
    assert len(refusals(running, 0 if code == 200 else 1)) == (0 if code == 200 else 1)


def test_idle_and_slow_clients_cannot_starve_healthz(server: tuple[Running, tuple[str, int]]) -> None:
    running, address = server
    idle = [connect(address) for _ in range(100)]
    try:
        for sock in idle:
            sock.sendall(b"GET /heal")  # half a request line, then silence
        assert healthz(address) == 200
        assert healthz(address) == 200
        for sock in idle:  # each is answered (408, or 503 if it made room for a newer one) and closed
            code, _headers, _body = read_response(sock)
            assert code in (408, 503)
    finally:
        for sock in idle:
            sock.close()
    assert healthz(address) == 200
    assert {code for code, _error in refusals(running)} <= {408, 503}
