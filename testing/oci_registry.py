"""A real OCI registry for the tests and the benchmarks: Debian's ``docker-registry`` (distribution 2.8) on
127.0.0.1 and a free port, its storage a temporary folder, deletes enabled; and ``skopeo``, an independent
client, to check what gitreg pushes. Each pytest-xdist worker starts its own (a free port, its own folder).

``Proxy`` stands between a client and the registry and speaks the registry's protocol to both: it can
require a bearer token (answering 401 with a ``WWW-Authenticate: Bearer realm=...`` challenge and issuing
tokens for Basic credentials at ``/token``, as a registry's token service does), refuse a chunk of an
upload, or flip a byte of every blob it serves."""

from __future__ import annotations

import base64
import http.client
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from testing.debian import skip_reason
from testing.servers import _stopper, free_port, wait_for_port

PACKAGES = ("docker-registry", "skopeo")
CONFIG = """version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: {delete}
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""


def registry_skip_reason() -> str | None:
    return skip_reason(*PACKAGES)


@dataclass
class Registry:
    host: str  # 127.0.0.1:<port>
    root: Path  # its storage folder
    stop: Callable[[], None]

    def url(self, repository: str) -> str:
        return f"oci://{self.host}/{repository}"

    def blob_path(self, digest: str) -> Path:
        hexdigest = digest.removeprefix("sha256:")
        return self.root / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def layer_links(self, repository: str) -> dict[str, Path]:
        """{digest: link file} of the blobs linked in ``repository``."""
        top = self.root / "docker/registry/v2/repositories" / repository / "_layers/sha256"
        if not top.is_dir():
            return {}
        return {f"sha256:{p.name}": p / "link" for p in top.iterdir() if (p / "link").is_file()}


def start_registry(folder: Path | None = None, *, delete: bool = True) -> Registry:
    root = Path(tempfile.mkdtemp(prefix="gitreg-oci-")) if folder is None else folder
    port = free_port()
    config = root / "config.yml"
    (root / "data").mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG.format(root=root / "data", port=port, delete=str(delete).lower()))
    process = subprocess.Popen(
        ["/usr/bin/docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "none"},
    )
    wait_for_port(port, process, "docker-registry")
    stop_process = _stopper(process)

    def stop() -> None:
        stop_process()
        if folder is None:
            shutil.rmtree(root, ignore_errors=True)

    return Registry(f"127.0.0.1:{port}", root / "data", stop)


def skopeo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run skopeo with no user configuration and plain HTTP to the local registry."""
    return subprocess.run(
        ["/usr/bin/skopeo", *args], capture_output=True, text=True, timeout=timeout, check=True
    )


@dataclass
class Proxy:
    """An HTTP server on 127.0.0.1 forwarding to ``upstream`` (``host:port``); see the module docstring."""

    upstream: str
    users: dict[str, str] = field(default_factory=dict)  # Basic credentials the token service accepts
    bearer: bool = False
    basic: bool = False  # require Basic credentials on every request (htpasswd-style auth)
    refresh_tokens: set[str] = field(default_factory=set)  # OAuth2 refresh tokens the token service takes
    refuse_chunk: int | None = None  # answer 500 to this PATCH (counted from 1) and every later one
    flip: bool = False
    # answer this many manifest PUTs with MANIFEST_BLOB_UNKNOWN before forwarding them, as a registry does
    # while a concurrent upload of the same blob is still linking it into the repository
    blob_unknown: int = 0
    manifest_puts: int = 0
    host: str = ""
    tokens: set[str] = field(default_factory=set)
    patches: int = 0
    server: ThreadingHTTPServer | None = None

    def start(self) -> Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _reply(
                self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, length: str = ""
            ) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", length or str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _basic_ok(self) -> bool:
                auth = self.headers.get("Authorization", "")
                try:
                    user, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
                except ValueError:
                    return False
                return auth.startswith("Basic ") and user in proxy.users and proxy.users[user] == password

            def _token(self) -> None:
                if self.command == "POST":  # OAuth2 refresh-token grant
                    form = parse_qs(self._body().decode())
                    ok = form.get("grant_type") == ["refresh_token"] and form.get("refresh_token", [""])[
                        0
                    ] in (proxy.refresh_tokens)
                    if not ok:
                        self._reply(401, b'{"error":"invalid_grant"}')
                        return
                    token = secrets.token_hex(16)
                    proxy.tokens.add(token)
                    self._reply(
                        200, f'{{"access_token":"{token}"}}'.encode(), {"Content-Type": "application/json"}
                    )
                    return
                if not self._basic_ok():
                    self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                    return
                token = secrets.token_hex(16)
                proxy.tokens.add(token)
                self._reply(200, f'{{"token":"{token}"}}'.encode(), {"Content-Type": "application/json"})

            def _forward(self) -> None:
                path = urlsplit(self.path).path
                if path == "/token":
                    self._token()
                    return
                body = self._body()
                if (
                    proxy.bearer
                    and self.headers.get("Authorization", "").removeprefix("Bearer ") not in proxy.tokens
                ):
                    challenge = (
                        f'Bearer realm="http://{proxy.host}/token",service="test-registry",'
                        f'scope="repository:{path.split("/")[2] if path.count("/") > 2 else ""}:pull"'
                    )
                    self._reply(
                        401,
                        b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                        {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                    )
                    return
                if proxy.basic and not self._basic_ok():
                    self._reply(
                        401,
                        b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                        {
                            "WWW-Authenticate": 'Basic realm="test-registry"',
                            "Content-Type": "application/json",
                        },
                    )
                    return
                if self.command == "PATCH":
                    proxy.patches += 1
                    if proxy.refuse_chunk is not None and proxy.patches >= proxy.refuse_chunk:
                        self._reply(500, b'{"errors":[{"code":"UNKNOWN","message":"chunk refused"}]}')
                        return
                if self.command == "PUT" and "/manifests/" in path:
                    proxy.manifest_puts += 1
                    if proxy.manifest_puts <= proxy.blob_unknown:
                        self._reply(
                            400,
                            b'{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN",'
                            b'"message":"blob unknown to registry"}]}',
                            {"Content-Type": "application/json"},
                        )
                        return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")
                }
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if proxy.flip and self.command == "GET" and "/blobs/sha256:" in path and data:
                    data = bytes([data[0] ^ 1]) + data[1:]
                out = {
                    k: v
                    for k, v in resp.getheaders()
                    if k.lower() not in ("content-length", "connection", "transfer-encoding")
                }
                if "Location" in out:
                    out["Location"] = out["Location"].replace(proxy.upstream, proxy.host)
                length = resp.getheader("Content-Length", "") if self.command == "HEAD" else ""
                self._reply(resp.status, data, out, length)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.host = f"127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def url(self, repository: str) -> str:
        return f"oci://{self.host}/{repository}"


__all__ = ["Proxy", "Registry", "registry_skip_reason", "skopeo", "start_registry"]
