"""Where a controller's desired state comes from: one branch of a registry repository, asked about with
``git ls-remote`` and fetched shallowly (depth 1, that branch only) into a bare cache repository."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gitreg.credentials import redact_url
from gitreg.errors import GitError, GitregError
from gitreg.gitrepo import GitRepo, Signature, ls_remote

T = TypeVar("T")
FETCHED_REF = "refs/gitreg/controller"
Counter = Callable[[str, bool], None]


class Source:
    def __init__(self, url: str, branch: str, cache: Path, timeout: float, count: Counter) -> None:
        self.url = url
        self.branch = branch
        self.cache = cache
        self.timeout = timeout
        self._count = count
        self._repo: GitRepo | None = None

    def head(self) -> str:
        """The commit at the tip of the branch on the remote."""
        commit = self._request("ls-remote", lambda: ls_remote(self.url, self.branch, self.timeout))
        if commit is None:
            raise GitError(f"{redact_url(self.url)} has no branch {self.branch}", "check --repo and --branch")
        return commit

    def fetch(self, commit: str) -> tuple[GitRepo, str]:
        """The cache repository holding ``commit``, and the commit it holds: ``commit`` itself, or the
        branch's new tip if the branch moved on since it was observed. No request if it is cached already."""
        repo = self.repo()
        if repo.has_commit(commit):
            return repo, commit
        fetched = self._request(
            "fetch", lambda: repo.fetch_branch(self.url, self.branch, FETCHED_REF, self.timeout)
        )
        return repo, fetched

    def repo(self) -> GitRepo:
        if self._repo is None:
            try:
                self._repo = GitRepo.open(self.cache, search_parents=False)
            except GitregError:
                shutil.rmtree(self.cache, ignore_errors=True)  # absent, or half made by a killed `git init`
                self._repo = GitRepo.init_bare(self.cache)
        return self._repo

    def _request(self, kind: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except GitregError:
            self._count(kind, False)
            raise
        self._count(kind, True)
        return result


def signature_problem(signature: Signature, commit: str, allowed_signers: Path | None) -> str | None:
    """Why a commit's signature is not acceptable, or None if it verifies."""
    short = commit[:12]
    key = f" (key {signature.key})" if signature.key else ""
    if signature.status == "G":
        return None
    if signature.status == "N":
        return f"commit {short} is not signed; --verify-signatures applies only signed commits"
    if signature.status == "U":
        trusted = f"listed in {allowed_signers}" if allowed_signers else "trusted in your GPG keyring"
        return f"commit {short} is signed by a key that is not {trusted}{key}"
    if signature.status == "B":
        return f"commit {short} has a bad signature{key}: the commit was changed after it was signed"
    if signature.status in ("X", "Y"):
        return f"commit {short} is signed by an expired key{key}"
    if signature.status == "R":
        return f"commit {short} is signed by a revoked key{key}"
    return (
        f"commit {short}'s signature cannot be checked{key}: SSH signatures need --allowed-signers "
        "and ssh-keygen; GPG signatures need gpg and the signer's public key"
    )
