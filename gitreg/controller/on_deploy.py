"""The ``--on-deploy`` command: run through ``/bin/sh -c`` after a switch, with what was deployed in its
environment. Its failure is reported, never raised: the controller decides what to do about it.

A hook is judged by its exit status, not by its output closing: its output goes to a temporary file, so a
hook that starts a background process (``server --reload &``) and exits 0 has succeeded, at once, and the
process it started keeps running. It runs in its own session, so a hook that outlives ``--hook-timeout``
is killed together with the processes it started (its process group)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from typing import IO

_TAIL = 64 * 1024  # only the last line of the output is reported


def run_hook(command: str, env: Mapping[str, str], timeout: float) -> str | None:
    """None if the command succeeded, else one line saying how it failed."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", command],
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            return f"could not start: {exc.strerror}"
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return f"did not finish within {timeout:g}s (killed, with the processes it started)"
        except BaseException:  # the controller is being stopped: take the hook's processes with it
            _kill_group(process)
            raise
        if code == 0:
            return None
        last = _last_line(stderr) or _last_line(stdout)
    how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
    return f"{how}: {last}" if last else how


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _last_line(output: IO[bytes]) -> str:
    size = output.seek(0, os.SEEK_END)
    output.seek(max(size - _TAIL, 0))
    lines = [ln.strip() for ln in output.read().decode(errors="replace").splitlines()]
    return next((ln for ln in reversed(lines) if ln), "")
