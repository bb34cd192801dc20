"""Change rules against a base, on real repositories: versions registered with ``gitreg register``, work on
feature branches, and promotions merged into ``main`` with ``git merge --no-ff``. The base is ``main``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gitreg.registry import Registry
from gitreg.validate import Report
from gitreg.validate.runner import validate_registry
from testing import commit_all, git, run, write_bytes

COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
#: What production's policy (from the template) asks of a version: a description and a code commit.
READY = ("--description", "Retrained on November data", "--code-commit", COMMIT)
OWNED = ("--owner", "@risk-ml")
IMMUTABLE = (
    "changed after it was merged: "
    "only status, tags and description may change; register a new version instead"
)


def register(registry: Path, tmp_path: Path, model: str, seed: int, *options: str) -> Path:
    """Register 300 fresh bytes as the next version of ``model``; return the artifact."""
    art = write_bytes(tmp_path / "artifacts" / f"{model}-{seed}.bin", 300, seed)
    result = run("register", model, art, *options, cwd=registry)
    assert result.exit_code == 0, result.stderr
    return art


def branch(repo: Path, name: str, start: str = "main") -> None:
    git(repo, "checkout", "--quiet", "-b", name, start)


def promote(registry: Path, stage: str, entries: str, name: str) -> None:
    """Write stages/STAGE.yaml on a branch and merge it into main, as a reviewed pull request would."""
    branch(registry, name)
    (registry / "stages" / f"{stage}.yaml").write_text(entries)
    commit_all(registry, f"Promote to {stage}: {entries.strip()}")
    git(registry, "checkout", "--quiet", "main")
    git(registry, "merge", "--quiet", "--no-ff", name, "-m", f"Merge {name}")


def check(registry: Path, base: str | None = "main") -> Report:
    return validate_registry(Registry.open(registry), base)


def lines(report: Report) -> list[str]:
    return [str(f) for f in report.findings]


def version_file(registry: Path, model: str, number: int) -> Path:
    return registry / "models" / model / "versions" / f"{number}.yaml"


def test_immutable_fields_of_a_merged_version(registry: Path, tmp_path: Path) -> None:
    art = register(registry, tmp_path, "fraud", 1, *OWNED, "--metric", "auc=0.91", "--tag", "candidate=true")
    path = version_file(registry, "fraud", 1)
    original = path.read_text()
    digest = "sha256:" + hashlib.sha256(art.read_bytes()).hexdigest()
    assert digest in original
    other = "sha256:" + hashlib.sha256(b"retrained weights").hexdigest()

    branch(registry, "swap-weights")
    path.write_text(original.replace(digest, other).replace("auc: 0.91", "auc: 0.95"))
    commit_all(registry, "Better numbers for fraud@1")
    assert lines(check(registry)) == [
        f"models/fraud/versions/1.yaml:5:1: immutable: artifact of fraud@1 {IMMUTABLE}",
        f"models/fraud/versions/1.yaml:10:1: immutable: metrics of fraud@1 {IMMUTABLE}",
    ]

    branch(registry, "curate")
    curated = original.replace("candidate: 'true'", "candidate: 'false'\n  reviewed: 'yes'")
    curated = curated.replace("status: active", "description: Superseded\nstatus: archived")
    path.write_text(curated)
    commit_all(registry, "Curate fraud@1")
    assert lines(check(registry)) == []


def test_version_file_deleted_or_renamed(registry: Path, tmp_path: Path) -> None:
    register(registry, tmp_path, "fraud", 1, *OWNED)
    register(registry, tmp_path, "fraud", 2)
    removed = "a version file is never deleted or renamed once merged: set status: archived instead"

    branch(registry, "delete")
    git(registry, "rm", "--quiet", "models/fraud/versions/1.yaml")
    commit_all(registry, "Drop fraud@1")
    assert lines(check(registry)) == [f"models/fraud/versions/1.yaml:0:0: version-removed: {removed}"]

    branch(registry, "rename")
    git(registry, "mv", "models/fraud/versions/2.yaml", "models/fraud/versions/3.yaml")
    commit_all(registry, "Renumber fraud@2")
    assert lines(check(registry)) == [
        f"models/fraud/versions/2.yaml:0:0: version-removed: {removed}",
        "models/fraud/versions/3.yaml:4:1: path-mismatch: version is 2 but the file is named 3.yaml",
        "models/fraud/versions/3.yaml:4:1: version-number: "
        "new version 2 is not above fraud's highest version 2 on the base",
    ]

    branch(registry, "archive")
    path = version_file(registry, "fraud", 1)
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    commit_all(registry, "Archive fraud@1")
    assert lines(check(registry)) == []


def test_new_version_number_above_every_existing_one(registry: Path, tmp_path: Path) -> None:
    register(registry, tmp_path, "fraud", 1, *OWNED)
    branch(registry, "slow-training")  # forked while main had fraud@1 only
    git(registry, "checkout", "--quiet", "main")
    register(registry, tmp_path, "fraud", 2)
    register(registry, tmp_path, "fraud", 3)

    branch(registry, "next")  # from today's main: the next number is fine
    register(registry, tmp_path, "fraud", 4)
    report = check(registry)
    assert lines(report) == []

    git(registry, "checkout", "--quiet", "slow-training")
    register(registry, tmp_path, "fraud", 5)  # the branch only knows fraud@1, so this becomes fraud@2
    assert version_file(registry, "fraud", 2).read_text() != git(
        registry, "show", "main:models/fraud/versions/2.yaml"
    )
    assert lines(check(registry)) == [
        "models/fraud/versions/2.yaml:4:1: version-number: "
        "new version 2 is not above fraud's highest version 3 on the base"
    ]


def test_stage_transition_requires_the_previous_stage_on_the_base(registry: Path, tmp_path: Path) -> None:
    register(registry, tmp_path, "fraud", 1, *OWNED, *READY)
    register(registry, tmp_path, "fraud", 2, *READY)
    promote(registry, "staging", "fraud: 1\n", "stage-fraud-1")

    branch(registry, "skip-staging")
    (registry / "stages" / "production.yaml").write_text("fraud: 2\n")
    commit_all(registry, "fraud@2 to production")
    assert lines(check(registry)) == [
        "stages/production.yaml:1:1: stage-transition: fraud@2 must be in staging on the base before it "
        "enters production: promote it to staging first"
    ]

    branch(registry, "from-staging")
    (registry / "stages" / "production.yaml").write_text("fraud: 1\n")
    commit_all(registry, "fraud@1 to production")
    assert lines(check(registry)) == []

    # Promoting to staging and production in one pull request is not going through staging.
    branch(registry, "both-at-once")
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    (registry / "stages" / "production.yaml").write_text("fraud: 2\n")
    commit_all(registry, "fraud@2 everywhere")
    assert [f.rule for f in check(registry).findings] == ["stage-transition"]


def test_rollback_to_a_version_production_held_before(registry: Path, tmp_path: Path) -> None:
    for seed in (1, 2, 3):
        register(registry, tmp_path, "fraud", seed, *(OWNED if seed == 1 else ()), *READY)
    promote(registry, "staging", "fraud: 1\n", "stage-1")
    promote(registry, "production", "fraud: 1\n", "release-1")
    promote(registry, "staging", "fraud: 2\n", "stage-2")
    promote(registry, "production", "fraud: 2\n", "release-2")
    assert check(registry, base=None).findings == []

    branch(registry, "rollback")  # fraud@1 left staging long ago, but production held it
    (registry / "stages" / "production.yaml").write_text("fraud: 1\n")
    commit_all(registry, "Roll production back to fraud@1")
    assert lines(check(registry)) == []

    branch(registry, "not-a-rollback")  # fraud@3 was never in production nor is in staging
    (registry / "stages" / "production.yaml").write_text("fraud: 3\n")
    commit_all(registry, "fraud@3 to production")
    assert lines(check(registry)) == [
        "stages/production.yaml:1:1: stage-transition: fraud@3 must be in staging on the base before it "
        "enters production: promote it to staging first"
    ]


def test_archiving_a_version_still_in_a_stage(registry: Path, tmp_path: Path) -> None:
    register(registry, tmp_path, "fraud", 1, *OWNED)
    register(registry, tmp_path, "fraud", 2)
    promote(registry, "staging", "fraud: 1\n", "stage-1")
    path = version_file(registry, "fraud", 1)

    branch(registry, "archive-only")
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    commit_all(registry, "Archive fraud@1")
    assert lines(check(registry)) == [
        "stages/staging.yaml:1:1: stage-archived: fraud@1 is archived: restore it, or remove it from staging"
    ]

    branch(registry, "archive-and-replace")
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Archive fraud@1, stage fraud@2")
    assert lines(check(registry)) == []


def test_base_checks_only_the_changed_files(registry: Path, tmp_path: Path) -> None:
    register(registry, tmp_path, "fraud", 1, *OWNED)
    # A broken file that reached main without review: the full check reports it.
    (registry / "models" / "fraud" / "notes.txt").write_text("remember to retrain\n")
    commit_all(registry, "Notes")
    stray = (
        "models/fraud/notes.txt:0:0: stray-file: unexpected file in models/: "
        "only model.yaml and versions/<n>.yaml belong there"
    )
    assert lines(check(registry, base=None)) == [stray]

    branch(registry, "churn")
    register(registry, tmp_path, "churn", 1, *OWNED)
    (registry / "stages" / "staging.yaml").write_text("churn: 1\n")
    commit_all(registry, "Stage churn@1")
    changed = git(registry, "diff", "--name-only", "main...HEAD").split()
    assert {"models/churn/model.yaml", "models/churn/versions/1.yaml", "stages/staging.yaml"} <= set(changed)
    report = check(registry)
    assert report.files_checked == len(changed)
    assert report.findings == []
    full = check(registry, base=None)
    assert full.files_checked == len(git(registry, "ls-files").split())
    assert lines(full) == [stray]


def test_base_reports_stage_files_a_registry_change_leaves_undeclared(registry: Path, tmp_path: Path) -> None:
    """A pull request that drops a stage from registry.yaml makes the unchanged stages/<stage>.yaml
    invalid: CI must say so before the merge, not the full check after it."""
    register(registry, tmp_path, "fraud", 1, *OWNED)
    promote(registry, "staging", "fraud: 1\n", "stage-1")
    config = registry / "registry.yaml"
    text = config.read_text()

    branch(registry, "rename-staging")
    config.write_text(
        text.replace("- name: staging", "- name: qa").replace("requires: [staging]", "requires: [qa]")
    )
    commit_all(registry, "Rename staging to qa")
    unknown = (
        "stages/staging.yaml:0:0: unknown-stage: "
        "stage 'staging' is not declared in registry.yaml (declared: qa, production)"
    )
    assert lines(check(registry, base=None)) == [unknown]
    assert lines(check(registry)) == [unknown]

    branch(registry, "add-canary")
    config.write_text(text + "  - name: canary\n")
    commit_all(registry, "Add a canary stage")
    assert lines(check(registry)) == []
