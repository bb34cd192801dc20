"""A forge for tests: the git side is real (a bare repository served over file://, pull requests merged in
it the way GitHub and GitLab merge them), and the REST side is a local HTTP server in a thread that speaks
the parts of GitHub's and GitLab's APIs gitreg calls. There is no local GitHub, so that server is the one
fake the tests allow; it answers with the forges' real status codes, headers and error bodies, and records
every request so a test can assert what a client sent.

Endpoints (GitHub's also under the ``/api/v3`` prefix of GitHub Enterprise):

- ``POST /repos/{owner}/{repo}/pulls`` and ``GET /repos/{owner}/{repo}/pulls?head=&base=&state=``
  (the next-page links point at ``/repositories/{id}/pulls``, as GitHub's do);
- ``POST /api/v4/projects/{id}/merge_requests`` and ``GET .../merge_requests?source_branch=&state=``
  (``{id}`` is the URL-encoded path, ``group%2Freg``, or the numeric id the next-page links use).

Lists are paginated with ``per_page`` and ``page`` and a ``Link`` header (prev, next, last, first).

Also here, for the tests of promotion and history: ``Forge`` (the bare repository and its merges),
``make_team`` (a registry on it with Alice's and Bob's clones and a few versions) and ``land_history``
(stage changes landed through GitHub and GitLab merges, a squash merge and direct pushes)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from testing import git, run, write_bytes

GITHUB_ERRORS: dict[int, dict[str, Any]] = {
    401: {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"},
    403: {
        "message": "Resource not accessible by personal access token",
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        "status": "403",
    },
}
GITLAB_ERRORS: dict[int, dict[str, Any]] = {
    401: {"message": "401 Unauthorized"},
    403: {"message": "403 Forbidden"},
}
GITHUB_REPO_ID = 1296269
GITLAB_PROJECT_ID = 42


def github_exists(head_label: str) -> dict[str, Any]:
    """GitHub's answer (422) to a second pull request for the same head and base."""
    return {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"A pull request already exists for {head_label}.",
            }
        ],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        "status": "422",
    }


def gitlab_exists(iid: int) -> dict[str, Any]:
    """GitLab's answer (409) to a second merge request from the same source branch."""
    return {"message": [f"Another open merge request already exists for this source branch: !{iid}"]}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, percent-encoding kept
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any  # the JSON body, or None


