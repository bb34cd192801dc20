"""Opening pull requests through a forge's REST API: GitHub (``GITHUB_TOKEN``, ``GITHUB_API_URL``) and
GitLab (``GITLAB_TOKEN``, ``CI_API_V4_URL``). Without a token, the URL where a person opens it by hand.

The standard library's HTTP client is enough for the few JSON calls made here; errors become one line
that says what the forge answered (401, 403, 422 with its own message)."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from gitreg.errors import ForgeError, UsageError

FORGES = ("github", "gitlab")
_TIMEOUT = 30
#: The most pages of one list gitreg follows (a page holds up to 100 items on both forges).
MAX_PAGES = 1000


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    existed: bool = False


@dataclass(frozen=True)
class RemoteRepo:
    """Where a repository lives on a forge: web host and path (``owner/name``, ``group/sub/name``)."""

    host: str
    path: str

    @classmethod
    def parse(cls, url: str) -> RemoteRepo | None:
        ssh = re.match(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*?)(?:\.git)?/?$", url)
        if "://" not in url and ssh:
            return cls(ssh["host"], ssh["path"])
        parsed = urllib.parse.urlparse(url)
        path = parsed.path.strip("/").removesuffix(".git")
        if not path or "/" not in path:
            return None
        if parsed.scheme in ("file", ""):  # a local remote: its last two folders stand for owner/name
            path = "/".join(path.split("/")[-2:])
        return cls(parsed.hostname or "", path)


def detect(remote_url: str | None, forced: str | None) -> str | None:
    """Which forge a remote is on: ``--forge`` if given, else from the URL's host."""
    if forced:
        if forced not in FORGES:
            raise UsageError(f"forge={forced!r}: choose github or gitlab", argument="forge")
        return forced
    repo = RemoteRepo.parse(remote_url) if remote_url else None
    if repo is None:
        return None
    if "github" in repo.host:
        return "github"
    if "gitlab" in repo.host:
        return "gitlab"
    return None


