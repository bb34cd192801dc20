"""How ``GitRepo`` starts git: one plain ``subprocess`` runner, in place of GitPython's (whose import costs
more than most commands' work, and whose start-up runs ``git version``). It keeps what gitreg relied on
GitPython for: git's messages in English (``LC_ALL=C``, ``LANGUAGE=C``: error lines are parsed and quoted),
output decoded as UTF-8 with undecodable bytes kept (``surrogateescape``) and one trailing newline
stripped, a failure raised with git's stderr (``GitFailed``), and an optional deadline after which git is
killed with everything it started. Part of the git module family with ``gitrepo``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import IO


class GitFailed(Exception):
    """git exited with an error (or could not be started): its output, for the message the caller words
    (``gitoutput.one_line`` picks git's error line). Never leaves the git module family."""

    def __init__(self, argv: list[str], status: int | None, stdout: str, stderr: str) -> None:
        super().__init__(argv, status, stdout, stderr)
        self.argv = argv
        self.status = status
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self) -> str:
        return f"exit code {self.status}"


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: this process's, with git's messages in English, and ``extra``."""
    return {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **(extra or {})}


def run_git(
    argv: list[str],
    cwd: Path | None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float | None = None,
) -> str:
    """What ``argv`` writes to stdout, less one trailing newline; ``GitFailed`` if it fails. After
    ``timeout`` seconds git is killed (with its process group: ssh, a credential helper) and it fails."""
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=environment(env),
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=timeout is not None,  # its own group, ended whole when the deadline passes
        )
    except OSError as exc:
        raise GitFailed(argv, None, "", f"cannot run git: {exc.strerror}") from None
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        # (Another interruption, a controller loop's Stopped, leaves git to the loop, which ends every
        # process it started.)
        with contextlib.suppress(OSError):
            if timeout is not None:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.communicate()
        if isinstance(exc, KeyboardInterrupt):
            raise
        # the words GitPython's kill_after_timeout used, which gitreg's messages quote
        said = f'Timeout: the command "{" ".join(argv)}" did not complete in {timeout:g} secs.'
        raise GitFailed(argv, process.returncode, "", said) from None
    return _result(argv, process.returncode, out, err)


def stop_git(proc: subprocess.Popen[bytes]) -> None:
    """End a git process nobody reads any more, and reap it."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def finish_git(process: subprocess.Popen[bytes], argv: list[str]) -> str:
    """``run_git``'s answer from a git ``start_git`` started: what it writes to stdout, less one trailing
    newline; ``GitFailed`` if it fails."""
    out, err = process.communicate()
    return _result(argv, process.returncode, out, err)


def _result(argv: list[str], status: int, out: bytes, err: bytes) -> str:
    text = out.decode("utf-8", "surrogateescape")
    if status != 0:
        raise GitFailed(argv, status, text, err.decode("utf-8", "replace"))
    return text.removesuffix("\n")


def start_git(
    argv: list[str], cwd: Path | None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``argv`` started with its stdout and stderr piped (no stdin), for output read as git writes it."""
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise GitFailed(argv, None, "", f"cannot run git: {exc.strerror}") from None


def start_server(
    argv: list[str], bufsize: int, pipe_size: int
) -> tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]:
    """A git process that answers what is written to its stdin for as long as it runs (``cat-file
    --batch``, ``diff-tree --stdin``): stdin and stdout piped, the output pipe as large as the system lets up
    to ``pipe_size`` (answers wait there until read), stderr dropped: the process, its stdin and stdout.
    ``stop_server`` ends it."""
    process = subprocess.Popen(
        argv,
        bufsize=bufsize,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )
    if process.stdin is None or process.stdout is None:  # pragma: no cover - piped above
        raise GitFailed(argv, None, "", "git has no pipes")
    enlarge_pipe(process.stdout.fileno(), pipe_size)
    return process, process.stdin, process.stdout


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """End a ``start_server`` process: its pipes closed, killed, and reaped now if it is gone already, else
    by ``subprocess`` when this process next starts one (or at exit): waiting for git to tear down its
    object cache would be a walk's last 3-8 ms."""
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait(timeout=0)


def enlarge_pipe(fd: int, size: int) -> None:
    """Make the pipe ``fd`` reads from as large as the system lets, up to ``size`` (Linux; elsewhere, or
    where the system refuses, it stays as it is: the writer only waits for the reader sooner)."""
    try:
        import fcntl  # noqa: PLC0415 - Unix only

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        pass


__all__ = [
    "GitFailed",
    "enlarge_pipe",
    "environment",
    "finish_git",
    "run_git",
    "start_git",
    "start_server",
    "stop_git",
    "stop_server",
]
