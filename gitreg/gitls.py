"""``git ls-remote`` as a plain process: the one git call a controller's poll makes, without GitPython
(whose import and ``git version`` runs cost a poll that finds nothing new most of its time). Part of the
git module family with ``gitrepo`` (which re-exports ``ls_remote``), ``gitcommit`` and ``gitoutput``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

from gitreg.errors import GitError
from gitreg.gitoutput import error_line, parse_ls_remote


def ls_remote(url: str, branch: str, timeout: float | None = None) -> str | None:
    """The commit ``branch`` points at in the repository at ``url``, or None if it has no such branch.
    Asks the remote for that one ref only: the cheapest way to learn whether anything changed. After
    ``timeout`` seconds git is ended, with whatever it started (ssh, a credential helper)."""
    ref = f"refs/heads/{branch}"
    env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C"}  # git's messages in English, as GitPython has them
    try:
        process = subprocess.Popen(
            ["git", "ls-remote", "--", url, ref],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: ended whole on a timeout or an interrupt
        )
    except OSError as exc:
        raise GitError(f"git ls-remote failed: cannot run git: {exc.strerror}", "install git") from None
    try:
        out, err = process.communicate(timeout=timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        # Its own session keeps a terminal's Ctrl-C from it, so it is ended here, with what it started.
        # (Another interruption, a controller loop's Stopped, leaves it to the loop, which ends and counts
        # every process it started.)
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise GitError(f"git ls-remote failed: no answer from the remote in {timeout:g} seconds") from None
    if process.returncode != 0:
        stderr = err.decode(errors="replace")
        raise GitError(f"git ls-remote failed: {error_line(stderr, f'exit code {process.returncode}')}")
    return parse_ls_remote(out.decode(errors="replace"), ref)


__all__ = ["ls_remote"]
