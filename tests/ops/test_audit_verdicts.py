"""``gitreg.ops.verdicts``: audit's one-walk verdicts are the validator's. Each change of a crafted history
(direct pushes and merges, a skipped stage, an archived version, a deleted version, a policy the version
misses, a stage file that is not plain lines, a rollback, a rule change with a promotion) gets from
``audit`` the verdict a full ``validate`` of that commit against its first parent gives, with rollbacks
judged by what the stages held before it; and passing promotions are judged without ``validate``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.gitrepo import GitRepo
from gitreg.layout import MODELS_DIR, REGISTRY_FILE, STAGES_DIR, stage_path, version_path
from gitreg.ops.history import audit
from gitreg.ops.verdicts import Judge
from gitreg.snapshot import CommitSnapshot
from gitreg.stage_history import Held, StageReader, simple_entries
from gitreg.validate import Base, validate
from gitreg.validate.view import View
from testing import git
from testing.synthetic import commit_all, make_registry, model_names, registry_files, stage_manifest

MODELS = model_names(3, width=1)  # m0, m1, m2 (see testing.synthetic)


def _write(root: Path, path: str, text: str | None) -> None:
    target = root / path
    if text is None:
        target.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _promote(root: Path, stage: str, entries: dict[str, int], message: str, merge: bool = False) -> None:
    """A commit writing ``stages/STAGE.yaml``: pushed to main directly, or merged from a branch."""
    if merge:
        git(root, "checkout", "--quiet", "-b", "topic")
    _write(root, stage_path(stage), stage_manifest(entries))
    commit_all(root, message)
    if merge:
        git(root, "checkout", "--quiet", "main")
        git(root, "merge", "--quiet", "--no-ff", "-m", f"Merge pull request #7 from x/{message}", "topic")
        git(root, "branch", "--quiet", "-D", "topic")


@pytest.fixture
def crafted(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    m0, m1, m2 = MODELS
    make_registry(root, tmp_path / "blobs", registry_files(MODELS, 4))
    staging: dict[str, int] = {}
    production: dict[str, int] = {}

    def stage(name: str, model: str, number: int | None, message: str, merge: bool = False) -> None:
        entries = staging if name == "staging" else production
        if number is None:
            entries.pop(model)
        else:
            entries[model] = number
        _promote(root, name, entries, message, merge)

    stage("staging", m0, 1, "m0-1 to staging", merge=True)  # pass
    stage("production", m0, 1, "m0-1 to production", merge=True)  # pass
    stage("production", m1, 2, "m1-2 skips staging")  # fail: stage-transition (a direct push)
    stage("staging", m0, 2, "m0-2 to staging")
    stage("production", m0, 2, "m0-2 to production")
    stage("production", m0, 1, "m0 rolled back to 1")  # pass: production held 1 before
    version = version_path(m2, 3)
    _write(root, version, (root / version).read_text().replace("status: active", "status: archived"))
    commit_all(root, "archive m2-3")
    stage("staging", m2, 3, "m2-3 (archived) to staging")  # fail: stage-archived
    _write(root, version_path(m2, 4), None)
    commit_all(root, "delete m2-4")  # version-removed, but no stage changed: not in the audit
    stage("staging", m2, 4, "m2-4 (deleted) to staging")  # fail: stage-entry
    _write(root, version_path(m1, 4), None)
    staging[m1] = 4
    _write(root, stage_path("staging"), stage_manifest(staging))
    commit_all(root, "delete m1-4 and stage it")  # fail: version-removed and stage-entry
    model = f"{MODELS_DIR}/{m0}/model.yaml"
    _write(root, model, (root / model).read_text() + "policy:\n  staging:\n    metrics: {auc: '>= 0.9999'}\n")
    commit_all(root, "m0 needs auc 0.9999 in staging")
    stage("staging", m0, 3, "m0-3 to staging")  # fail: policy-metric
    stage("staging", m1, 1, "m1-1 to staging")  # fail: the stage still holds m2-3 (archived)...
    stage("staging", m2, None, "m2 leaves staging")  # ...which a change that does not touch m2 never says
    staging[m1] = 3
    _write(root, stage_path("staging"), "# staged by hand\n" + stage_manifest(staging))
    commit_all(root, "a comment in the stage file")  # not plain lines: judged in full
    _write(root, stage_path("staging"), stage_manifest(staging) + f"{m1}: 2\n")
    commit_all(root, "a duplicate key")  # fail: yaml
    stage("staging", m1, 2, "back to plain lines")
    registry = (root / REGISTRY_FILE).read_text().replace("requires: [staging]", "requires: []")
    _write(root, REGISTRY_FILE, registry)
    production[m2] = 1
    _write(root, stage_path("production"), stage_manifest(production))
    commit_all(root, "drop the requirement and skip it at once")  # fail: judged by the base's rules
    stage("production", m2, 2, "m2-2 straight to production")  # pass: the rule is gone
    _write(root, stage_path("staging"), None)
    commit_all(root, "remove the staging file")  # pass
    return root


def _reference(repo: GitRepo) -> list[tuple[str, str]]:
    """(commit, verdict) of each commit that changed a stage entry, by a full ``validate`` of each against
    its first parent (the way audit judged before it walked once)."""
    reader = StageReader(repo)
    held = Held()
    found = []
    paths = [f"{STAGES_DIR}/", f"{MODELS_DIR}/", REGISTRY_FILE]
    for landing in reversed(list(repo.first_parent_log("main", paths))):
        steps = reader.steps(landing)
        if any(step.changed() for step in steps):
            view = View(CommitSnapshot(repo, landing.commit))
            changes = {path: status for path, (_old, _new, status) in landing.changes.items()}
            base = Base(View(CommitSnapshot(repo, landing.parents[0])), changes, held)
            report = validate(view, base)
            verdict = f"fail: {report.errors[0]}" if report.errors else "pass"
            found += [(landing.commit, verdict)] * sum(len(step.changed()) for step in steps)
        for step in steps:
            held.add(step)
    return found


def test_audit_verdicts_equal_full_validation_of_each_change(crafted: Path) -> None:
    repo = GitRepo.open(crafted)
    got = [(e.change.commit, e.verdict) for e in audit(repo, "main")]
    want = _reference(repo)
    assert got == want
    verdicts = " ".join(v for _c, v in want)
    for rule in (
        "stage-transition",
        "stage-archived",
        "stage-entry",
        "version-removed",
        "policy-metric",
        "yaml",
    ):
        assert f": {rule}: " in verdicts, rule
    assert sum(v == "pass" for _c, v in want) >= 6


def test_passing_promotions_are_judged_from_the_walk(crafted: Path) -> None:
    """``validate`` runs only for the changes the walk cannot clear: failures, the commits that change more
    than stage files, and stage files that are not plain lines."""
    repo = GitRepo.open(crafted)
    judge = Judge(repo)
    verdicts = []
    walk = repo.first_parent_walk("main", [f"{STAGES_DIR}/", f"{MODELS_DIR}/", REGISTRY_FILE])
    for landing in judge.read_ahead(walk, lambda _landing: True):
        steps = judge.advance(landing)
        if any(step.changed() for step in steps):
            verdicts.append(judge.verdict(landing, steps))
        judge.held_after(steps)
    fast = sum(v == "pass" for v in verdicts) - 1  # the comment in the stage file passes through validate
    assert judge.full_runs == len(verdicts) - fast
    assert fast >= 6


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("", {}),
        ("a: 1\nb-2.x_y: 30\n", {"a": 1, "b-2.x_y": 30}),
        ("a: 1", {"a": 1}),
        ("a: 1\na: 2\n", None),  # a duplicate key: the loader refuses it
        ("true: 1\n", None),  # YAML reads the key as a boolean
        ("null: 1\n", None),
        ("7up: 1\n", None),  # a name that starts with a digit: left to the loader
        ("a: 01\n", None),
        ("a: 1 # c\n", None),
        ("a:  1\n", None),
        ("'a': 1\n", None),
        ("a: 1\n\n", None),
        ("a: 1\r\n", None),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789: 1\n", None),  # the validator reports a token
    ],
)
def test_plain_stage_files(text: str, entries: dict[str, int] | None) -> None:
    """A stage file is followed through its diffs only when every line loads to exactly ``model: N``."""
    assert simple_entries(text.encode()) == entries
