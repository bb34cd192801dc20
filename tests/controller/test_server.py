"""The pure parts of the HTTP server: addresses, webhook signatures; and the log line formats."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gitreg import UsageError
from gitreg.controller import Event
from gitreg.controller.server import parse_address
from gitreg.controller.webhook import signature_error

SECRET = b"s3cret"
BODY = b'{"ref": "refs/heads/main"}'


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9100", ("127.0.0.1", 9100)),
        (":9100", ("0.0.0.0", 9100)),  # noqa: S104 - what ":PORT" means
        ("[::1]:0", ("::1", 0)),
        ("localhost:80", ("localhost", 80)),
    ],
)
def test_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["9100", "host:", "host:http", "host:70000"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_address(text)
    assert str(caught.value) == (
        f"--listen {text!r} is not an address (write HOST:PORT, e.g. 127.0.0.1:9100 or :9100)"
    )


def test_webhook_signatures() -> None:
    good = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    assert signature_error(SECRET, BODY, {"X-Hub-Signature-256": good}) is None
    assert signature_error(SECRET, BODY + b" ", {"X-Hub-Signature-256": good}) == (
        "X-Hub-Signature-256 does not match the body signed with the webhook secret"
    )
    assert signature_error(SECRET, BODY, {"X-Hub-Signature": "sha1=00"}) == (
        "missing X-Hub-Signature-256 header (the webhook must be signed with the shared secret)"
    )
    assert signature_error(SECRET, BODY, {"X-Gitlab-Token": "s3cret"}) is None
    assert signature_error(SECRET, BODY, {"X-Gitlab-Token": "guess"}) == "X-Gitlab-Token does not match"


def test_log_lines() -> None:
    event = Event(
        "deploy-failed",
        "error",
        {
            "model": "fraud",
            "version": 2,
            "live": None,
            "ok": False,
            "error": 'blob "x" = missing',
            "v": ["1", "2"],
        },
        time="2026-01-01T00:00:00.000000Z",
    )
    assert event.text() == (
        "time=2026-01-01T00:00:00.000000Z level=error event=deploy-failed model=fraud version=2 ok=false "
        'error="blob \\"x\\" = missing" v=1,2'
    )
    assert event.json() == (
        '{"time":"2026-01-01T00:00:00.000000Z","level":"error","event":"deploy-failed","model":"fraud",'
        '"version":2,"live":null,"ok":false,"error":"blob \\"x\\" = missing","v":["1","2"]}'
    )
