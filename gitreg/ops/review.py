"""Evidence that a commit on main was reviewed: what a pusher cannot write.

A commit message is only a claim: anyone who can push to main can title a commit "... (#2)" or make a merge
locally with the message "Merge pull request #5 from org/x". The evidence is what only the forge writes:

- its pull-request refs, when the clone fetched them (GitHub's ``refs/pull/N/head`` and ``.../merge``,
  GitLab's ``refs/merge-requests/N/head``): the merge commit's second parent is the pull request's head, or
  the commit's tree is what merging that head gives (a squash or rebase);
- its API, when a token is given: GitHub's pull requests of a commit, GitLab's merge requests of a commit,
  merged as that very commit into the branch audited.

Refs show that what landed is exactly a pull request's content; only the API shows that the forge merged
it. Without either, a claimed pull request is ``unconfirmed``, never reviewed.

The forges' API client (``gitreg.forge``, which loads an HTTP client) is imported only when an API is asked
for: ``--forge`` given, or a token set. History and audit without one start without it."""

from __future__ import annotations

import os
import re

from gitreg.gitrepo import GitRepo
from gitreg.layout import PULL_REF_PREFIXES
from gitreg.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Protocol

    from gitreg.forge import GitHub, GitLab

    class Landed(Protocol):
        """What the evidence looks at of a commit on main (a ``gitreg.gitrepo.LogCommit``)."""

        commit: str
        parents: list[str]
        subject: str
        body: str


#: The forges whose API confirms review, and the variable that holds each one's token: ``gitreg.forge``'s
#: ``FORGES`` and its clients' ``token_var`` (tests/cli/test_audit_imports.py keeps them in step), here so
#: that choosing ``--forge`` and seeing that no token is set need no HTTP client.
TOKEN_VARIABLES = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
FORGES = tuple(TOKEN_VARIABLES)

#: confirmed: the forge's refs or API show it; unconfirmed: a message claims a pull request, nothing shows
#: it; refuted: the forge shows the claim false; none: no claim and no evidence (a direct push).
CONFIRMED, UNCONFIRMED, REFUTED, NONE = "confirmed", "unconfirmed", "refuted", "none"

#: How to give audit its evidence, for the reports.
HOW_TO_CONFIRM = (
    "Review is confirmed only by the forge: fetch its pull-request refs "
    "(git fetch origin '+refs/pull/*:refs/remotes/origin/pull/*', on GitLab "
    "'+refs/merge-requests/*:refs/remotes/origin/merge-requests/*') or set GITHUB_TOKEN or GITLAB_TOKEN."
)

_PULL_REF = re.compile(r"^refs/(?:remotes/origin/)?(pull|merge-requests)/([0-9]{1,18})/(head|merge)$")
_GITHUB_MERGE = re.compile(r"^Merge pull request #([0-9]{1,18}) from (\S+)")  # 18 digits: an int64
_GITLAB_MERGE = re.compile(r"See merge request (?:[\w./-]+)?!([0-9]{1,18})")
_SQUASH = re.compile(r"\(#([0-9]{1,18})\)\s*$")


class Review(Value):
    __match_args__ = ("status", "number")
    __slots__ = __match_args__
    status: str
    number: int | None  # the pull request: as the evidence shows it, else as the message claims it

    def __init__(self, status: str, number: int | None) -> None:
        self.status = status  # plain assignments: a walk asks one a commit
        self.number = number


def claimed_pull_request(landing: Landed) -> int | None:
    """The pull request the message claims (a forge's merge commit or squash title): a claim only, which
    the evidence confirms or not."""
    for pattern, text in (
        (_GITHUB_MERGE, landing.subject),
        (_GITLAB_MERGE, landing.body),
        (_SQUASH, landing.subject),
    ):
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


class Evidence:
    """No evidence: every claim is unconfirmed."""

    name = "none"

    def review(self, landing: Landed) -> Review:
        claim = claimed_pull_request(landing)
        return Review(UNCONFIRMED if claim is not None else NONE, claim)


