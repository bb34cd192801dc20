"""What ``GitRepo`` does with remotes: fetch and push a branch, and a controller's cache (one branch of a
remote fetched shallowly, deepened on demand, its history and signatures checked). A mixin ``GitRepo``
inherits, so every caller keeps calling ``repo.fetch(...)``; part of the git module family, starting git
through ``GitRepo``'s ``_output`` and ``_run``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gitreg.credentials import redact_url
from gitreg.errors import GitError
from gitreg.gitoutput import SIGNATURE_FORMAT, Signature, one_line, parse_signature, push_reason
from gitreg.gitrun import GitFailed

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)


class RemoteOps:
    """``GitRepo``'s methods that talk to remotes or check what was fetched from them."""

    git_dir: Path

    if TYPE_CHECKING:  # what the mixin uses of GitRepo, which defines them

        def _output(
            self,
            args: list[str],
            env: Mapping[str, str] | None = None,
            stdin: bytes | None = None,
            timeout: float | None = None,
        ) -> str: ...

        def _run(
            self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
        ) -> str: ...

        def rev_parse(self, ref: str) -> str | None: ...

    def remote_url(self, remote: str = "origin") -> str | None:
        try:
            out: str = self._output(["remote", "get-url", remote])
        except GitFailed:
            return None
        return out.strip()

    def fetch(self, remote: str, branch: str) -> str | None:
        """Update ``remote``/``branch``; its commit, or None if the remote has no such branch."""
        try:
            self._output(
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    remote,
                    f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}",
                ]
            )
        except GitFailed as exc:
            message = one_line(exc)
            if "couldn't find remote ref" in message:
                return None
            raise GitError(
                f"git fetch {remote} {branch} failed: {message}", "check the remote and your access to it"
            ) from None
        return self.rev_parse(f"refs/remotes/{remote}/{branch}")

    def push(self, remote: str, branch: str) -> None:
        """Push ``branch`` to ``remote`` (same name), never forced."""
        try:
            self._output(
                ["push", "--quiet", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}"]
            )
        except GitFailed as exc:
            raise GitError(
                f"the remote refused the push of {branch}: {push_reason(exc)}",
                f"the branch is kept locally; fix the cause and run: git push {remote} {branch}",
            ) from None

    def push_new_branch(self, url: str, branch: str) -> None:
        """Push ``branch`` to the repository at ``url`` (same name), never forced: from a scratch clone,
        so a failure is git's own error (there is no local branch to keep)."""
        self._run("push", "--quiet", url, f"refs/heads/{branch}:refs/heads/{branch}")

    # --- a controller's cache: one branch of a remote, fetched shallowly --------------------------------

    def fetch_branch(self, url: str, branch: str, ref: str, timeout: float | None = None) -> str:
        """Fetch the tip of ``branch`` at ``url`` into the local ``ref``: see ``fetch_shallow``."""
        return self.fetch_shallow(url, f"refs/heads/{branch}", ref, timeout)

    def fetch_shallow(self, url: str, source: str, ref: str, timeout: float | None = None) -> str:
        """Fetch ``source`` (a ref or ``HEAD``) at ``url`` with depth 1 (no tags) into the local ``ref``,
        forced (a force-pushed branch is followed); return the commit fetched."""
        return self._fetch(url, "--depth=1", source, ref, timeout)

    def deepen(self, url: str, branch: str, ref: str, by: int, timeout: float | None = None) -> str:
        """Fetch ``by`` more commits of ``branch``'s history below the shallow boundary; the tip fetched."""
        return self._fetch(url, f"--deepen={by}", f"refs/heads/{branch}", ref, timeout)

    def _fetch(self, url: str, depth: str, source: str, ref: str, timeout: float | None) -> str:
        argv = ["fetch", "--quiet", depth, "--no-tags", "--no-write-fetch-head"]
        argv += ["--", url, f"+{source}:{ref}"]
        try:
            self._output(argv, timeout=timeout)
        except GitFailed as exc:
            raise GitError(f"git fetch failed: {one_line(exc)}") from None
        commit = self.rev_parse(ref)
        if commit is None:  # pragma: no cover - the fetch succeeded, so the ref exists
            raise GitError(f"git fetch of {source} from {redact_url(url)} wrote no {ref}")
        return commit

    def history(self, commit: str) -> tuple[set[str], bool]:
        """The commits of ``commit``'s history present here, and whether that is all of it (no shallow
        boundary cut it short)."""
        commits = set(self._run("rev-list", commit).split())
        try:
            shallow = set((self.git_dir / "shallow").read_text().split())
        except FileNotFoundError:
            shallow = set()
        return commits, not commits & shallow

    def intact(self, commit: str) -> bool:
        """Whether every object held here is whole and ``commit``'s history and files are all there
        (``git fsck``: it reads everything, so only for a small repository such as a controller's cache)."""
        try:
            self._output(["fsck", "--no-dangling", "--no-progress", "--no-reflogs", commit])
        except GitFailed:
            return False
        return True

    def has_commit(self, sha: str) -> bool:
        """Whether the commit object ``sha`` (a full sha) is in this repository."""
        return self.rev_parse(sha) == sha

    def signature(self, commit: str, allowed_signers: Path | None = None) -> Signature:
        """How ``commit``'s signature verifies: SSH signatures against ``allowed_signers`` (git's
        gpg.ssh.allowedSignersFile), GPG ones against the user's keyring. The same check as
        ``git verify-commit``, which succeeds exactly when ``status`` is ``G``."""
        argv = []
        if allowed_signers is not None:
            argv += ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"]
        argv += ["log", "-1", f"--format={SIGNATURE_FORMAT}", commit, "--"]
        try:
            out: str = self._output(argv)
        except GitFailed as exc:
            raise GitError(f"git log failed: {one_line(exc)}") from None
        return parse_signature(out)
