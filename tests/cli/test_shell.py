"""A shell that helps: completion of model names, refs and stages from the registry in the current directory
(run the way click documents it: the real program, ``_GITREG_COMPLETE=bash_complete``, ``COMP_WORDS`` and
``COMP_CWORD``), "did you mean" for a mistyped command, and case-insensitive kinds in ``gitreg schema``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitreg import manifest
from gitreg.layout import KINDS as SCHEMA_KINDS
from testing import assert_error, commit_all, run, write_bytes


def complete(cwd: Path, words: str) -> tuple[list[str], str]:
    """What the real program offers for the last word of ``words`` (empty: a new word), and its stderr."""
    parts = words.split(" ")
    env = {
        **os.environ,
        "_GITREG_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    done = subprocess.run(
        [sys.executable, "-m", "gitreg"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    values = [line.split(",", 1)[1] for line in done.stdout.splitlines() if line]
    return values, done.stderr


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1..2 and churn@1; fraud@1 in staging."""
    for i, model in enumerate(("fraud", "fraud", "churn")):
        result = run("register", model, write_bytes(tmp_path / f"a{i}.bin", 10, i), cwd=registry)
        assert result.exit_code == 0, result.stderr
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    commit_all(registry, "stage fraud@1")
    return registry


def test_completes_model_names(populated: Path) -> None:
    assert complete(populated, "gitreg show ") == (["churn", "fraud"], "")
    assert complete(populated, "gitreg show fr") == (["fraud"], "")
    assert complete(populated, "gitreg list ") == (["churn", "fraud"], "")
    assert complete(populated, "gitreg history c") == (["churn"], "")
    assert complete(populated, "gitreg rollback f") == (["fraud"], "")


def test_completes_refs_with_versions_and_stages(populated: Path) -> None:
    values, err = complete(populated, "gitreg show fraud@")
    assert err == ""
    assert values == ["fraud@1", "fraud@2", "fraud@latest", "fraud@production", "fraud@staging"]
    assert complete(populated, "gitreg promote fraud@s")[0] == ["fraud@staging"]
    assert complete(populated, "gitreg diff fraud@1 fraud@")[0][:2] == ["fraud@1", "fraud@2"]
    assert complete(populated, "gitreg pull churn@")[0][:2] == ["churn@1", "churn@latest"]
    assert complete(populated, "gitreg verify nope@")[0] == []


def test_completes_stage_names(populated: Path) -> None:
    assert complete(populated, "gitreg promote fraud@2 --to ")[0] == ["production", "staging"]
    assert complete(populated, "gitreg list --stage p")[0] == ["production"]
    assert complete(populated, "gitreg rollback fraud --stage ")[0] == ["production", "staging"]


def test_completes_from_a_subfolder_and_with_dash_c(populated: Path, tmp_path: Path) -> None:
    assert complete(populated / "models" / "fraud", "gitreg show f")[0] == ["fraud"]
    assert complete(tmp_path, f"gitreg -C {populated} show f")[0] == ["fraud"]


def test_completes_nothing_silently_outside_a_registry(tmp_path: Path, populated: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert complete(elsewhere, "gitreg show ") == ([], "")
    assert complete(elsewhere, "gitreg promote x@1 --to ") == ([], "")
    # a registry.yaml that is no YAML at all, a models/ that is a file
    (populated / "registry.yaml").write_bytes(b"\xff\xfe: [\n")
    (populated / "stages" / "staging.yaml").unlink()
    assert complete(populated, "gitreg promote fraud@1 --to ") == ([], "")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "registry.yaml").write_text("stages: [")
    (broken / "models").write_text("not a folder")
    assert complete(broken, "gitreg show ") == ([], "")
    assert complete(broken, "gitreg show x@") == ([], "")


def test_commands_still_complete(populated: Path) -> None:
    values, _ = complete(populated, "gitreg sh")
    assert values == ["show"]


# --- did you mean ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("shwo", "no such command 'shwo' (did you mean 'show'?)"),
        ("promot", "no such command 'promot' (did you mean 'promote'?)"),
        ("Validate", "no such command 'Validate' (did you mean 'validate'?)"),
        ("xyzzy", "no such command 'xyzzy' (gitreg --help lists the commands)"),
    ],
)
def test_a_mistyped_command_gets_a_suggestion(tmp_path: Path, typed: str, message: str) -> None:
    assert_error(run(typed, cwd=tmp_path), 2, message)


# --- gitreg schema KIND ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["modelversion", "MODELVERSION", "ModelVersion", "modelVersion"])
def test_schema_kinds_are_case_insensitive(tmp_path: Path, typed: str) -> None:
    result = run("schema", typed, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "ModelVersion"


def test_schema_kinds_are_the_manifest_kinds() -> None:

    assert sorted(SCHEMA_KINDS) == sorted(manifest.KINDS)