@dataclass
class ForgeServer:
    """GitHub's and GitLab's pull-request endpoints on 127.0.0.1. ``token`` is the one credential they
    accept; ``git_dir``, if set, is the bare repository whose branches a new pull request's head must name
    (as on a real forge, a pull request of a branch that was not pushed is refused)."""

    token: str = "s3cret-token"  # noqa: S105 - the fake forge's one credential, made up for tests
    git_dir: Path | None = None
    github_owner: str = "owner"
    requests: list[Request] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    merge_requests: list[dict[str, Any]] = field(default_factory=list)
    refusal: tuple[int, Any] | None = None  # every POST answered with this (status, JSON body)
    next_number: int = 1
    url: str = ""

    def refuse(self, status: int, body: Any = None) -> None:
        """Answer every following POST with ``status`` and ``body`` (default: the forge's own body)."""
        self.refusal = (status, body)

    def add_pull(self, head: str, base: str = "main", state: str = "open", owner: str | None = None) -> int:
        number = self.next_number
        self.next_number += 1
        label = f"{owner or self.github_owner}:{head}"
        self.pulls.append(
            {
                "number": number,
                "html_url": f"https://github.com/{self.github_owner}/reg/pull/{number}",
                "state": state,
                "title": f"pull request {number}",
                "body": "",
                "head": {"ref": head, "label": label},
                "base": {"ref": base},
            }
        )
        return number

    def add_merge_request(self, source: str, target: str = "main", state: str = "opened") -> int:
        iid = self.next_number
        self.next_number += 1
        self.merge_requests.append(
            {
                "id": 1000 + iid,
                "iid": iid,
                "project_id": GITLAB_PROJECT_ID,
                "title": f"merge request {iid}",
                "description": "",
                "state": state,
                "source_branch": source,
                "target_branch": target,
                "web_url": f"https://gitlab.example.com/group/reg/-/merge_requests/{iid}",
            }
        )
        return iid

    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    # --- serving ---------------------------------------------------------------------------------------

    def add_merged_pull(self, head: str, head_sha: str, merge_commit: str, base: str = "main") -> int:
        """A GitHub pull request of ``head`` (at ``head_sha``) merged as ``merge_commit`` into ``base``."""
        number = self.add_pull(head, base, state="closed")
        self.pulls[-1]["head"]["sha"] = head_sha
        self.pulls[-1].update(merged_at="2026-01-05T10:00:00Z", merge_commit_sha=merge_commit)
        return number

    def add_merged_merge_request(
        self, source: str, head_sha: str, commit: str, squash: bool = False, target: str = "main"
    ) -> int:
        """A GitLab merge request of ``source`` (at ``head_sha``) merged as ``commit`` (a squash, or a
        merge commit) into ``target``."""
        iid = self.add_merge_request(source, target, state="merged")
        self.merge_requests[-1].update(
            sha=head_sha,
            merge_commit_sha=None if squash else commit,
            squash_commit_sha=commit if squash else None,
        )
        return iid

    def handle(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        path = urllib.parse.unquote(req.path)
        if match := re.fullmatch(r"(?:/api/v3)?/repos/[^/]+/[^/]+/commits/([0-9a-f]{40})/pulls", path):
            return self._github_commit_pulls(req, match.group(1))
        if match := re.fullmatch(
            r"/api/v4/projects/(.+)/repository/commits/([0-9a-f]{40})/merge_requests", path
        ):
            return self._gitlab_commit_merge_requests(req, match.group(2))
        if match := re.fullmatch(r"(?:/api/v3)?/(?:repos/([^/]+)/([^/]+)|repositories/\d+)/pulls", path):
            return self._github(req, match.group(1) or self.github_owner)
        if match := re.fullmatch(r"/api/v4/projects/(.+)/merge_requests", path):
            return self._gitlab(req)
        return 404, {"message": "Not Found"}, {}

    def _github(self, req: Request, owner: str) -> tuple[int, Any, dict[str, str]]:
        auth = req.headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, GITHUB_ERRORS[401], {}
        if req.method == "GET":
            items = [
                p
                for p in self.pulls
                if req.query.get("state", "open") in (p["state"], "all")
                and req.query.get("head", p["head"]["label"]) == p["head"]["label"]
                and req.query.get("base", p["base"]["ref"]) == p["base"]["ref"]
            ]
            return self._page(req, items, f"/repositories/{GITHUB_REPO_ID}/pulls")
        body = req.body or {}
        label = f"{owner}:{body.get('head')}"
        if self.refusal is not None:
            status, error = self.refusal
            return status, error if error is not None else GITHUB_ERRORS.get(status, github_exists(label)), {}
        missing = [k for k in ("title", "head", "base") if not body.get(k)]
        if missing:
            return (
                422,
                {"message": "Validation Failed", "errors": [{"field": missing[0], "code": "missing"}]},
                {},
            )
        if self.git_dir is not None and not _has_branch(self.git_dir, str(body["head"])):
            error = {"resource": "PullRequest", "field": "head", "code": "invalid"}
            return 422, {"message": "Validation Failed", "errors": [error]}, {}
        for pull in self.pulls:
            if (
                pull["state"] == "open"
                and pull["head"]["label"] == label
                and pull["base"]["ref"] == body["base"]
            ):
                return 422, github_exists(label), {}
        self.add_pull(str(body["head"]), str(body["base"]), owner=owner)
        self.pulls[-1].update(title=body["title"], body=body.get("body", ""))
        return 201, self.pulls[-1], {"Location": self.pulls[-1]["html_url"]}

    def _github_commit_pulls(self, req: Request, sha: str) -> tuple[int, Any, dict[str, str]]:
        """GitHub's "list pull requests associated with a commit": those merged as it or whose head it is."""
        auth = req.headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, GITHUB_ERRORS[401], {}
        items = [p for p in self.pulls if sha in (p.get("merge_commit_sha"), p["head"].get("sha"))]
        return 200, items, {}

    def _gitlab_commit_merge_requests(self, req: Request, sha: str) -> tuple[int, Any, dict[str, str]]:
        """GitLab's "merge requests associated with a commit"."""
        if req.headers.get("private-token") != self.token:
            return 401, GITLAB_ERRORS[401], {}
        keys = ("sha", "merge_commit_sha", "squash_commit_sha")
        return 200, [m for m in self.merge_requests if sha in (m.get(k) for k in keys)], {}

    def _gitlab(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if req.headers.get("private-token") != self.token:
            return 401, GITLAB_ERRORS[401], {}
        if req.method == "GET":
            items = [
                m
                for m in self.merge_requests
                if req.query.get("state", m["state"]) in (m["state"], "all")
                and req.query.get("source_branch", m["source_branch"]) == m["source_branch"]
                and req.query.get("target_branch", m["target_branch"]) == m["target_branch"]
            ]
            return self._page(req, items, f"/api/v4/projects/{GITLAB_PROJECT_ID}/merge_requests")
        body = req.body or {}
        if self.refusal is not None:
            status, error = self.refusal
            return status, error if error is not None else GITLAB_ERRORS.get(status, gitlab_exists(1)), {}
        if self.git_dir is not None and not _has_branch(self.git_dir, str(body.get("source_branch"))):
            return 400, {"message": {"source_branch": ["is invalid"]}}, {}
        for mr in self.merge_requests:
            if mr["state"] == "opened" and mr["source_branch"] == body.get("source_branch"):
                return 409, gitlab_exists(mr["iid"]), {}
        self.add_merge_request(str(body["source_branch"]), str(body["target_branch"]))
        self.merge_requests[-1].update(title=body["title"], description=body.get("description", ""))
        return 201, self.merge_requests[-1], {}

    def _page(self, req: Request, items: list[Any], link_path: str) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(req.query.get("per_page", "30")), 100)
        page = int(req.query.get("page", "1"))
        last = max(1, -(-len(items) // per_page))
        links = []

        def link(number: int, rel: str) -> str:
            query = urllib.parse.urlencode({**req.query, "page": number})
            return f'<{self.url}{link_path}?{query}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * per_page : page * per_page], headers


def _has_branch(git_dir: Path, branch: str) -> bool:
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=git_dir,
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


def _handler(forge: ForgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            req = Request(
                self.command,
                path,
                dict(urllib.parse.parse_qsl(query)),
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
            )
            forge.requests.append(req)
            status, body, headers = forge.handle(req)
            raw_body = isinstance(body, bytes)  # a proxy's HTML error page, say
            payload = body if raw_body else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if raw_body else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve  # the names http.server dispatches to

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(server: ForgeServer) -> Iterator[ForgeServer]:
    """Serve ``server`` on a free port of 127.0.0.1 until the block ends; its ``url`` is set meanwhile."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # serve_forever notices shutdown() once per poll_interval: its default, half a second, was spent in the
    # teardown of every test that started a forge
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# --- the git side ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


ALICE = User("Alice Archer", "alice@example.com")
BOB = User("Bob Baker", "bob@example.com")
CAROL = User("Carol Clerk", "carol@example.com")  # the reviewer who merges
GITHUB_BOT = User("GitHub", "noreply@github.com")


class MergeConflictError(Exception):
    """The forge cannot merge the branch: it conflicts with main."""


def git_as(user: User, cwd: Path, *args: str, date: str | None = None) -> str:
    """Run git as ``user`` (author and committer), optionally at ``date``."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": user.name,
        "GIT_AUTHOR_EMAIL": user.email,
        "GIT_COMMITTER_NAME": user.name,
        "GIT_COMMITTER_EMAIL": user.email,
    }
    if date is not None:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    out = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return out.stdout


class Forge:
    """A bare repository at ``root/owner/reg.git``, as a forge hosts it: users clone it and push branches;
    pull requests are merged inside it as GitHub (merge commit, or squash) and GitLab (merge commit) do."""

    def __init__(self, root: Path, slug: str = "owner/reg") -> None:
        self.slug = slug
        self.bare = root / f"{slug}.git"
        self.merges: dict[int, tuple[str, str]] = {}  # pull request -> (its head, its commit on main)
        self.bare.parent.mkdir(parents=True)
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def publish(self, checkout: Path, user: User) -> None:
        """Make ``checkout`` (a registry with commits) the first clone: origin is the forge, main pushed."""
        configure(checkout, user)
        git(checkout, "remote", "add", "origin", self.url)
        git(checkout, "push", "--quiet", "--set-upstream", "origin", "main")

    def clone(self, dest: Path, user: User) -> Path:
        git(dest.parent, "clone", "--quiet", self.url, str(dest))
        configure(dest, user)
        return dest

    def rev(self, ref: str) -> str | None:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=self.bare,
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout.strip() or None

    def branches(self) -> list[str]:
        out = git(self.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
        return sorted(out.split())

    def show(self, ref: str, path: str) -> str:
        return git(self.bare, "show", f"{ref}:{path}")

    def reject_pushes(self, reason: str) -> None:
        """Install a pre-receive hook that refuses every push, saying ``reason``."""
        hook = self.bare / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\necho '{reason}' >&2\nexit 1\n")
        hook.chmod(0o755)

    def merge(
        self, branch: str, number: int, by: User, style: str = "github", date: str | None = None
    ) -> str:
        """Merge pull request ``number`` (the pushed ``branch``) into main, as ``by``; return the commit.

        ``github``: "Merge pull request #N from owner/branch", authored by the merger, committed by GitHub.
        ``gitlab``: "Merge branch 'b' into 'main'" with "See merge request group/reg!N" in the body.
        ``squash``: one commit "<title> (#N)" on main, authored by the branch's author, committed by GitHub.
        Raises MergeConflictError if the branch does not merge cleanly."""
        main, tip = self.rev("refs/heads/main"), self.rev(f"refs/heads/{branch}")
        assert main is not None and tip is not None, f"cannot merge {branch} into main: not both on the forge"
        merged = subprocess.run(
            ["git", "merge-tree", "--write-tree", main, tip],
            cwd=self.bare,
            capture_output=True,
            text=True,
            check=False,
        )
        if merged.returncode == 1:
            raise MergeConflictError(f"{branch} conflicts with main:\n{merged.stdout}")
        merged.check_returncode()
        tree = merged.stdout.split()[0]
        title = git(self.bare, "log", "-1", "--format=%s", tip).strip()
        owner, _, _ = self.slug.partition("/")
        if style == "github":
            parents = ["-p", main, "-p", tip]
            message = f"Merge pull request #{number} from {owner}/{branch}\n\n{title}"
            author, committer = by, GITHUB_BOT
        elif style == "gitlab":
            parents = ["-p", main, "-p", tip]
            message = (
                f"Merge branch '{branch}' into 'main'\n\n{title}\n\nSee merge request {self.slug}!{number}"
            )
            author, committer = by, by
        elif style == "squash":
            parents = ["-p", main]
            message = f"{title} (#{number})\n\n* {title}"
            name, email = git(self.bare, "log", "-1", "--format=%an%x00%ae", tip).strip().split("\0")
            author, committer = User(name, email), GITHUB_BOT
        else:
            raise ValueError(f"unknown merge style {style!r}")
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
        }
        if date is not None:
            env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        commit = subprocess.run(
            ["git", "commit-tree", tree, *parents, "-m", message],
            cwd=self.bare,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        git(self.bare, "update-ref", "refs/heads/main", commit, main)
        self.open_pull(branch, number, "gitlab" if style == "gitlab" else "github", base=main)
        self.merges[number] = (tip, commit)
        return commit

    def open_pull(self, branch: str, number: int, forge: str = "github", base: str | None = None) -> None:
        """Write the refs a forge keeps for pull request ``number`` of ``branch``: GitHub's
        ``refs/pull/N/head`` and ``refs/pull/N/merge`` (the branch merged into main), GitLab's
        ``refs/merge-requests/N/head``. No one can push these refs on a real forge."""
        tip = self.rev(f"refs/heads/{branch}")
        assert tip is not None, f"{branch} is not on the forge"
        if forge == "gitlab":
            git(self.bare, "update-ref", f"refs/merge-requests/{number}/head", tip)
            return
        git(self.bare, "update-ref", f"refs/pull/{number}/head", tip)
        main = base or self.rev("refs/heads/main")
        tree = git(self.bare, "merge-tree", "--write-tree", str(main), tip).split()[0]
        env = {**os.environ, "GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.com"}
        env.update(GIT_COMMITTER_NAME="GitHub", GIT_COMMITTER_EMAIL="noreply@github.com")
        test_merge = subprocess.run(
            ["git", "commit-tree", tree, "-p", str(main), "-p", tip, "-m", f"Merge {tip} into {main}"],
            cwd=self.bare,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        git(self.bare, "update-ref", f"refs/pull/{number}/merge", test_merge)


def configure(checkout: Path, user: User) -> None:
    git(checkout, "config", "user.name", user.name)
    git(checkout, "config", "user.email", user.email)


# --- a registry hosted on the forge, with two users ------------------------------------------------------

CODE_COMMIT = "1b2c3d4e5f60718293a4b5c6d7e8f90123456789"
#: What production's policy (from the template) asks of a version: a description and a code commit.
READY = ("--description", "Retrained on November data", "--code-commit", CODE_COMMIT)


@dataclass
class Team:
    """The ``registry`` fixture published on a forge as Alice's clone, and Bob's clone of it."""

    forge: Forge
    alice: Path
    bob: Path
    work: Path

    def register(self, checkout: Path, model: str, seed: int, *options: str, push: bool = True) -> str:
        """``gitreg register`` a new version in ``checkout`` (artifact ``<model>-<seed>.bin`` of 200 + seed
        bytes) and push main; the ref it printed."""
        art = write_bytes(self.work / "artifacts" / f"{model}-{seed}.bin", 200 + seed, seed)
        result = run("register", model, art, *options, cwd=checkout)
        assert result.exit_code == 0, result.stderr
        if push:
            git(checkout, "push", "--quiet", "origin", "main")
        return result.stdout.strip()

    def commit(
        self, checkout: Path, files: dict[str, str], message: str, push: bool = True, date: str | None = None
    ) -> str:
        """Write ``files``, commit them on the checked-out branch (as the checkout's user, at ``date``) and
        push it: a direct push to main."""
        for path, text in files.items():
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            (checkout / path).write_text(text)
        git(checkout, "add", "--all")
        env = {**os.environ, **({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {})}
        subprocess.run(["git", "commit", "--quiet", "-m", message], cwd=checkout, env=env, check=True)
        if push:
            git(checkout, "push", "--quiet", "origin", "HEAD")
        return git(checkout, "rev-parse", "HEAD").strip()

    def pull(self, checkout: Path) -> None:
        git(checkout, "pull", "--quiet", "--ff-only", "origin", "main")


STAGING = "# What the staging cluster serves.\nchurn: 1\n\n# fraud is retrained every week\nfraud: 1\n"
FRAUD_1 = (
    *READY,
    "--metric",
    "auc=0.85",
    "--metric",
    "f1=0.7",
    "--code-repo",
    "https://git.example.com/risk/train.git",
    "--code-path",
    "train.py",
    "--data",
    "s3://datasets/fraud/2026-10@sha256:" + "ab" * 32,
    "--run-id",
    "run-8812",
    "--run-url",
    "https://mlflow.example.com/runs/8812",
)
FRAUD_2 = (
    "--description",
    "Retrained on December data",
    "--code-commit",
    CODE_COMMIT,
    "--code-repo",
    "https://git.example.com/risk/train.git",
    "--metric",
    "auc=0.91",
    "--metric",
    "f1=0.72",
    "--metric",
    "latency_ms=12",
    "--parent",
    "1",
)


def make_team(registry: Path, tmp_path: Path) -> Team:
    """fraud@1 and fraud@2 (both ready for production), fraud@3 (no description), churn@1 (ready); the
    staging file (``STAGING``, with comments) holds churn@1 and fraud@1. Everything is on the forge's main;
    Alice's clone is the ``registry`` fixture, Bob's is up to date."""
    forge = Forge(tmp_path / "forge")
    forge.publish(registry, ALICE)
    team = Team(forge, registry, tmp_path / "bob", tmp_path)
    team.register(team.alice, "fraud", 1, *FRAUD_1, push=False)
    team.register(team.alice, "fraud", 2, *FRAUD_2, push=False)
    team.register(team.alice, "fraud", 3, "--metric", "auc=0.95", push=False)
    team.register(team.alice, "churn", 4, *READY, push=False)
    team.commit(team.alice, {"stages/staging.yaml": STAGING}, "Stage churn@1 and fraud@1", date=SETUP_DATE)
    forge.clone(team.bob, BOB)
    for checkout in (team.alice, team.bob):
        fetch_pull_refs(checkout)
    return team


#: What a clone adds to fetch the refs a forge keeps for its pull requests (review evidence for audit).
PULL_REFSPECS = (
    "+refs/pull/*:refs/remotes/origin/pull/*",
    "+refs/merge-requests/*:refs/remotes/origin/merge-requests/*",
)


def fetch_pull_refs(checkout: Path) -> None:
    """Make every ``git fetch origin`` in ``checkout`` also fetch the forge's pull-request refs."""
    for spec in PULL_REFSPECS:
        git(checkout, "config", "--add", "remote.origin.fetch", spec)


# --- a history of stage changes, landed every way they land -----------------------------------------------

SETUP_DATE = "2026-01-01T09:00:00+00:00"
DATES = {
    "github": "2026-01-05T10:00:00+00:00",
    "gitlab": "2026-01-12T10:00:00+00:00",
    "squash": "2026-01-19T10:00:00+00:00",
    "direct": "2026-01-26T10:00:00+00:00",
    "invalid": "2026-02-02T10:00:00+00:00",
    "rollback": "2026-02-09T10:00:00+00:00",
}


def propose_and_merge(
    team: Team, checkout: Path, args: tuple[str, ...], number: int, style: str, date: str, by: User = CAROL
) -> str:
    """Run ``gitreg ARGS --push`` in ``checkout`` and merge the branch it pushed; the commit on main."""
    result = run(*args, "--push", cwd=checkout)
    assert result.exit_code == 0, result.stderr
    return team.forge.merge(result.stdout.split()[1], number, by, style, date)


def direct_push(
    team: Team, checkout: Path, user: User, files: dict[str, str], message: str, date: str
) -> str:
    """Commit ``files`` on main as ``user`` at ``date`` and push it straight to the forge's main."""
    team.pull(checkout)
    for path, text in files.items():
        (checkout / path).write_text(text)
    git_as(user, checkout, "commit", "--quiet", "--all", "-m", message, date=date)
    git(checkout, "push", "--quiet", "origin", "main")
    return git(checkout, "rev-parse", "HEAD").strip()


def land_history(team: Team) -> dict[str, str]:
    """On top of ``make_team``'s setup (a direct push of staging: churn@1, fraud@1), the commits on main:

    - ``github``: Alice's promotion of fraud@1 to production, merged by Carol as GitHub pull request #12;
    - ``gitlab``: Bob's promotion of fraud@2 to staging, merged by Carol as GitLab merge request !7;
    - ``squash``: Alice's promotion of fraud@2 to production, squash-merged on GitHub as #13;
    - ``direct``: Bob pushes staging back to fraud@1 straight to main (valid, but unreviewed);
    - ``invalid``: Bob pushes fraud@3 (no description, never in staging) into production straight to main;
    - ``rollback``: Alice's rollback of production (to fraud@2), merged by Carol as GitHub pull request #14.

    Returns {name: commit on main}, ``setup`` included."""
    landed = {"setup": team.forge.rev("main~0") or ""}
    landed["github"] = propose_and_merge(
        team, team.alice, ("promote", "fraud@1", "--to", "production"), 12, "github", DATES["github"]
    )
    team.pull(team.bob)
    landed["gitlab"] = propose_and_merge(
        team, team.bob, ("promote", "fraud@2", "--to", "staging"), 7, "gitlab", DATES["gitlab"]
    )
    landed["squash"] = propose_and_merge(
        team, team.alice, ("promote", "fraud@2", "--to", "production"), 13, "squash", DATES["squash"]
    )
    landed["direct"] = direct_push(
        team, team.bob, BOB, {"stages/staging.yaml": STAGING}, "Put fraud@1 back in staging", DATES["direct"]
    )
    landed["invalid"] = direct_push(
        team, team.bob, BOB, {"stages/production.yaml": "fraud: 3\n"}, "Hotfix: fraud@3", DATES["invalid"]
    )
    landed["rollback"] = propose_and_merge(
        team, team.alice, ("rollback", "fraud", "--stage", "production"), 14, "github", DATES["rollback"]
    )
    for checkout in (team.alice, team.bob):
        team.pull(checkout)
        git(checkout, "fetch", "--quiet", "origin")
    return landed