class _Client:
    name = ""

    def __init__(self, api: str, token: str | None, repo: RemoteRepo) -> None:
        self.api = api.rstrip("/")
        self.token = token
        self.repo = repo

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def request(
        self, method: str, url: str, body: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": "gitreg", **self._headers()}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - https/http only
        if not url.startswith(("https://", "http://")):
            raise UsageError(f"{self.name} API URL {url!r} is not http(s)")
        try:
            with urllib.request.urlopen(req, timeout=_TIMEOUT) as resp:  # noqa: S310 - checked above
                payload = resp.read()
                return (json.loads(payload) if payload else None), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            raise ForgeError(
                f"{self.name} answered {exc.code}: {self._error_text(exc)}", self._hint(exc.code)
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ForgeError(f"cannot reach {self.name} at {self.api}: {reason}") from None

    def get_all(self, url: str) -> list[Any]:
        """Every item of a paginated list, following the Link header's rel="next"."""
        items: list[Any] = []
        next_url: str | None = url
        seen: set[str] = set()
        while next_url:
            if next_url in seen or len(seen) >= MAX_PAGES:  # a Link header that loops, or no end
                raise ForgeError(f"{self.name} kept paginating {url}", "try again later")
            seen.add(next_url)
            page, headers = self.request("GET", next_url)
            if not isinstance(page, list):
                raise ForgeError(f"{self.name} answered {next_url} with something that is not a list")
            items += [item for item in page if isinstance(item, dict)]
            next_url = _next_link(headers.get("Link") or headers.get("link") or "")
        return items

    @staticmethod
    def _error_text(exc: urllib.error.HTTPError) -> str:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.reason or "error"
        return _message(body) or str(exc.reason)

    def _hint(self, code: int) -> str | None:
        if code == 401:
            return f"check the token in {self.token_var}"
        if code == 403:
            return f"the token in {self.token_var} lacks permission to open pull requests in {self.repo.path}"
        if code == 404:
            return f"check that {self.repo.path} exists and the token can see it"
        return None

    token_var = ""


def _message(body: Any) -> str:
    if isinstance(body, dict):
        parts = []
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, list):
                parts += [str(v) for v in value]
            elif isinstance(value, dict):  # GitLab's field errors: {"source_branch": ["is invalid"]}
                for name, problems in value.items():
                    texts = problems if isinstance(problems, list) else [problems]
                    parts += [f"{name} {text}" for text in texts]
            elif value:
                parts.append(str(value))
        for err in body.get("errors", []) or []:
            text = err.get("message") if isinstance(err, dict) else str(err)
            if text:
                parts.append(str(text))
        return "; ".join(parts)
    return str(body)


def _next_link(link: str) -> str | None:
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


class GitHub(_Client):
    name = "GitHub"
    token_var = "GITHUB_TOKEN"  # noqa: S105 - the name of the variable, not a secret

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def open(self, head: str, base: str, title: str, body: str) -> PullRequest:
        url = f"{self.api}/repos/{self.repo.path}/pulls"
        try:
            data, _ = self.request("POST", url, {"title": title, "head": head, "base": base, "body": body})
        except ForgeError as exc:
            existing = self._existing(head, base) if "already exists" in exc.message else None
            if existing is None:
                raise
            return existing
        return PullRequest(int(data["number"]), str(data["html_url"]))

    def _existing(self, head: str, base: str) -> PullRequest | None:
        owner = self.repo.path.split("/")[0]
        query = urllib.parse.urlencode(
            {"head": f"{owner}:{head}", "base": base, "state": "open", "per_page": 100}
        )
        for item in self.get_all(f"{self.api}/repos/{self.repo.path}/pulls?{query}"):
            return PullRequest(int(item["number"]), str(item["html_url"]), existed=True)
        return None

    def manual_url(self, head: str, base: str) -> str:
        host = self.repo.host or "github.com"
        return (
            f"https://{host}/{self.repo.path}/compare/{base}...{urllib.parse.quote(head, safe='/')}?expand=1"
        )


class GitLab(_Client):
    name = "GitLab"
    token_var = "GITLAB_TOKEN"  # noqa: S105 - the name of the variable, not a secret

    def _headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token} if self.token else {}

    def _project(self) -> str:
        return f"{self.api}/projects/{urllib.parse.quote(self.repo.path, safe='')}"

    def open(self, head: str, base: str, title: str, body: str) -> PullRequest:
        payload = {"source_branch": head, "target_branch": base, "title": title, "description": body}
        try:
            data, _ = self.request("POST", f"{self._project()}/merge_requests", payload)
        except ForgeError as exc:
            existing = self._existing(head, base) if "already exists" in exc.message else None
            if existing is None:
                raise
            return existing
        return PullRequest(int(data["iid"]), str(data["web_url"]))

    def _existing(self, head: str, base: str) -> PullRequest | None:
        query = urllib.parse.urlencode(
            {"source_branch": head, "target_branch": base, "state": "opened", "per_page": 100}
        )
        for item in self.get_all(f"{self._project()}/merge_requests?{query}"):
            return PullRequest(int(item["iid"]), str(item["web_url"]), existed=True)
        return None

    def manual_url(self, head: str, base: str) -> str:
        host = self.repo.host or "gitlab.com"
        query = urllib.parse.urlencode(
            {"merge_request[source_branch]": head, "merge_request[target_branch]": base}
        )
        return f"https://{host}/{self.repo.path}/-/merge_requests/new?{query}"


def client(forge: str, remote_url: str) -> GitHub | GitLab:
    repo = RemoteRepo.parse(remote_url)
    if repo is None:
        raise UsageError(f"cannot tell the repository's path from the remote URL {remote_url!r}")
    if forge == "github":
        if slug := os.environ.get("GITHUB_REPOSITORY"):
            repo = RemoteRepo(repo.host, slug)
        return GitHub(
            os.environ.get("GITHUB_API_URL") or "https://api.github.com", os.environ.get("GITHUB_TOKEN"), repo
        )
    host = repo.host or "gitlab.com"
    if slug := os.environ.get("CI_PROJECT_PATH"):
        repo = RemoteRepo(repo.host, slug)
    return GitLab(
        os.environ.get("CI_API_V4_URL") or f"https://{host}/api/v4", os.environ.get("GITLAB_TOKEN"), repo
    )
