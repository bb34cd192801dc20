from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from controller.helpers import Remote, make_remote


@pytest.fixture
def remote(registry: Path, blobs: Path, tmp_path: Path) -> Remote:
    """The ``registry`` fixture, pushed to a bare repository served over file://."""
    return make_remote(registry, blobs, tmp_path)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return tmp_path / "serving"


@pytest.fixture
def ssh_keys(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(trusted key, untrusted key, allowed-signers file listing the trusted one), made by ssh-keygen."""
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen is not installed: apt-get install openssh-client to run the signing tests")
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("trusted", "stranger"):
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@example.com", "-f", str(keys / name)],
            check=True,
        )
    public = (keys / "trusted.pub").read_text().split()
    allowed = keys / "allowed_signers"
    allowed.write_text(f"trusted@example.com {public[0]} {public[1]}\n")
    return keys / "trusted.pub", keys / "stranger.pub", allowed
