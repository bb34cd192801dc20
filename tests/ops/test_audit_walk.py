"""The audit walk's cost follows what changed, not the size of the registry: git writes no diff (files come
as blob ids; the stage files are diffed from their blobs), and the blobs that judging reads come ahead, many
per ``cat-file`` run; neither changes a verdict (they stay those of a full validation of each change)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from gitreg.gitahead import BlobsAhead
from gitreg.gitrepo import GitRepo, LogCommit
from gitreg.layout import MODELS_DIR, REGISTRY_FILE, STAGES_DIR
from gitreg.ops.history import audit
from gitreg.ops.verdicts import Judge
from ops.test_audit_verdicts import _promote, _reference, crafted  # noqa: F401 - crafted: a fixture
from testing.synthetic import make_registry, model_names, registry_files

PATHS = [f"{STAGES_DIR}/", f"{MODELS_DIR}/", REGISTRY_FILE]


class CountingRepo(GitRepo):
    """A real repository that counts how its blobs are read."""

    single: int = 0
    batches: int = 0
    readers: list[BlobsAhead]  # readers of blobs ahead of the walk (``gitreg.gitahead``)

    def blobs_ahead(self) -> BlobsAhead:
        ahead = super().blobs_ahead()
        self.readers = [*getattr(self, "readers", []), ahead]
        return ahead

    def read_blob(self, sha: str) -> bytes:
        self.single += 1
        return super().read_blob(sha)

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        self.batches += 1
        return super().read_blobs(shas)


def _verdicts(judge: Judge, walk: Iterable[LogCommit] | None = None) -> list[tuple[str, str]]:
    """(commit, verdict) of each stage change along ``walk`` (default: every commit that changes the stages,
    the models or registry.yaml; raw: the judge diffs the stage files' blobs)."""
    found = []
    walk = judge.repo.first_parent_walk("main", PATHS) if walk is None else walk
    for landing in judge.read_ahead(walk, lambda _landing: True):
        steps = judge.advance(landing)
        changed = sum(len(step.changed()) for step in steps)
        if changed:
            found += [(landing.commit, judge.verdict(landing, steps))] * changed
        judge.held_after(steps)
    return found


@pytest.mark.parametrize("ahead", [1, 2, 3, 7])
def test_verdicts_are_the_same_whatever_the_commits_read_ahead(crafted: Path, ahead: int) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    assert _verdicts(Judge(repo, ahead=ahead)) == _reference(repo)


def test_judging_promotions_reads_their_files_ahead(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    models = model_names(3, width=1)
    make_registry(root, tmp_path / "blobs", registry_files(models, 4))
    staging: dict[str, int] = {}
    for number in range(1, 5):
        for model in models:
            staging[model] = number
            _promote(root, "staging", dict(staging), f"{model}-{number} to staging", merge=number % 2 == 0)
    repo = CountingRepo.open(root)
    assert isinstance(repo, CountingRepo)
    judge = Judge(repo, ahead=5)
    verdicts = _verdicts(judge)
    assert [v for _c, v in verdicts] == ["pass"] * 12
    assert judge.full_runs == 0
    assert repo.single == 0 and repo.batches == 0  # every model and version file came ahead...
    # ...5 commits at a time (13 commits: the registry, then 12 promotions), after one request for the blobs
    # of the stage files of all 13 (gitreg.stage_patches reads 64 commits' at a time)
    assert sum(reader.requests for reader in repo.readers) == 1 + 3
    assert [(e.change.commit, e.verdict) for e in audit(repo, "main")] == verdicts
