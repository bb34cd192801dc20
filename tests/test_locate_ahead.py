"""Finding the repository (gitreg.gitfind) stays git's answer. ``show``, ``list`` and ``pull`` start their
``git rev-parse`` before importing what they need (``LocateAhead``) and take its answer only for the same
path, from the same working folder, with the same environment: when the place git names is not the folder
given (a subfolder, ``GIT_DIR`` pointing elsewhere, a linked worktree, ``core.worktree``), or something
changed between the start and the question, the quick path still prints what the click path prints. And
the quick reads never load subprocess (about 4 ms a process): a test of imports, not of time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitreg.errors import NotFoundError
from gitreg.gitfind import LocateAhead, Location, locate
from testing import commit_all, git, run, write_bytes
from testing.imports import entry_and_click, modules_after


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2 (fraud@2 in staging), committed."""
    art = write_bytes(tmp_path / "art" / "model.bin", 300, 1)
    for metric in ("auc=0.9", "auc=0.93"):
        assert run("register", "fraud", art, "--metric", metric, cwd=registry).exit_code == 0
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Promote fraud@2 to staging")
    return registry


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """A second registry holding only risk@1, uncommitted beside its first commit."""
    path, art = tmp_path / "other", write_bytes(tmp_path / "art" / "risk.bin", 200, 2)
    assert run("init", path, "--storage", (tmp_path / "other-blobs").as_uri()).exit_code == 0
    assert run("register", "risk", art, "--metric", "auc=0.5", cwd=path).exit_code == 0
    return path


READS = [("list",), ("list", "fraud"), ("show", "fraud@staging"), ("show", "risk@1"), ("list", "--json")]


def alike(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    """What the quick path did, after checking that the click path did the same and click was not loaded."""
    quick, slow, modules = entry_and_click(tmp_path, *args, env=env)
    assert quick == slow
    assert "click" not in modules
    return quick


@pytest.mark.parametrize("args", READS, ids=repr)
def test_from_a_subfolder_git_names_the_top(populated: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    below = populated / "models" / "fraud" / "versions"
    assert alike(tmp_path, "-C", str(below), *args) == alike(tmp_path, "-C", str(populated), *args)


@pytest.mark.parametrize("args", READS, ids=repr)
def test_git_dir_pointing_elsewhere(
    populated: Path, other: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """GIT_DIR names the other registry's repository; its working tree is then the folder git runs in."""
    env = {"GIT_DIR": str(other / ".git")}
    alike(tmp_path, "-C", str(populated), *args, env=env)
    env["GIT_WORK_TREE"] = str(other)
    outcome = alike(tmp_path, "-C", str(populated), *args, env=env)
    assert outcome == alike(tmp_path, "-C", str(other), *args)


@pytest.mark.parametrize("args", READS, ids=repr)
def test_a_linked_worktree_reads_its_own_files(
    populated: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    linked = tmp_path / "linked"
    git(populated, "worktree", "add", "-q", "--detach", str(linked))
    (linked / "stages" / "staging.yaml").write_text("fraud: 1\n")  # uncommitted, in the linked tree only
    (linked / "models" / "fraud" / "versions" / "2.yaml").unlink()
    outcome = alike(tmp_path, "-C", str(linked), *args)
    if args != ("show", "risk@1"):
        assert outcome != alike(tmp_path, "-C", str(populated), *args)


@pytest.mark.parametrize("args", READS, ids=repr)
def test_core_worktree_names_the_working_tree(populated: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    """The repository's folder is elsewhere and its configuration names the working tree: run from neither
    the working tree nor a folder holding ``.git``, git still finds the registry."""
    meta = tmp_path / "meta.git"
    (populated / ".git").rename(meta)
    git(populated, "--git-dir", str(meta), "config", "core.worktree", str(populated))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outcome = alike(tmp_path, "-C", str(elsewhere), *args, env={"GIT_DIR": str(meta)})
    assert outcome == alike(tmp_path, "-C", str(populated), *args, env={"GIT_DIR": str(meta)})
    assert outcome[0] == (3 if args == ("show", "risk@1") else 0)


# --- gitfind in a process: the answer started ahead is taken only when it is the same question -----------


def test_ahead_gives_git_s_answer(populated: Path) -> None:
    with LocateAhead(populated):
        found = locate(populated)
    assert found == locate(populated) == Location(populated / ".git", populated)


def test_an_environment_changed_meanwhile_is_asked_again(
    populated: Path, other: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocateAhead(populated):
        monkeypatch.setenv("GIT_DIR", str(other / ".git"))
        found = locate(populated)
    assert found.git_dir == other / ".git"
    assert found.workdir == populated  # GIT_DIR without GIT_WORK_TREE: the folder git runs in


def test_a_working_folder_changed_meanwhile_is_asked_again(
    populated: Path, other: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(populated / "models")
    with LocateAhead(Path()):
        monkeypatch.chdir(other)
        found = locate(Path())
    assert found == Location(other / ".git", other)


def test_another_path_is_asked_on_its_own_and_git_is_reaped(populated: Path, other: Path) -> None:
    with LocateAhead(populated) as ahead:
        assert ahead.discovery is not None
        pid = ahead.discovery.pid
        assert locate(other) == Location(other / ".git", other)
    assert pid is not None
    with pytest.raises(ChildProcessError):  # waited for: no process left behind
        os.waitpid(pid, os.WNOHANG)
    assert locate(populated).workdir == populated  # and nothing stale is kept for later


@pytest.mark.parametrize("where", ["missing", "plain-folder"])
def test_no_repository_is_not_found(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    if where != "missing":
        folder.mkdir()
    for ahead in (False, True):
        started = LocateAhead(folder if ahead else tmp_path / "unused")
        with started, pytest.raises(NotFoundError, match=r"is not inside a git repository"):
            locate(folder)


def test_no_git_on_the_path_is_not_found(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(populated))
    with pytest.raises(NotFoundError, match=r"is not inside a git repository"):
        locate(populated)


def test_a_bare_repository_has_no_working_tree(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with LocateAhead(bare):
        assert locate(bare) == Location(bare, None)


@pytest.mark.parametrize("args", [("list",), ("list", "fraud"), ("show", "fraud@staging"), ("show", "fraud")])
def test_quick_reads_do_not_load_subprocess(populated: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    done, modules = modules_after(tmp_path, "-C", populated, *args)
    assert done.returncode == 0, done.stderr
    assert "subprocess" not in modules
