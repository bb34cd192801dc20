"""The pre-commit hook reads valid files as records (``gitreg.validate.light``) instead of pydantic models:
a promotion commit's hook process does not import pydantic, and for every kind of commit (a promotion, a
promotion of an archived version, a policy miss, a new version, an edited version, a broken stage file, a
registry.yaml change) the hook's findings are those of a full validation of the same index with the typed
models everywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitreg.gitlite import LiteRepo
from gitreg.ops.hooks import validate_index
from gitreg.snapshot import CommitSnapshot
from gitreg.validate import Finding, validate
from gitreg.validate.view import View
from testing import git, run, write_bytes


@pytest.fixture
def promoted(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 (archived), @2 (accuracy 0.95, in staging), @3 (accuracy 0.5), committed and valid;
    production asks for accuracy >= 0.9 and fraud's model.yaml for a description in staging."""
    for number, accuracy in ((1, "0.7"), (2, "0.95"), (3, "0.5")):
        art = write_bytes(tmp_path / f"model-{number}.onnx", 300, seed=number)
        args: list[str | Path] = ["register", "fraud", art, "--metric", f"accuracy={accuracy}"]
        args += ["--owner", "@risk-ml"] if number == 1 else []
        args += ["--description", f"fraud model {number}", "--code-commit", "a" * 40]
        result = run(*args, cwd=registry)
        assert result.exit_code == 0, result.stderr
    edit(registry, "models/fraud/versions/1.yaml", r"(?m)^status: .*\n", "")
    append(registry, "models/fraud/versions/1.yaml", "status: archived\n")
    edit(registry, "registry.yaml", r"metrics: \{\}", "metrics: {accuracy: '>= 0.9'}")
    edit(registry, "models/fraud/model.yaml", r"policy: \{\}", "policy:\n  staging:\n    fields: [tags]")
    (registry / "stages" / "staging.yaml").write_text("")
    git(registry, "add", "--all")
    git(registry, "commit", "--quiet", "--no-verify", "-m", "fraud@1..3")
    assert run("validate", cwd=registry).exit_code == 0
    return registry


def edit(registry: Path, path: str, pattern: str, replacement: str) -> None:
    target = registry / path
    text = target.read_text()
    changed = re.sub(pattern, replacement, text)
    assert changed != text, (path, pattern)
    target.write_text(changed)


def append(registry: Path, path: str, text: str) -> None:
    target = registry / path
    target.write_text(target.read_text() + text)


def write(registry: Path, path: str, text: str) -> None:
    (registry / path).write_text(text)


def copy_version(registry: Path, number: int, new: int, extra: str = "") -> None:
    text = (registry / f"models/fraud/versions/{number}.yaml").read_text()
    text = re.sub(r"(?m)^version: .*$", f"version: {new}", text) + extra
    write(registry, f"models/fraud/versions/{new}.yaml", text)


def archive_promoted(registry: Path) -> None:
    write(registry, "stages/production.yaml", "fraud: 2\n")
    append(registry, "models/fraud/versions/2.yaml", "status: archived\n")


def tighten_policy(registry: Path) -> None:
    write(registry, "stages/production.yaml", "fraud: 2\n")
    edit(registry, "registry.yaml", r"accuracy: '>= 0.9'", "accuracy: '>= 0.99'")


def change_model_policy(registry: Path) -> None:
    write(registry, "stages/staging.yaml", "fraud: 2\n")
    edit(registry, "models/fraud/model.yaml", r"fields: \[tags\]", "fields: [params, lineage.code.commit]")


