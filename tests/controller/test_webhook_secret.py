"""An empty webhook secret would let anyone trigger reconciles: the controller refuses to start with one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from controller.helpers import Remote, controller_argv

ERROR = (
    "error: the webhook secret (--webhook-secret or GITREG_WEBHOOK_SECRET) is empty "
    "(set it to the secret the forge signs webhooks with, or unset it)\n"
)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--webhook-secret", ""], {}),
        (["--webhook-secret", "  \t"], {}),
        ([], {"GITREG_WEBHOOK_SECRET": ""}),
        ([], {"GITREG_WEBHOOK_SECRET": " \n"}),
    ],
)
def test_an_empty_webhook_secret_is_refused_at_start(
    remote: Remote, target: Path, args: list[str], env: dict[str, str]
) -> None:
    argv = controller_argv(remote, target, "--interval", "3600", "--listen", "127.0.0.1:0", *args)
    # Before the fix, the controller started without authentication and ran until the timeout.
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, check=False, env={**os.environ, **env}
    )
    assert (done.returncode, done.stderr, done.stdout) == (2, ERROR, "")
    assert not target.exists()  # refused before anything started
