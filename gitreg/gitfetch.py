"""One commit of a remote repository, read with as little transfer as git allows: a throwaway bare repository,
a shallow, blob-less fetch of one branch (its tip commit and trees only), then the few blobs a read needs,
fetched by id in one request. What ``gitreg pull gitreg+https://...`` reads a registry through. Part of the
git module family with ``gitlite`` (whose ``LiteRepo`` reads the objects fetched here).

Every git started here runs in its own process group with a deadline (ended whole, ssh and credential
helpers included, when it passes), with no terminal to prompt on and ``GIT_TERMINAL_PROMPT=0``: a serving
init container fails fast instead of hanging. Credentials come from git's own mechanisms (credential
helpers, ``GIT_ASKPASS``, ``GIT_CONFIG_*``, ssh keys); lazy fetching of missing objects is switched off
after each fetch, so a read never reaches the network behind the deadline's back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from gitreg.credentials import redact
from gitreg.errors import GitError
from gitreg.gitoutput import error_line, parse_ls_tree
from gitreg.gitrun import environment

#: Seconds one git command may take before it is ended (``GITREG_GIT_TIMEOUT`` overrides).
DEFAULT_TIMEOUT = 120.0
#: The local ref the fetched tip is kept under.
FETCHED = "refs/gitreg/fetched"
#: A fetch that writes only the objects and the ref asked for, and starts no maintenance afterwards.
_QUIET_FETCH = (
    "-c",
    "maintenance.auto=false",
    "-c",
    "gc.auto=0",
    "fetch",
    "--quiet",
    "--no-tags",
    "--no-write-fetch-head",
    "--recurse-submodules=no",
)


def timeout_from_env() -> float:
    """``GITREG_GIT_TIMEOUT`` in seconds, or the default; a value that is not a positive number is ignored."""
    raw = os.environ.get("GITREG_GIT_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if 0 < value < 86400 else DEFAULT_TIMEOUT


class RemoteCommit:
    """A bare repository in ``git_dir`` (created empty here) that holds one commit of the remote at ``url``:
    ``fetch_tip`` then ``fetch_files``; read it with ``gitlite.LiteRepo(git_dir)``."""

    def __init__(self, git_dir: Path, url: str, scheme: str, timeout: float) -> None:
        self.git_dir = git_dir
        self.url = url
        self.timeout = timeout
        # only the transport the URL names: no ext::, no redirect to another protocol
        self._protocol = ["-c", "protocol.allow=never", "-c", f"protocol.{scheme}.allow=always"]
        # no template: hooks and samples would only be copied in to be deleted with the rest
        self._git("init", "--quiet", "--bare", "--template=", str(git_dir), in_repo=False)
        self._git("config", "remote.origin.url", url)

    def _git(self, *args: str, stdin: bytes | None = None, in_repo: bool = True, what: str = "") -> str:
        argv = ["git", *(["--git-dir", str(self.git_dir)] if in_repo else []), *args]
        command = next(a for i, a in enumerate(args) if a != "-c" and (i == 0 or args[i - 1] != "-c"))
        # no prompt for a user name or password: fail instead
        env = environment({"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"})
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            env.pop(name, None)
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # no controlling terminal (ssh cannot ask), ended whole on a timeout
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror}", "install git") from None
        try:
            out, err = process.communicate(stdin, timeout=self.timeout)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise GitError(
                f"git {command} {what}failed: no answer in {self.timeout:g} seconds",
                "check that the repository is reachable, or raise GITREG_GIT_TIMEOUT",
            ) from None
        if process.returncode != 0:
            message = redact(error_line(err.decode("utf-8", "replace"), f"exit {process.returncode}"))
            raise GitError(f"git {command} {what}failed: {message}")
        return out.decode("utf-8", "surrogateescape")

    def fetch_tip(self, branch: str) -> str:
        """Fetch the tip commit of ``branch`` and its trees, no blobs (where the server can filter; a server
        that cannot sends them all, which is slower but as correct); the commit's id."""
        self._git(
            *self._protocol,
            *_QUIET_FETCH,
            "--depth=1",
            "--filter=blob:none",
            "origin",
            f"+refs/heads/{branch}:{FETCHED}",
            what=f"of branch {branch!r} ",
        )
        # A filtered fetch makes ``origin`` a promisor remote, whose missing objects any later read would
        # fetch one connection at a time and with no deadline: without the remote, reads see only what was
        # fetched here (and later fetches name the URL).
        self._git("config", "--remove-section", "remote.origin")
        return self._git("rev-parse", "--verify", "--quiet", f"{FETCHED}^{{commit}}").strip()

    def blob_ids(self, commit: str, paths: list[str]) -> dict[str, str]:
        """{path: blob id} of the files at or below ``paths`` in ``commit`` (trees are all here)."""
        out = self._git("ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
        return {path: sha for path, (sha, _) in parse_ls_tree(out).items()}

    def fetch_blobs(self, ids: list[str]) -> None:
        """Fetch the blobs ``ids`` not held yet, in one request (wants of object ids, as git's own lazy
        fetch of a partial clone asks for them)."""
        missing = self._missing(ids)
        if not missing:
            return
        self._git(
            *self._protocol,
            "-c",
            "fetch.negotiationAlgorithm=noop",  # nothing here the server needs to hear about
            *_QUIET_FETCH,
            "--stdin",
            "--",
            self.url,
            stdin="".join(f"{sha}\n" for sha in missing).encode(),
            what="of the registry's files ",
        )

    def _missing(self, ids: list[str]) -> list[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        out = self._git("cat-file", "--batch-check", stdin="".join(f"{i}\n" for i in wanted).encode())
        return [line.split()[0] for line in out.splitlines() if line.endswith(" missing")]


__all__ = ["DEFAULT_TIMEOUT", "FETCHED", "RemoteCommit", "timeout_from_env"]
