"""The ``--on-deploy`` command: run through ``/bin/sh -c`` after a switch, with what was deployed in its
environment. Its failure is reported, never raised: the controller decides what to do about it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping


def run_hook(command: str, env: Mapping[str, str], timeout: float) -> str | None:
    """None if the command succeeded, else one line saying how it failed."""
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish within {timeout:g}s"
    except OSError as exc:
        return f"could not start: {exc.strerror}"
    if done.returncode == 0:
        return None
    lines = [ln.strip() for ln in (done.stderr or done.stdout).decode(errors="replace").splitlines()]
    last = next((ln for ln in reversed(lines) if ln), "")
    how = (
        f"was killed by signal {-done.returncode}"
        if done.returncode < 0
        else f"exited with {done.returncode}"
    )
    return f"{how}: {last}" if last else how
