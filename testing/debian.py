"""Debian packages the tests need (a real headless Chromium, a real OCI registry, an independent OCI
client, ...), listed one per line in ``testing/debian_packages/*.txt`` (one file per feature, so features
add theirs without touching each other's lists). ``scripts/test`` runs ``python -m testing.debian`` once,
before the suite: as root it installs whatever is missing with one ``apt-get`` call; otherwise it says
which are missing, and the tests that need them skip with that reason.

``missing(...)`` is what a test's skip condition asks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LISTS = Path(__file__).parent / "debian_packages"


def wanted() -> list[str]:
    """Every package named in the lists, in a stable order, without comments or blank lines."""
    names: set[str] = set()
    for listing in sorted(LISTS.glob("*.txt")):
        for line in listing.read_text().splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                names.add(name)
    return sorted(names)


def is_installed(package: str) -> bool:
    """Whether dpkg knows ``package`` as installed (false on a machine without dpkg)."""
    if shutil.which("dpkg-query") is None:
        return False
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and done.stdout.strip().endswith("installed")


def missing(*packages: str) -> list[str]:
    """The ones of ``packages`` that are not installed."""
    return [name for name in packages if not is_installed(name)]


def skip_reason(*packages: str) -> str | None:
    """A pytest skip reason naming the missing packages, or None when all are installed."""
    absent = missing(*packages)
    if not absent:
        return None
    return (
        f"Debian package(s) {', '.join(absent)} not installed; scripts/test installs them when run as root "
        f"(apt-get install {' '.join(absent)})"
    )


def install(packages: list[str]) -> int:
    """Install the missing ones of ``packages`` with apt-get (root only). Returns a process exit status."""
    absent = missing(*packages)
    if not absent:
        print("debian packages: all installed")
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"warning: not root (or no apt-get): {', '.join(absent)} missing; their tests will skip",
            file=sys.stderr,
        )
        return 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = ["-qq", "-o", "Dpkg::Use-Pty=0"]
    attempt = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *quiet, *absent], env=env, check=False
    )
    if attempt.returncode != 0:
        subprocess.run(["apt-get", "update", *quiet], env=env, check=False)
        attempt = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", *quiet, *absent], env=env, check=False
        )
    if attempt.returncode != 0:
        print(
            f"warning: apt-get could not install {', '.join(absent)}; their tests will fail", file=sys.stderr
        )
    return 0


if __name__ == "__main__":
    sys.exit(install(wanted()))
