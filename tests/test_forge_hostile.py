"""A forge's answers are input too: a Link header that loops, a page that is not a list, items that are not
objects or numbers that are not numbers end in one clean ForgeError or are skipped, never a traceback or a
request loop without end."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gitreg.errors import ForgeError
from gitreg.forge import GitHub, RemoteRepo
from gitreg.ops.review import _number


def serving(answer: object, link: str | None) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if link is not None:
                self.send_header("Link", link.format(url=f"http://{self.headers['Host']}"))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("answer", "link", "message"),
    [
        ([{"number": 1}], '<{url}/page>; rel="next"', "kept paginating"),
        ({"message": "an error object"}, None, "with something that is not a list"),
    ],
)
def test_a_hostile_listing_is_one_forge_error(answer: object, link: str | None, message: str) -> None:
    for url in serving(answer, link):
        client = GitHub(url, "t", RemoteRepo("github.com", "owner/reg"))
        with pytest.raises(ForgeError, match=message):
            client.get_all(f"{url}/page")


def test_items_that_are_not_objects_are_skipped() -> None:
    for url in serving([1, "x", None, [2], {"number": 7}], None):
        client = GitHub(url, "t", RemoteRepo("github.com", "owner/reg"))
        assert client.get_all(f"{url}/page") == [{"number": 7}]


@pytest.mark.parametrize("value", ["7", 7.0, None, True, -1, 0, 2**70, "1" * 5000])
def test_a_pull_request_number_that_is_not_one_is_none(value: object) -> None:
    assert _number(value) is None


def test_a_pull_request_number_is_kept() -> None:
    assert _number(42) == 42
