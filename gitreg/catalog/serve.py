"""``gitreg catalog serve``: a built catalog served on 127.0.0.1 for a local look (Python's own static file
server, which keeps every request inside the folder it serves; nothing is listening beyond this machine)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gitreg.errors import GitregError

HOST = "127.0.0.1"


class _Quiet(SimpleHTTPRequestHandler):
    """Files of the site only; no request log on the terminal."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def open_server(root: Path, port: int) -> ThreadingHTTPServer:
    """A server of ``root`` on 127.0.0.1:``port`` (0: any free port), bound, ready to ``serve_forever``."""
    handler = functools.partial(_Quiet, directory=str(root))
    try:
        return _Server((HOST, port), handler)
    except OSError as exc:
        raise GitregError(
            f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
            "choose another --port (0: any free one)",
        ) from None


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/"