class PullRefs(Evidence):
    """The forge's pull-request refs as fetched into the clone."""

    name = "pull-request refs"

    def __init__(self, repo: GitRepo, refs: dict[int, dict[str, str]]) -> None:
        self.repo = repo
        self.refs = refs  # number -> {"head": sha, "merge": sha}

    @classmethod
    def of(cls, repo: GitRepo) -> PullRefs | None:
        tips = repo.ref_tips(*PULL_REF_PREFIXES)
        refs: dict[int, dict[str, str]] = {}
        for name, sha in tips.items():
            if match := _PULL_REF.match(name):
                refs.setdefault(int(match.group(2)), {})[match.group(3)] = sha
        return cls(repo, refs) if refs else None

    def review(self, landing: Landed) -> Review:
        claim = claimed_pull_request(landing)
        heads = {landing.commit, *landing.parents[1:]}
        candidates = [claim] if claim is not None else []
        candidates += sorted(n for n, refs in self.refs.items() if refs.get("head") in heads and n != claim)
        for number in candidates:
            if number in self.refs and self._merges(landing, self.refs[number]):
                return Review(CONFIRMED, number)
        if claim is None:
            return Review(NONE, None)
        return Review(REFUTED if claim in self.refs else UNCONFIRMED, claim)

    def _merges(self, landing: Landed, refs: dict[str, str]) -> bool:
        """Whether ``landing`` is the pull request of ``refs`` merged: its head is the commit itself (a fast
        forward) or the merge's second parent, or the commit's tree is the head merged into the first parent
        (a squash or a rebase), or the forge's own merge of it."""
        head = refs.get("head")
        if head is not None and (head == landing.commit or landing.parents[1:2] == [head]):
            return True
        if len(landing.parents) != 1:
            return False
        tree = self._tree(landing.commit)
        if "merge" in refs and tree == self._tree(refs["merge"]):
            return True
        return head is not None and tree == self._merged_tree(landing.parents[0], head)

    def _tree(self, commit: str) -> str:
        return self.repo.tree_of(commit)

    def _merged_tree(self, base: str, head: str) -> str | None:
        return self.repo.merge_tree(base, head)  # None if it conflicts: not what was squashed


class ForgeApi(Evidence):
    """The forge's REST API: the merged pull (merge) requests whose merge made the commit."""

    def __init__(self, client: GitHub | GitLab, branch: str | None) -> None:
        self.client = client
        self.branch = branch
        self.name = f"{client.name} API"

    def review(self, landing: Landed) -> Review:
        import urllib.parse  # noqa: PLC0415

        from gitreg import forge  # noqa: PLC0415 - loaded already: the client was made by it

        claim = claimed_pull_request(landing)
        sha = landing.commit
        if isinstance(self.client, forge.GitHub):
            url = f"{self.client.api}/repos/{self.client.repo.path}/commits/{sha}/pulls"
            for pull in self.client.get_all(url):
                base = pull.get("base")
                into = self._into(base.get("ref") if isinstance(base, dict) else None)
                number = _number(pull.get("number"))
                if pull.get("merged_at") and pull.get("merge_commit_sha") == sha and into and number:
                    return Review(CONFIRMED, number)
        else:
            project = urllib.parse.quote(self.client.repo.path, safe="")
            url = f"{self.client.api}/projects/{project}/repository/commits/{sha}/merge_requests"
            for request in self.client.get_all(url):
                made = sha in (request.get("merge_commit_sha"), request.get("squash_commit_sha"))
                fast_forward = request.get("merge_commit_sha") is None and request.get("sha") == sha
                merged = request.get("state") == "merged" and self._into(request.get("target_branch"))
                number = _number(request.get("iid"))
                if merged and (made or fast_forward) and number:
                    return Review(CONFIRMED, number)
        return Review(REFUTED if claim is not None else NONE, claim)

    def _into(self, branch: object) -> bool:
        return self.branch is None or branch == self.branch


def _number(value: object) -> int | None:
    """A pull (merge) request's number as the forge's JSON gives it, or None if it is not one."""
    return value if type(value) is int and 0 < value < 2**63 else None


def evidence(repo: GitRepo, ref: str, forge_name: str | None = None) -> Evidence:
    """The best evidence at hand for ``ref``'s history: the forge's API if its token is set (GitHub's
    ``GITHUB_TOKEN``, GitLab's ``GITLAB_TOKEN``), else the fetched pull-request refs, else none. Without
    ``forge_name`` or a token no forge's API can be used: neither the remote nor the forges are looked at."""
    if forge_name is not None or any(os.environ.get(v) for v in TOKEN_VARIABLES.values()):
        from gitreg import forge  # noqa: PLC0415 - an API may be used: only then the HTTP client

        remote_url = repo.remote_url("origin")
        name = forge.detect(remote_url, forge_name)
        if name is not None and remote_url is not None:
            client = forge.client(name, remote_url)
            if client.token:
                return ForgeApi(client, _branch_name(ref))
    return PullRefs.of(repo) or Evidence()


def _branch_name(ref: str) -> str | None:
    for prefix in ("refs/remotes/origin/", "origin/", "refs/heads/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return None if "/" in ref or ref == "HEAD" or re.fullmatch(r"[0-9a-f]{7,40}", ref) else ref