COMMITS: dict[str, Callable[[Path], None]] = {
    "promotion": lambda r: write(r, "stages/production.yaml", "fraud: 2\n"),
    "promotion-with-tags-missing": lambda r: write(r, "stages/staging.yaml", "fraud: 2\n"),
    "archived": lambda r: write(r, "stages/production.yaml", "fraud: 1\n"),
    "policy-miss": lambda r: write(r, "stages/production.yaml", "fraud: 3\n"),
    "unknown-model": lambda r: write(r, "stages/production.yaml", "fraud: 2\nspam: 1\n"),
    "missing-version": lambda r: write(r, "stages/production.yaml", "fraud: 9\n"),
    "bad-yaml-stage": lambda r: write(r, "stages/production.yaml", "fraud: [2\n"),
    "bad-name-stage": lambda r: write(r, "stages/production.yaml", "Fraud: 2\nfraud: 010\n"),
    "null-stage": lambda r: write(r, "stages/production.yaml", "fraud: null\n"),
    "undeclared-stage": lambda r: write(r, "stages/canary.yaml", "fraud: 2\n"),
    "new-version": lambda r: copy_version(r, 2, 4),
    "new-bad-version": lambda r: copy_version(r, 2, 4, "colour: blue\n"),
    "new-version-bool-metric": lambda r: edit(
        r, "models/fraud/versions/2.yaml", r"accuracy: 0.95", "accuracy: true"
    ),
    "edited-version": lambda r: edit(r, "models/fraud/versions/3.yaml", r"accuracy: 0.5", "accuracy: 0.97"),
    "archived-in-stage": archive_promoted,
    "registry-policy": tighten_policy,
    "registry-broken": lambda r: edit(r, "registry.yaml", r"kind: Registry", "kind: Registry\ncolour: blue"),
    "registry-bad-threshold": lambda r: edit(r, "registry.yaml", r"'>= 0.9'", "'about 0.9'"),
    "model-policy": change_model_policy,
    "model-bad-owner": lambda r: edit(r, "models/fraud/model.yaml", r"tags: \{\}", "tags: {team: 3}"),
}


def typed_findings(registry: Path) -> list[Finding]:
    """A full validation of the index with the typed (pydantic) models for every file."""
    with LiteRepo.open(registry) as repo:
        tree = repo.write_index_tree()
        return validate(View(CommitSnapshot(repo, tree), records=False)).findings


@pytest.mark.parametrize("name", sorted(COMMITS))
def test_the_hook_finds_what_a_full_typed_validation_finds(promoted: Path, name: str) -> None:
    COMMITS[name](promoted)
    git(promoted, "add", "--all")
    hook = validate_index(promoted).findings
    assert hook == typed_findings(promoted)
    assert validate_index(promoted, everything=True).findings == hook


def test_the_commits_are_not_all_clean(promoted: Path) -> None:
    """The comparison above is worth something: most of these commits have findings, of many rules."""
    rules = set()
    for name, change in COMMITS.items():
        git(promoted, "reset", "--quiet", "--hard", "HEAD")
        git(promoted, "clean", "--quiet", "-fd")
        change(promoted)
        git(promoted, "add", "--all")
        found = typed_findings(promoted)
        assert bool(found) == (name not in ("promotion", "new-version", "edited-version")), (name, found)
        rules |= {f.rule for f in found}
    expected = {"stage-archived", "policy-metric", "policy-field", "stage-entry", "yaml", "schema"}
    assert expected | {"unknown-stage"} <= rules


def hook_process(registry: Path) -> subprocess.CompletedProcess[str]:
    """``gitreg hook pre-commit`` as a hook runs it, reporting at exit whether pydantic was imported."""
    script = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: print('pydantic' in sys.modules, file=sys.stderr))\n"
        "sys.argv = ['gitreg', 'hook', 'pre-commit']\n"
        "runpy.run_module('gitreg', run_name='__main__')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=registry,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_promotion_commit_does_not_import_pydantic(promoted: Path) -> None:
    write(promoted, "stages/production.yaml", "fraud: 2\n")
    git(promoted, "add", "--all")
    result = hook_process(promoted)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "False"


def test_a_bad_promotion_imports_pydantic_only_if_a_file_needs_it(promoted: Path) -> None:
    """An archived version promoted: a finding, still without pydantic (every file is valid); a stage
    file that does not match its schema: pydantic says why. (The check can see pydantic come in.)"""
    write(promoted, "stages/production.yaml", "fraud: 1\n")
    git(promoted, "add", "--all")
    result = hook_process(promoted)
    assert result.returncode == 1
    assert "stage-archived: fraud@1 is archived" in result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == "False"
    write(promoted, "stages/production.yaml", "fraud: 010\n")
    git(promoted, "add", "--all")
    result = hook_process(promoted)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "True"


def test_the_validate_hook_refuses_large_staged_files_alone(promoted: Path) -> None:
    """Why the registry template lists only gitreg-validate: it refuses a staged file over the limit,
    wherever it is, as gitreg-no-large-files does (one hook process per commit)."""
    write(promoted, "weights.bin", "x" * (1024 * 1024 + 1))
    write(promoted, "stages/production.yaml", "fraud: 2\n")
    git(promoted, "add", "--all")
    found = [(f.path, f.rule) for f in validate_index(promoted).findings]
    assert found == [("weights.bin", "large-file")]
    hooks = (Path(__file__).parents[2] / "registry-template" / ".pre-commit-config.yaml.j2").read_text()
    assert re.findall(r"- id: (\S+)", hooks) == ["gitreg-validate"]
