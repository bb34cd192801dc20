"""What a repository holds is input: a path with spaces that is not there, a commit message with git log's
own record separators, a user's git config. None of them may end in a traceback or change a verdict."""

from __future__ import annotations

from pathlib import Path

from gitreg.gitlite import LiteRepo
from gitreg.gitrepo import GitRepo
from gitreg.stage_history import held_versions
from testing import git


def commit(repo: Path, path: str, text: str, message: str) -> str:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def test_a_missing_path_with_spaces_is_missing_for_both_git_readers(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    commit(tmp_path, "a.txt", "a", "first")
    with LiteRepo.open(tmp_path) as lite:
        for missing in ("x y", "models/x  y/model.yaml", "a b c"):
            assert lite.object_at("HEAD", missing) is None
            assert lite.read_path("HEAD", missing) is None
        assert lite.read_path("HEAD", "a.txt") == b"a"  # the process is still there after the misses
    assert GitRepo.open(tmp_path).read_path("HEAD", "x y") is None


def test_record_separators_in_a_commit_message_are_read_as_text(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    commit(tmp_path, "stages/production.yaml", "fraud: 1\n", "first")
    commit(tmp_path, "stages/production.yaml", "fraud: 2\n", "second\n\n\x1ebody\x1f\x1dand more\n\x1e")
    log = list(GitRepo.open(tmp_path).first_parent_log("HEAD", ["stages/"]))
    assert [c.subject for c in log] == ["second", "first"]
    assert all("stages/production.yaml" in c.changes for c in log)


def test_a_stage_held_at_the_root_commit_counts_whatever_the_git_config(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    commit(tmp_path, "stages/production.yaml", "fraud: 1\n", "first")
    commit(tmp_path, "stages/production.yaml", "fraud: 2\n", "second")
    git(tmp_path, "config", "log.showRoot", "false")
    assert held_versions(GitRepo.open(tmp_path), "HEAD", "production", "fraud") == [2, 1]
