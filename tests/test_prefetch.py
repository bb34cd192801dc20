"""``GitRepo.prefetch`` starts a git command ahead of the read that asks it (history's and audit's checks,
started with their walk): the read takes that process's answer (as git gave it when started), exactly as a
fresh run would give it, failures included; a read with other arguments runs its own; ``close`` stops what
nobody took."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.errors import GitError
from gitreg.gitrepo import GitRepo
from gitreg.layout import PULL_REF_PREFIXES
from testing import commit_all, git


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    (tmp_path / "a.txt").write_text("a\n")
    commit_all(tmp_path, "one")
    git(tmp_path, "update-ref", "refs/pull/7/head", "HEAD")
    return tmp_path


def test_a_read_takes_the_answer_started_ahead(repo_path: Path) -> None:
    fresh = GitRepo.open(repo_path)
    want = (fresh.rev_parse_shallow("main"), fresh.ref_tips(*PULL_REF_PREFIXES))
    repo = GitRepo.open(repo_path)
    repo.prefetch_history_checks("main", PULL_REF_PREFIXES)
    started = list(repo._ahead.values())
    assert len(started) == 2
    git(repo_path, "update-ref", "refs/pull/8/head", "HEAD")  # after the start: not in its answer
    assert (repo.rev_parse_shallow("main"), repo.ref_tips(*PULL_REF_PREFIXES)) == want
    assert repo._ahead == {} and all(p.returncode == 0 for p in started)
    assert "refs/pull/8/head" in repo.ref_tips(*PULL_REF_PREFIXES)  # asked again: a new git, a new answer
    repo.close()


def test_failures_read_alike(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path)
    repo.prefetch_history_checks("no-such-branch", ["refs/pull/"])
    assert repo.rev_parse_shallow("no-such-branch") == (None, False)
    repo.prefetch("cat-file", "-p", "0" * 40)
    with pytest.raises(GitError, match=r"^git cat-file failed: fatal: Not a valid object name 0{40}$"):
        repo._run("cat-file", "-p", "0" * 40)
    with pytest.raises(GitError, match=r"^git cat-file failed: fatal: Not a valid object name 0{40}$"):
        GitRepo.open(repo_path)._run("cat-file", "-p", "0" * 40)
    repo.close()


def test_other_arguments_run_their_own_and_close_stops_the_rest(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path)
    repo.prefetch_history_checks("main", ["refs/pull/"])
    assert repo.rev_parse_shallow("HEAD")[0] == repo.rev_parse("main")  # other arguments
    assert len(repo._ahead) == 2
    started = list(repo._ahead.values())
    repo.close()
    assert repo._ahead == {} and all(p.returncode is not None for p in started)
