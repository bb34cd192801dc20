"""The OCI distribution API of one repository, over ``http.client``: blobs, uploads, manifests, tags.

Authentication follows what registries answer: a request goes out with the credentials it has (a bearer
token, or Basic); a 401 carries ``WWW-Authenticate``. ``Bearer realm=...,service=...,scope=...``: the
client asks the realm for a token (a GET with Basic credentials when it has some, anonymously otherwise)
and sends the request again with ``Authorization: Bearer <token>``; ``Basic``: it sends the credentials.
A second 401 is a StorageError naming where the credentials came from. Plain HTTP only for a registry on
this machine (127.0.0.1, ::1, localhost) and only when asked for (``insecure``)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from gitreg.errors import StorageError, UsageError
from gitreg.storage.oci.auth import Challenge, Credentials, find_credentials, parse_challenge

TIMEOUT = 60
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
#: The largest manifest gitreg reads (a version with 10,000 files is about 3 MB).
MAX_MANIFEST = 16 * 1024 * 1024
#: How many times a manifest PUT answered MANIFEST_BLOB_UNKNOWN is made (0.05 s, 0.1 s, ... apart).
BLOB_UNKNOWN_ATTEMPTS = 5
LOGIN_HINT = "log in with `docker login HOST`, or set GITREG_OCI_USERNAME and GITREG_OCI_PASSWORD"


class HTTPError(Exception):
    """A response the caller did not expect; ``status`` is what ``remote.retry`` reads."""

    def __init__(self, status: int, method: str, what: str, body: bytes = b"") -> None:
        detail = _error_text(body)
        super().__init__(f"{method} {what}: HTTP {status}" + (f" ({detail})" if detail else ""))
        self.status = status


def _error_text(body: bytes) -> str:
    try:
        errors = json.loads(body)["errors"]
        return "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors)[:200]
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def host_of(host: str) -> str:
    """The host name of ``name[:port]`` (an IPv6 literal keeps its brackets)."""
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.rpartition(":")[0] if ":" in host else host


def check_insecure(host: str, insecure: bool) -> None:
    if insecure and host_of(host) not in LOOPBACK:
        raise UsageError(
            f"plain HTTP is only allowed for a registry on this machine, not {host}",
            "drop --insecure (GITREG_OCI_INSECURE) and use the registry's HTTPS address",
        )


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes = b""
    stream: http.client.HTTPResponse | None = field(default=None, repr=False)
    connection: http.client.HTTPConnection | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        if self.connection is not None:
            self.connection.close()


class Client:
    """Requests to ``/v2/<repository>/...`` of the registry at ``host`` (``name[:port]``); thread-safe (one
    connection per thread). ``actions`` is the token scope asked for: ``pull`` or ``pull,push``."""

    def __init__(
        self, host: str, repository: str, *, insecure: bool = False, actions: str = "pull,push"
    ) -> None:
        check_insecure(host, insecure)
        self.host = host
        self.repository = repository
        self.scheme = "http" if insecure else "https"
        self.base = f"{self.scheme}://{host}"
        self.scopes = [f"repository:{repository}:{actions}"]
        self._local = threading.local()
        self._lock = threading.Lock()
        self._credentials: Credentials | bool | None = False  # False: not looked up yet
        self._authorization: str | None = None
        self._ssl = ssl.create_default_context()

    # --- transport --------------------------------------------------------------------------------------

    def _connect(self, netloc: str, scheme: str) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, timeout=TIMEOUT, context=self._ssl)
        return http.client.HTTPConnection(netloc, timeout=TIMEOUT)

    def _pooled(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(self.host, self.scheme)
            self._local.conn = conn
        return conn

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, stream: bool
    ) -> Response:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        own = parts.netloc == self.host
        conn = self._pooled() if own and not stream else self._connect(parts.netloc, parts.scheme)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            found = {k.lower(): v for k, v in resp.getheaders()}
            if stream and resp.status in (200, 206):
                return Response(resp.status, found, stream=resp, connection=conn)
            data = resp.read()
        except BaseException:
            conn.close()
            if own and not stream:
                self._local.conn = None
            raise
        if not own or stream:
            conn.close()
        return Response(resp.status, found, data)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        stream: bool = False,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """``method`` on ``path`` (below the registry, or an absolute URL of it), authenticated; follows
        redirects (a blob GET is often sent to a storage service, without the registry's credentials).
        Raises HTTPError unless the status is in ``ok`` (404 is returned for the caller to judge when in
        ``ok``)."""
        url = urljoin(self.base, path)
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Length", str(len(body)))
        answered = False
        for _ in range(6):
            auth = self._authorization
            with_auth = {**sent, "Authorization": auth} if auth and url.startswith(self.base) else sent
            resp = self._send(method, url, with_auth, body, stream)
            if resp.status == 401 and url.startswith(self.base):
                if answered or not self._answer(resp.headers.get("www-authenticate", ""), auth):
                    raise self._denied(resp)
                answered = True
                continue
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp.headers:
                resp.close()
                url = urljoin(url, resp.headers["location"])
                continue
            if resp.status in ok:
                return resp
            resp.close()
            if resp.status == 403:
                raise self._denied(resp)
            raise HTTPError(resp.status, method, self._what(path), resp.body)
        raise StorageError(f"{method} {self._what(path)}: too many redirects or authentication rounds")

    def _what(self, path: str) -> str:
        return f"{self.host}{urlsplit(path).path}"

    # --- authentication ---------------------------------------------------------------------------------

    def credentials(self) -> Credentials | None:
        with self._lock:
            if self._credentials is False:
                self._credentials = find_credentials(self.host)
            return self._credentials if isinstance(self._credentials, Credentials) else None

    def _answer(self, header: str, tried: str | None) -> bool:
        """Set the authorization that answers the challenge; False if there is nothing new to try."""
        challenge = parse_challenge(header)
        creds = self.credentials()
        if challenge.scheme == "basic":
            new = creds.basic() if creds is not None else None
        elif challenge.scheme == "bearer" and "realm" in challenge.params:
            new = "Bearer " + self._token(challenge, creds)
        else:
            return False
        if new is None or new == tried:
            return False
        self._authorization = new
        return True

    def _token(self, challenge: Challenge, creds: Credentials | None) -> str:
        realm = challenge.params["realm"]
        query: list[tuple[str, str]] = []
        if "service" in challenge.params:
            query.append(("service", challenge.params["service"]))
        for scope in self.scopes:
            query.append(("scope", scope))
        url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and self.scheme == "http"):
            raise StorageError(f"the registry {self.host} sends for tokens to {realm}, which is not HTTPS")
        if creds is not None and creds.refresh_token is not None:  # OAuth2: POST the refresh token
            form = [("grant_type", "refresh_token"), ("refresh_token", creds.refresh_token)]
            form += [("client_id", "gitreg"), *query]
            body = urlencode(form).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
            resp = self._send("POST", realm, headers, body, stream=False)
        else:
            headers = {"Authorization": creds.basic()} if creds is not None else {}
            resp = self._send("GET", url, headers, None, stream=False)
        if resp.status == 401:
            raise self._denied(resp)
        if resp.status != 200:
            raise HTTPError(resp.status, "GET", f"token from {parts.netloc}{parts.path}", resp.body)
        try:
            answer: Any = json.loads(resp.body)
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise StorageError(f"the token service of {self.host} ({realm}) answered without a token")
        return token

    def _denied(self, resp: Response) -> StorageError:
        creds = self.credentials()
        which = f"with the credentials from {creds.source}" if creds else "without credentials"
        return StorageError(
            f"the registry {self.host} refused access to {self.repository} {which} (HTTP {resp.status})",
            LOGIN_HINT,
        )

    # --- the API ----------------------------------------------------------------------------------------

    def v2(self, rest: str) -> str:
        return f"/v2/{self.repository}/{rest}"

    def blob_size(self, digest: str) -> int | None:
        resp = self.request("HEAD", self.v2(f"blobs/{digest}"), ok=(200, 404))
        if resp.status == 404:
            return None
        return int(resp.headers.get("content-length", "0"))

    def open_blob(self, digest: str, offset: int = 0) -> Response:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        return self.request("GET", self.v2(f"blobs/{digest}"), headers=headers, stream=True, ok=(200, 206))

    def start_upload(self, mount: tuple[str, str] | None = None) -> tuple[str | None, str]:
        """Begin an upload session: (None, location) or, when ``mount`` (digest, from repository) could be
        mounted, (digest, "")."""
        query = "?" + urlencode({"mount": mount[0], "from": mount[1]}) if mount else ""
        resp = self.request("POST", self.v2(f"blobs/uploads/{query}"), body=b"", ok=(201, 202))
        if resp.status == 201:
            return (mount[0] if mount else None), ""
        return None, urljoin(self.base, resp.headers["location"])

    def patch(self, location: str, offset: int, data: bytes) -> str:
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(data) - 1}",
        }
        resp = self.request("PATCH", location, headers=headers, body=data, ok=(202,))
        return urljoin(location, resp.headers.get("location", location))

    def commit(self, location: str, digest: str, data: bytes = b"") -> None:
        url = location + ("&" if "?" in location else "?") + urlencode({"digest": digest})
        headers = {"Content-Type": "application/octet-stream"}
        self.request("PUT", url, headers=headers, body=data, ok=(201, 204))

    def cancel(self, location: str) -> None:
        self.request("DELETE", location, ok=(200, 202, 204, 404))

    def put_blob(self, digest: str, data: bytes) -> None:
        """A monolithic upload: POST, then PUT with the bytes and the digest."""
        _, location = self.start_upload()
        self.commit(location, digest, data)

    def delete_blob(self, digest: str) -> None:
        self.request("DELETE", self.v2(f"blobs/{digest}"), ok=(200, 202, 404))

    def put_manifest(self, reference: str, data: bytes, media_type: str = MANIFEST) -> str:
        """PUT the manifest. A registry can answer MANIFEST_BLOB_UNKNOWN for a blob it holds while another
        client's upload of the same bytes is linking it into the repository (distribution's filesystem
        driver rewrites the link in place), so that answer is asked again a few times before it stands."""
        for attempt in range(BLOB_UNKNOWN_ATTEMPTS):
            try:
                resp = self.request(
                    "PUT",
                    self.v2(f"manifests/{reference}"),
                    headers={"Content-Type": media_type},
                    body=data,
                    ok=(201,),
                )
            except HTTPError as exc:
                if exc.status != 400 or "MANIFEST_BLOB_UNKNOWN" not in str(exc):
                    raise
                if attempt == BLOB_UNKNOWN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
                continue
            return resp.headers.get("docker-content-digest", "")
        raise AssertionError("unreachable")  # pragma: no cover

    def get_manifest(self, reference: str) -> Response:
        """The manifest (status 200) or a 404 response."""
        accept = ", ".join(
            [
                MANIFEST,
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
            ]
        )
        resp = self.request(
            "GET", self.v2(f"manifests/{reference}"), headers={"Accept": accept}, stream=True, ok=(200, 404)
        )
        if resp.status == 404:
            return resp
        try:
            data = resp.stream.read(MAX_MANIFEST + 1) if resp.stream is not None else resp.body
        finally:
            resp.close()
        if len(data) > MAX_MANIFEST:
            raise StorageError(
                f"the manifest {self.host}/{self.repository}:{reference} is larger than 16 MiB"
            )
        return Response(200, resp.headers, data)

    def delete_manifest(self, digest: str) -> None:
        self.request("DELETE", self.v2(f"manifests/{digest}"), ok=(200, 202, 404))

    def tags(self) -> list[str]:
        found: list[str] = []
        path: str | None = self.v2("tags/list?n=1000")
        while path:
            resp = self.request("GET", path, ok=(200, 404))
            if resp.status == 404:
                return found  # a repository nothing was pushed to yet
            found += json.loads(resp.body).get("tags") or []
            link = resp.headers.get("link", "")
            path = (
                link[link.index("<") + 1 : link.index(">")] if "<" in link and 'rel="next"' in link else None
            )
        return found


__all__ = ["LOGIN_HINT", "MANIFEST", "Client", "HTTPError", "Response", "check_insecure"]
