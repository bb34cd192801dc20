"""The rules are pure by construction: importing them (and the validator that runs them) loads neither git
nor the blob store. The I/O shell around them (``gitreg.validate.runner``) does, which shows the check can
fail."""

from __future__ import annotations

import json
import subprocess
import sys

RULE_MODULES = [
    "gitreg.validate",
    "gitreg.validate.catalogue",
    "gitreg.validate.findings",
    "gitreg.validate.view",
    "gitreg.validate.rules.files",
    "gitreg.validate.rules.stages",
    "gitreg.validate.rules.change",
    "gitreg.validate.report",
    "gitreg.reader",
]
IMPURE = [
    "git",
    "gitreg.gitrepo",
    "gitreg.gitrun",
    "gitreg.gitlite",
    "gitreg.gitfind",
    "gitreg.storage",
    "fsspec",
]


def loaded_after_importing(modules: list[str]) -> list[str]:
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {IMPURE!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_importing_the_rules_loads_neither_git_nor_storage() -> None:
    assert loaded_after_importing(RULE_MODULES) == []


def test_the_runner_is_where_git_and_storage_come_in() -> None:
    assert {"gitreg.gitrepo", "gitreg.gitrun"} <= set(loaded_after_importing(["gitreg.validate.runner"]))
