"""``GitRepo.start_walk`` starts a walk's ``git log`` early for the walk to take over: the walk then reads the
log as it stood when started (one process, not two), a start with other arguments is not taken over, and
``close`` stops a start nobody took over; a ref that reads as an option is never one."""

from __future__ import annotations

import select
from pathlib import Path

import pytest

from gitreg.errors import GitError
from gitreg.gitrepo import GitRepo
from gitreg.layout import history_paths
from testing import commit_all, git


def _registry(root: Path) -> None:
    git(root, "init", "--quiet", "--initial-branch=main")
    for number in (1, 2):
        (root / "stages").mkdir(exist_ok=True)
        (root / "stages" / "staging.yaml").write_text(f"fraud: {number}\n")
        commit_all(root, f"fraud {number}")


def _subjects(repo: GitRepo, paths: list[str]) -> list[str]:
    return [c.subject for c in repo.first_parent_walk("main", paths)]


def test_the_walk_takes_over_the_log_started_before_it(tmp_path: Path) -> None:
    _registry(tmp_path)
    repo = GitRepo.open(tmp_path)
    repo.start_walk("main", history_paths())
    repo.start_walk("main", history_paths("production"))  # other paths: not the walk below
    repo.start_walk("main", history_paths(), oldest_first=False)  # newest first: not the walk below either
    (started,) = [
        p
        for (_ref, paths, oldest, _full), p in repo._walks.items()
        if list(paths) == history_paths() and oldest
    ]
    assert started.stdout is not None
    assert select.select([started.stdout], [], [], 60)[0]  # git has written: it read main before the commit
    (tmp_path / "stages" / "staging.yaml").write_text("fraud: 3\n")
    commit_all(tmp_path, "fraud 3")  # after the start: the started log does not have it
    assert _subjects(repo, history_paths()) == ["fraud 1", "fraud 2"]
    assert _subjects(repo, history_paths()) == ["fraud 1", "fraud 2", "fraud 3"]  # a new walk, a new log
    repo.close()


def test_a_walk_newest_first_takes_over_the_log_started_newest_first(tmp_path: Path) -> None:
    _registry(tmp_path)
    repo = GitRepo.open(tmp_path)
    repo.start_walk("main", history_paths())  # oldest first: not the walk below
    repo.start_walk("main", history_paths(), oldest_first=False)
    (started,) = [p for (_ref, _paths, oldest, _full), p in repo._walks.items() if not oldest]
    assert started.stdout is not None
    assert select.select([started.stdout], [], [], 60)[0]
    (tmp_path / "stages" / "staging.yaml").write_text("fraud: 3\n")
    commit_all(tmp_path, "fraud 3")
    assert [c.subject for c in repo.first_parent_rewind("main", history_paths())] == ["fraud 2", "fraud 1"]
    assert [c.subject for c in repo.first_parent_rewind("main", history_paths())] == [
        "fraud 3",
        "fraud 2",
        "fraud 1",
    ]
    assert len(repo._walks) == 1  # the oldest-first start is left for close to stop
    repo.close()


def test_close_stops_a_start_nobody_took_over(tmp_path: Path) -> None:
    _registry(tmp_path)
    repo = GitRepo.open(tmp_path)
    repo.start_walk("main", history_paths())
    repo.start_walk("no-such-branch", history_paths())  # fails in git: the walk would say so
    started = list(repo._walks.values())
    repo.close()
    assert [proc.returncode is not None for proc in started] == [True, True]
    assert repo._walks == {}


@pytest.mark.parametrize("oldest_first", [True, False])
@pytest.mark.parametrize("ref", ["--output=OUT", "--output OUT", "-oOUT", "--no-walk=OUT"])
def test_a_ref_that_reads_as_an_option_is_only_a_revision_git_does_not_know(
    tmp_path: Path, ref: str, oldest_first: bool
) -> None:
    (tmp_path / "r").mkdir()
    _registry(tmp_path / "r")
    out = tmp_path / "written"
    repo = GitRepo.open(tmp_path / "r")
    hostile = ref.replace("OUT", str(out))
    repo.start_walk(hostile, history_paths(), oldest_first)  # before any check of the ref, as the commands do
    (started,) = repo._walks.values()
    started.wait(timeout=60)
    walk = repo.first_parent_walk if oldest_first else repo.first_parent_rewind
    with pytest.raises(GitError, match="git log failed"):
        list(walk(hostile, history_paths()))
    repo.close()
    assert not out.exists()
    assert started.returncode != 0
