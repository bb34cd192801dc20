"""Audit reads the files a promotion needs with ``gitreg.yamlblock`` when they are in the plain form, and
with the full loader otherwise: promotions of versions whose files the quick reader leaves to the loader
(a duplicate key, an anchor and alias, a tag, non-ASCII text, a comment after a value, a YAML 1.1 number)
get the verdict a full ``validate`` of each change gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitreg.gitrepo import GitRepo
from gitreg.layout import MODELS_DIR, REGISTRY_FILE, STAGES_DIR, stage_path, version_path
from gitreg.ops.history import audit
from gitreg.snapshot import CommitSnapshot
from gitreg.stage_history import Held, StageReader
from gitreg.validate import Base, validate
from gitreg.validate.view import View
from testing.synthetic import commit_all, make_registry, model_names, registry_files, stage_manifest

MODELS = model_names(3, width=1)
M0, M1, M2 = MODELS

#: (model, version, how its file is rewritten, whether the file is then a valid version)
EDITS: list[tuple[str, int, Callable[[str], str], bool]] = [
    (M0, 1, lambda t: t + "status: active\n", False),  # a duplicate key
    (M1, 1, lambda t: t.replace("created_by: ", "created_by: &who ") + "description: *who\n", False),
    (M2, 1, lambda t: t.replace("version: 1", "version: !!int 1"), True),  # a tag the loader takes
    (M0, 2, lambda t: t.replace("description: Version", "description: Versión"), True),
    (M1, 2, lambda t: t.replace("status: active", "status: archived  # retired"), True),
    (M2, 2, lambda t: t.replace("version: 2", "version: 02"), False),  # the string "02"
    (M0, 3, lambda t: t.replace("size: ", "size: !!str "), False),
    (M1, 3, lambda t: t, True),  # untouched: read quickly
]


def _reference(repo: GitRepo) -> list[tuple[str, str]]:
    """(commit, verdict) of each stage change, by a full ``validate`` of its commit against its first parent
    (as tests/ops/test_audit_verdicts.py does)."""
    reader = StageReader(repo)
    held = Held()
    found = []
    for landing in reversed(
        list(repo.first_parent_log("main", [f"{STAGES_DIR}/", f"{MODELS_DIR}/", REGISTRY_FILE]))
    ):
        steps = reader.steps(landing)
        if any(step.changed() for step in steps):
            changes = {path: status for path, (_old, _new, status) in landing.changes.items()}
            base = Base(View(CommitSnapshot(repo, landing.parents[0])), changes, held)
            report = validate(View(CommitSnapshot(repo, landing.commit)), base)
            verdict = f"fail: {report.errors[0]}" if report.errors else "pass"
            found += [(landing.commit, verdict)] * sum(len(step.changed()) for step in steps)
        for step in steps:
            held.add(step)
    return found


def test_files_left_to_the_loader_get_the_full_verdict(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(MODELS, 4))
    for model, number, edit, _valid in EDITS:
        path = root / version_path(model, number)
        path.write_text(edit(path.read_text()))
    commit_all(root, "rewrite some version files")
    staging: dict[str, int] = {}
    for model, number, _edit, _valid in EDITS:
        staging[model] = number
        (root / stage_path("staging")).write_text(stage_manifest(staging))
        commit_all(root, f"{model}-{number} to staging")
    repo = GitRepo.open(root)
    want = _reference(repo)
    for cache in (False, True, True):  # no cache, the cache being filled, the cache read
        assert [(e.change.commit, e.verdict) for e in audit(repo, "main", cache=cache)] == want
    entries = audit(repo, "main", cache=False)
    assert any(verdict != "pass" for _commit, verdict in want)  # m1-2 is archived
    # the artifact of each promoted version: only where the full loader and the model accept its file
    assert [e.digest is not None for e in entries] == [valid for *_x, valid in EDITS]
