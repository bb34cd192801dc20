"""Where a controller's desired state comes from: one branch of a registry repository, asked about with
``git ls-remote`` and fetched shallowly (depth 1, that branch only) into a bare cache repository."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gitreg.credentials import redact_url
from gitreg.errors import GitError, GitregError, NotFoundError
from gitreg.filesystem import real_dir
from gitreg.gitlite import ls_remote

if TYPE_CHECKING:  # GitPython: only once there is something to fetch (``head`` is a plain git process)
    from gitreg.gitrepo import GitRepo, Signature

T = TypeVar("T")
FETCHED_REF = "refs/gitreg/controller"
DEEPEN_LIMIT = 1024  # commits of history fetched at most to learn whether a new tip is a fast-forward
Counter = Callable[[str, bool], None]


class Source:
    def __init__(self, url: str, branch: str, cache: Path, timeout: float, count: Counter) -> None:
        self.url = url
        self.branch = branch
        self.cache = cache
        self.timeout = timeout
        self._count = count
        self._repo: GitRepo | None = None

    def head(self, answer: str | GitregError | None = None) -> str:
        """The commit at the tip of the branch on the remote. ``answer``: what an ``ls_remote`` the caller
        just made said (a commit, or the error it raised), so the remote is not asked twice."""

        def ask() -> str | None:
            if isinstance(answer, GitregError):
                raise answer
            return answer if answer is not None else ls_remote(self.url, self.branch, self.timeout)

        commit = self._request("ls-remote", ask)
        if commit is None:
            raise GitError(f"{redact_url(self.url)} has no branch {self.branch}", "check --repo and --branch")
        return commit

    def fetch(self, repo: GitRepo, commit: str) -> str:
        """The commit ``repo`` (the cache) now holds: ``commit`` itself, or the branch's new tip if the
        branch moved on since it was observed. No request if it is cached already."""
        if repo.has_commit(commit):
            return commit
        return self._request(
            "fetch", lambda: repo.fetch_branch(self.url, self.branch, FETCHED_REF, self.timeout)
        )

    def descends(self, repo: GitRepo, commit: str, ancestor: str) -> bool | None:
        """Whether ``ancestor`` is in ``commit``'s history, or None if that is not known within DEEPEN_LIMIT
        commits. The shallow cache is deepened a little at a time (1, 2, 4, ... commits: a promotion on
        top of the last one needs one small fetch) until the answer is known."""
        by, seen = 1, -1
        while True:
            commits, complete = repo.history(commit)
            if ancestor in commits:
                return True
            if complete:
                return False
            # not deepened by the last fetch (the branch moved away from ``commit`` meanwhile): unknown
            if len(commits) >= DEEPEN_LIMIT or len(commits) == seen:
                return None
            seen = len(commits)
            self._request(
                "fetch", functools.partial(repo.deepen, self.url, self.branch, FETCHED_REF, by, self.timeout)
            )
            by *= 2

    def repo(self) -> GitRepo:
        """The cache, opened (or made afresh if it is missing or is no bare repository)."""
        if self._repo is None:
            try:
                if not real_dir(self.cache):
                    raise NotFoundError(f"{self.cache} is not a folder")
                from gitreg.gitrepo import GitRepo  # noqa: PLC0415 - see the top

                self._repo = GitRepo.open_bare(self.cache)
            except GitregError:
                self.rebuild()
        assert self._repo is not None  # noqa: S101 - rebuild() sets it
        return self._repo

    def rebuild(self) -> GitRepo:
        """Throw the cache away, whatever is there (a damaged repository, a file, a symlink: only the link
        is removed, never what it points at), and start an empty one in its place."""
        if self._repo is not None:
            self._repo.close()
            self._repo = None
        if real_dir(self.cache):
            shutil.rmtree(self.cache, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            self.cache.unlink()  # a file or a symlink
        if os.path.lexists(self.cache):
            raise GitError(f"cannot remove the damaged git cache {self.cache}", "remove it by hand")
        from gitreg.gitrepo import GitRepo  # noqa: PLC0415 - see the top

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
