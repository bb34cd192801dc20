"""``gitreg.walk_cache``: what history and audit keep under ``.git/gitreg/cache`` is keyed by object ids, so
a rewritten history is judged afresh, and a cache file that is not exactly what gitreg writes (garbage,
another schema, rows of the wrong shape, a change that does not start from what the walk knows, a symlink)
is ignored: the verdicts stay those of a full validation of each change (``_reference``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pydantic.version
import pytest

from gitreg.gitrepo import GitRepo
from gitreg.layout import stage_path
from gitreg.ops.history import AuditEntry, audit, stage_history
from gitreg.ops.verdicts import Judge
from gitreg.walk_cache import FILE_NAME, WalkCache, environment, pydantic_version
from ops.test_audit_verdicts import MODELS, _reference, _write, crafted  # noqa: F401 - crafted: a fixture
from ops.test_audit_walk import PATHS
from testing import git
from testing.synthetic import commit_all, stage_manifest


def _cache_file(repo: GitRepo) -> Path:
    return repo.cache_folder() / FILE_NAME


def _rows(entries: list[AuditEntry]) -> list[dict[str, object]]:
    return [e.as_dict() for e in entries]


def _check(root: Path) -> list[AuditEntry]:
    """Audit's entries and history, as the cache leaves them, equal a walk without it and full validation."""
    repo = GitRepo.open(root)
    entries = audit(repo, "main")
    cold = audit(repo, "main", cache=False)
    assert _rows(entries) == _rows(cold)
    assert [(e.change.commit, e.verdict) for e in entries] == _reference(repo)
    for model in MODELS:
        assert stage_history(repo, "main", model) == stage_history(repo, "main", model, cache=False)
    return entries


def _sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


def _verdict_count(repo: GitRepo) -> int:
    cache = WalkCache.open(repo.cache_folder(), environment())
    assert cache is not None
    commits = git(Path(repo.cache_folder()).parent.parent.parent, "rev-list", "main").split()
    found = len(cache.verdicts(commits))
    cache.close()
    return found


def test_a_second_walk_takes_its_verdicts_from_the_cache(crafted: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    assert not _cache_file(repo).exists()
    _check(crafted)
    assert _cache_file(repo).is_file()
    assert _verdict_count(repo) == len({c for c, _v in _reference(repo)})
    _check(crafted)


def test_a_rewritten_history_is_judged_afresh(crafted: Path) -> None:  # noqa: F811
    _check(crafted)
    git(crafted, "reset", "--quiet", "--hard", "HEAD~4")  # back before the requirement was dropped
    m0, m1, m2 = MODELS
    production = {m0: 1, m2: 1}
    _write(crafted, stage_path("production"), stage_manifest(production))
    commit_all(crafted, "m2-1 straight to production, the requirement still there")  # fail now
    _write(crafted, stage_path("staging"), stage_manifest({m0: 1, m1: 1}))
    commit_all(crafted, "staging rewritten")
    entries = _check(crafted)
    assert entries[-3].verdict.startswith("fail: ") and "stage-transition" in entries[-3].verdict


def test_a_cache_file_of_garbage_is_replaced(crafted: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    path = _cache_file(repo)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    _check(crafted)
    assert _verdict_count(repo) > 0  # replaced by a cache that works


def test_a_cache_with_another_schema_or_format_is_replaced(crafted: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    _check(crafted)
    path = _cache_file(repo)
    _sql(
        path,
        "CREATE TRIGGER lie AFTER INSERT ON verdicts BEGIN UPDATE verdicts SET verdict = 'pass'; END",
        "DELETE FROM verdicts",
    )
    _check(crafted)
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == []
    db.close()
    _sql(path, "UPDATE meta SET value = 'gitreg-walk-cache 0'", "UPDATE verdicts SET verdict = 'pass'")
    _check(crafted)  # another format's verdicts are not read


def test_rows_of_the_wrong_shape_are_ignored(crafted: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    _check(crafted)
    _sql(
        _cache_file(repo),
        "UPDATE transitions SET delta = 'not json'",
        "UPDATE verdicts SET verdict = 'maybe'",
        "UPDATE artifacts SET digest = 'sha256:zz', size = -1",
    )
    _check(crafted)


def test_a_change_that_does_not_start_from_the_walk_is_not_trusted(crafted: Path) -> None:  # noqa: F811
    """A cached stage change is applied only to the entries it says it changes from."""
    repo = GitRepo.open(crafted)
    _check(crafted)
    _sql(
        _cache_file(repo),
        "UPDATE transitions SET delta = '[[\"model-0\", 7, 8]]'",
        "DELETE FROM verdicts",
    )
    _check(crafted)


def test_a_symlinked_cache_is_not_followed(crafted: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    outside = tmp_path / "outside"
    outside.write_text("not a cache\n")
    folder = repo.cache_folder()
    folder.mkdir(parents=True)
    _cache_file(repo).symlink_to(outside)
    _check(crafted)
    assert outside.read_text() == "not a cache\n"
    assert not _cache_file(repo).is_symlink()  # the link itself was replaced (a rename over it)
    # links where SQLite keeps its log and journal: removed, not written through
    for suffix in ("-wal", "-journal", "-shm"):
        link = folder / f"{FILE_NAME}{suffix}"
        link.unlink(missing_ok=True)
        link.symlink_to(outside)
    _check(crafted)
    assert outside.read_text() == "not a cache\n"
    assert not any((folder / f"{FILE_NAME}{suffix}").is_symlink() for suffix in ("-wal", "-journal", "-shm"))
    assert _verdict_count(repo) > 0  # and the cache works
    # a symlinked folder on the way: nothing is written through it
    _cache_file(repo).unlink()
    folder.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.symlink_to(elsewhere)
    _check(crafted)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("ahead", [1, 3, 300])
def test_warm_verdicts_are_the_same_whatever_the_commits_read_ahead(crafted: Path, ahead: int) -> None:  # noqa: F811
    repo = GitRepo.open(crafted)
    _check(crafted)  # fills the cache
    cache = WalkCache.open(repo.cache_folder(), environment())
    assert cache is not None
    judge = Judge(repo, ahead=ahead, cache=cache)
    found = []
    for landing in judge.read_ahead(repo.first_parent_walk("main", PATHS), lambda _landing: True):
        steps = judge.advance(landing)
        changed = sum(len(step.changed()) for step in steps)
        if changed:
            found += [(landing.commit, judge.verdict(landing, steps))] * changed
        judge.held_after(steps)
    cache.close()
    assert found == _reference(repo)
    assert judge.full_runs == 0 and cache.hits > 0


def test_the_pydantic_version_read_from_its_source_is_the_imported_one() -> None:
    assert pydantic_version() == pydantic.version.VERSION
