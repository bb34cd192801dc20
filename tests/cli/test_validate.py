"""``gitreg validate`` end to end on real registries: exit codes, the four output formats (and GitHub's job
summary), --strict, --ref, --base, and the errors when validation cannot run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from testing import commit_all, git, run, tree_state, write_bytes

COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
MISMATCH = "models/fraud/model.yaml:3:1: path-mismatch: name is 'froud' but the folder is models/fraud/"
NO_OWNERS = (
    "models/fraud/model.yaml:3:1: no-owners: warning: "
    "model has no owners: add CODEOWNERS handles under owners:"
)
STRAY = "stray-file: unexpected file in models/: only model.yaml and versions/<n>.yaml belong there"


def register(registry: Path, seed: int, *options: str) -> None:
    art = write_bytes(registry.parent / "artifacts" / f"{seed}.bin", 300, seed)
    result = run("register", "fraud", art, *options, cwd=registry)
    assert result.exit_code == 0, result.stderr


def rename_model(registry: Path, name: str) -> None:
    path = registry / "models" / "fraud" / "model.yaml"
    path.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", path.read_text()))


def file_count(registry: Path) -> int:
    """Files a full check looks at: tracked and untracked, not ignored."""
    listed = git(registry, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return len([p for p in listed.split("\0") if p])


@pytest.fixture
def owned(registry: Path) -> Path:
    """A registry with fraud@1, owned, registered and committed."""
    register(registry, 1, "--owner", "@risk-ml")
    return registry


def test_clean_registry_exits_0(owned: Path) -> None:
    result = run("validate", cwd=owned)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"ok: {file_count(owned)} files checked, no problems\n",
        "",
    )


def test_findings_exit_1(owned: Path) -> None:
    before = tree_state(owned)
    rename_model(owned, "froud")
    result = run("validate", cwd=owned)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        f"{MISMATCH}\n1 error, 0 warnings ({file_count(owned)} files checked)\n",
        "",
    )
    rename_model(owned, "fraud")
    assert tree_state(owned) == before  # validating changed nothing


def test_warnings_fail_only_with_strict(registry: Path) -> None:
    register(registry, 1)  # a new model without --owner
    output = f"{NO_OWNERS}\n0 errors, 1 warning ({file_count(registry)} files checked)\n"
    relaxed = run("validate", cwd=registry)
    assert (relaxed.exit_code, relaxed.stdout) == (0, output)
    strict = run("validate", "--strict", cwd=registry)
    assert (strict.exit_code, strict.stdout) == (1, output)


def test_json_format(owned: Path) -> None:
    rename_model(owned, "froud")
    result = run("validate", "--format", "json", cwd=owned)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": False,
        "errors": 1,
        "warnings": 0,
        "files_checked": file_count(owned),
        "findings": [
            {
                "path": "models/fraud/model.yaml",
                "line": 3,
                "col": 1,
                "rule": "path-mismatch",
                "severity": "error",
                "message": "name is 'froud' but the folder is models/fraud/",
            }
        ],
    }
    rename_model(owned, "fraud")
    clean = run("validate", "--format", "json", cwd=owned)
    assert clean.exit_code == 0
    assert json.loads(clean.stdout)["ok"] is True


def test_github_format_and_job_summary(owned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rename_model(owned, "froud")
    (owned / "models" / "fraud" / "notes,v1:100%.txt").write_text("draft\n")
    summary = tmp_path / "step-summary.md"
    summary.write_text("## Earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    files = file_count(owned)

    result = run("validate", "--format", "github", cwd=owned)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=models/fraud/model.yaml,line=3,col=1,title=path-mismatch::"
        "name is 'froud' but the folder is models/fraud/",
        "::error file=models/fraud/notes%2Cv1%3A100%25.txt,title=stray-file::"
        "unexpected file in models/: only model.yaml and versions/<n>.yaml belong there",
        f"2 errors, 0 warnings ({files} files checked)",
    ]
    assert summary.read_text() == (
        "## Earlier step\n"
        "### gitreg validate: failed\n"
        "\n"
        f"2 errors, 0 warnings ({files} files checked)\n"
        "\n"
        "| | file | line | rule | message |\n"
        "|---|---|---|---|---|\n"
        "| error | `models/fraud/model.yaml` | 3 | `path-mismatch` | "
        "name is 'froud' but the folder is models/fraud/ |\n"
        "| error | `models/fraud/notes,v1:100%.txt` |  | `stray-file` | "
        "unexpected file in models/: only model.yaml and versions/<n>.yaml belong there |\n"
    )

    # Other formats leave the job summary alone; without the variable nothing is written.
    assert run("validate", "--format", "text", cwd=owned).exit_code == 1
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert run("validate", "--format", "github", cwd=owned).exit_code == 1
    assert summary.read_text().count("### gitreg validate") == 1


def test_junit_format(registry: Path) -> None:
    register(registry, 1)  # no owners: a warning
    rename_model(registry, "froud")
    (registry / "models" / "fraud" / "notes.txt").write_text("draft\n")
    result = run("validate", "--format", "junit", cwd=registry)
    assert result.exit_code == 1
    suite = ET.fromstring(result.stdout).find("testsuite")  # noqa: S314 - gitreg's own output
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    failures = suite.findall("testcase/failure")
    assert [(f.get("type"), f.text) for f in failures] == [
        ("path-mismatch", MISMATCH),
        ("stray-file", f"models/fraud/notes.txt:0:0: {STRAY}"),
    ]
    assert [c.findtext("system-out") for c in suite.findall("testcase") if c.find("failure") is None] == [
        NO_OWNERS
    ]


def test_ref_validates_a_given_commit(owned: Path) -> None:
    good = git(owned, "rev-parse", "HEAD").strip()
    rename_model(owned, "froud")
    commit_all(owned, "Rename fraud (by mistake)")
    rename_model(owned, "fraud")
    commit_all(owned, "Undo the rename")
    rename_model(owned, "fr0ud")  # uncommitted

    assert run("validate", cwd=owned).exit_code == 1
    head = run("validate", "--ref", "HEAD", cwd=owned)
    assert (head.exit_code, head.stdout.startswith("ok: ")) == (0, True)
    broken = run("validate", "--ref", "HEAD~1", cwd=owned)
    assert broken.exit_code == 1
    assert broken.stdout.splitlines()[0] == MISMATCH
    assert run("validate", "--ref", good, cwd=owned).exit_code == 0


def test_base_on_a_pull_request_branch(owned: Path) -> None:
    register(owned, 2, "--description", "Retrained", "--code-commit", COMMIT)
    git(owned, "checkout", "--quiet", "-b", "release-fraud-2")
    (owned / "stages" / "production.yaml").write_text("fraud: 2\n")
    commit_all(owned, "Release fraud@2")
    result = run("validate", "--base", "main", "--format", "github", cwd=owned)
    assert (result.exit_code, result.stdout) == (
        1,
        "::error file=stages/production.yaml,line=1,col=1,title=stage-transition::fraud@2 must be in staging "
        "on the base before it enters production: promote it to staging first\n"
        "1 error, 0 warnings (1 file checked)\n",
    )
    # Staged first (and merged), the same change passes.
    git(owned, "checkout", "--quiet", "main")
    (owned / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(owned, "Stage fraud@2")
    git(owned, "checkout", "--quiet", "release-fraud-2")
    git(owned, "merge", "--quiet", "--no-edit", "main")
    passed = run("validate", "--base", "main", cwd=owned)
    assert (passed.exit_code, passed.stdout) == (0, "ok: 1 file checked, no problems\n")


def test_validation_that_cannot_run_exits_3(owned: Path, tmp_path: Path) -> None:
    bad_base = run("validate", "--base", "origin/main", cwd=owned)
    assert (bad_base.exit_code, bad_base.stdout, bad_base.stderr) == (
        3,
        "",
        "error: --base 'origin/main' does not name a commit (fetch it first, e.g. git fetch origin main)\n",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = run("validate", cwd=elsewhere)
    assert (outside.exit_code, outside.stdout) == (3, "")
    assert outside.stderr == (
        f"error: {elsewhere} is not inside a git repository "
        "(run gitreg inside a registry checkout, or pass -C DIR)\n"
    )
