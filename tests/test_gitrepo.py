"""``gitreg.gitrepo``: the plumbing commits (exact trees, branches not checked out, compare-and-swap,
deletions), reading trees and blobs, identity, and refs, all against real repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitreg.errors import ConflictError, GitError, NotFoundError
from gitreg.gitrepo import GitRepo, Identity, ls_remote, repo_containing
from testing import git, tree_state


def worktree_state(repo: Path) -> dict[str, str]:
    return {k: v for k, v in tree_state(repo).items() if k != ".git" and not k.startswith(".git/")}


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    """A repository on main with two commits: a.txt and docs/b.txt, then c.txt."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "--quiet")
    (path / "a.txt").write_text("a\n")
    (path / "docs").mkdir()
    (path / "docs" / "b.txt").write_text("b\n")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "first")
    (path / "c.txt").write_text("c\n")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "second")
    return path


@pytest.fixture
def repo(repo_path: Path) -> GitRepo:
    return GitRepo.open(repo_path)


def rev(path: Path, ref: str) -> str:
    return git(path, "rev-parse", ref).strip()


def files_at(path: Path, ref: str) -> dict[str, str]:
    """{path: content} of every file in ``ref``'s tree."""
    names = git(path, "ls-tree", "-r", "--name-only", ref).split()
    return {name: git(path, "show", f"{ref}:{name}") for name in names}


# --- opening ----------------------------------------------------------------------------------------------


def test_open_finds_the_top_from_a_subfolder(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path / "docs")
    assert repo.workdir == repo_path


def test_open_without_searching_parents(repo_path: Path) -> None:
    with pytest.raises(NotFoundError) as exc:
        GitRepo.open(repo_path / "docs", search_parents=False)
    assert str(exc.value) == (
        f"{repo_path / 'docs'} is not inside a git repository "
        "(run gitreg inside a registry checkout, or pass -C DIR)"
    )


def test_open_outside_any_repo(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as exc:
        GitRepo.open(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path} is not inside a git repository (run gitreg inside a registry checkout, or pass -C DIR)"
    )


def test_init_and_init_bare(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "new", branch="trunk")
    assert repo.workdir == tmp_path / "new"
    assert repo.head() is None
    assert repo.current_branch() == "trunk"
    bare = GitRepo.init_bare(tmp_path / "bare.git")
    assert bare.workdir is None
    assert git(tmp_path / "bare.git", "rev-parse", "--is-bare-repository").strip() == "true"


def test_repo_containing(repo_path: Path, tmp_path: Path) -> None:
    found = repo_containing(repo_path / "docs" / "b.txt")
    assert found is not None
    assert found.workdir == repo_path
    found = repo_containing(repo_path / "docs")
    assert found is not None
    assert found.workdir == repo_path
    assert repo_containing(tmp_path / "elsewhere.txt") is None


# --- refs -------------------------------------------------------------------------------------------------


def test_rev_parse(repo: GitRepo, repo_path: Path) -> None:
    assert repo.rev_parse("HEAD") == rev(repo_path, "HEAD")
    assert repo.rev_parse("main~1") == rev(repo_path, "HEAD~1")
    assert repo.rev_parse("refs/heads/main") == rev(repo_path, "HEAD")
    assert repo.rev_parse("no-such-branch") is None
    assert repo.rev_parse("HEAD~5") is None
    assert repo.rev_parse("0" * 40) is None
    assert repo.rev_parse("bad..ref") is None
    assert repo.rev_parse("--all") is None
    # a tree or a blob is not a commit
    assert repo.rev_parse(rev(repo_path, "HEAD^{tree}")) is None
    assert repo.rev_parse(rev(repo_path, "HEAD:a.txt")) is None


def test_head_and_current_branch(repo: GitRepo, repo_path: Path) -> None:
    assert repo.head() == rev(repo_path, "HEAD")
    assert repo.current_branch() == "main"
    git(repo_path, "checkout", "--quiet", "--detach")
    assert repo.current_branch() is None
    assert repo.head() == rev(repo_path, "HEAD")


def test_remote_url(repo: GitRepo, repo_path: Path) -> None:
    assert repo.remote_url() is None
    git(repo_path, "remote", "add", "origin", "https://git.example.com/x.git")
    git(repo_path, "remote", "add", "backup", "/srv/backup.git")
    assert repo.remote_url() == "https://git.example.com/x.git"
    assert repo.remote_url("backup") == "/srv/backup.git"
    assert repo.remote_url("nope") is None


def test_run_failure_is_one_line(repo: GitRepo) -> None:
    with pytest.raises(GitError) as exc:
        repo.ls_tree("1" * 40)
    assert str(exc.value).startswith("git ls-tree failed: fatal: ")
    assert "\n" not in str(exc.value)


# --- reading ----------------------------------------------------------------------------------------------


def test_ls_tree(repo: GitRepo, repo_path: Path) -> None:
    head = rev(repo_path, "HEAD")
    everything = repo.ls_tree(head)
    assert sorted(everything) == ["a.txt", "c.txt", "docs/b.txt"]
    assert everything["docs/b.txt"] == rev(repo_path, "HEAD:docs/b.txt")
    assert repo.ls_tree(head, ["docs"]) == {"docs/b.txt": rev(repo_path, "HEAD:docs/b.txt")}
    assert repo.ls_tree(head, ["a.txt", "docs"]).keys() == {"a.txt", "docs/b.txt"}
    assert repo.ls_tree(head, ["missing"]) == {}
    assert sorted(repo.ls_tree(rev(repo_path, "HEAD~1"))) == ["a.txt", "docs/b.txt"]


def test_ls_tree_from_a_subfolder_lists_the_full_tree(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path / "docs")
    assert sorted(repo.ls_tree("HEAD")) == ["a.txt", "c.txt", "docs/b.txt"]
    assert sorted(repo.ls_tree("HEAD", ["docs"])) == ["docs/b.txt"]


def test_ls_tree_odd_file_names(repo: GitRepo, repo_path: Path) -> None:
    names = ["with space.txt", "tab\tname.txt", "new\nline.txt", "ünïcode.txt"]
    for name in names:
        (repo_path / name).write_text(name)
    git(repo_path, "add", "--all")
    git(repo_path, "commit", "--quiet", "-m", "odd")
    listed = repo.ls_tree("HEAD")
    for name in names:
        assert repo.read_blob(listed[name]) == name.encode()


def test_read_blob(repo: GitRepo, repo_path: Path) -> None:
    assert repo.read_blob(rev(repo_path, "HEAD:a.txt")) == b"a\n"
    with pytest.raises(GitError) as exc:
        repo.read_blob("f" * 40)
    assert str(exc.value).startswith(f"cannot read git object {'f' * 40}: ")


def test_identity(repo: GitRepo) -> None:
    ident = repo.identity()
    assert ident == Identity("Test User", "test@example.com")
    assert str(ident) == "Test User <test@example.com>"


def test_identity_from_environment(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Lovelace")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.org")
    assert str(repo.identity()) == "Ada Lovelace <ada@example.org>"


def test_identity_from_repository_config(repo: GitRepo, repo_path: Path) -> None:
    git(repo_path, "config", "user.name", "Repo Person")
    git(repo_path, "config", "user.email", "repo@example.net")
    assert repo.identity() == Identity("Repo Person", "repo@example.net")


def test_unknown_identity(repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "anonymous.gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(GitError) as exc:
        repo.identity()
    assert str(exc.value) == (
        'git does not know who you are (set it with git config user.name "Your Name" and '
        "git config user.email you@example.com)"
    )


def test_worktree_matches(repo: GitRepo, repo_path: Path) -> None:
    head = rev(repo_path, "HEAD")
    assert repo.worktree_matches("a.txt", head)
    assert repo.worktree_matches("nowhere.txt", head)
    (repo_path / "a.txt").write_text("edited\n")
    assert not repo.worktree_matches("a.txt", head)
    (repo_path / "new.txt").write_text("new\n")
    assert not repo.worktree_matches("new.txt", head)
    (repo_path / "c.txt").unlink()
    assert not repo.worktree_matches("c.txt", head)
    assert repo.worktree_matches("c.txt", rev(repo_path, "HEAD~1"))


# --- writing ----------------------------------------------------------------------------------------------


def test_commit_files_on_a_branch_not_checked_out(repo: GitRepo, repo_path: Path) -> None:
    git(repo_path, "branch", "side", "HEAD~1")
    side = rev(repo_path, "side")
    main = rev(repo_path, "main")
    (repo_path / "a.txt").write_text("uncommitted\n")
    git(repo_path, "add", "a.txt")
    before_worktree = worktree_state(repo_path)
    before_index = git(repo_path, "ls-files", "--stage")
    commit = repo.commit_files(
        {"models/m/versions/1.yaml": b"version: 1\n", "docs/b.txt": b"rewritten\n"},
        "Add things\n\nGitreg-Model: m\n",
        "side",
        side,
    )
    assert rev(repo_path, "side") == commit
    assert rev(repo_path, "side~1") == side
    assert files_at(repo_path, "side") == {
        "a.txt": "a\n",
        "docs/b.txt": "rewritten\n",
        "models/m/versions/1.yaml": "version: 1\n",
    }
    assert sorted(git(repo_path, "diff-tree", "--no-commit-id", "--name-only", "-r", commit).split()) == [
        "docs/b.txt",
        "models/m/versions/1.yaml",
    ]
    assert git(repo_path, "log", "-1", "--format=%B", commit) == "Add things\n\nGitreg-Model: m\n\n"
    assert git(repo_path, "log", "-1", "--format=%an <%ae>|%cn <%ce>", commit).strip() == (
        "Test User <test@example.com>|Test User <test@example.com>"
    )
    # the checked-out branch, the index and the working tree are untouched
    assert rev(repo_path, "main") == main
    assert git(repo_path, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert worktree_state(repo_path) == before_worktree
    assert git(repo_path, "ls-files", "--stage") == before_index
    assert not (repo_path / "models").exists()


def test_commit_files_creates_a_branch_from_a_parent(repo: GitRepo, repo_path: Path) -> None:
    """A new branch needs no tip to compare with: it starts from ``parent``."""
    head = rev(repo_path, "HEAD")
    before = worktree_state(repo_path)
    commit = repo.commit_files({"x.txt": b"x\n"}, "x", "feature/x", head)
    assert rev(repo_path, "feature/x") == commit
    assert rev(repo_path, "feature/x~1") == head
    assert files_at(repo_path, "feature/x") == {
        "a.txt": "a\n",
        "c.txt": "c\n",
        "docs/b.txt": "b\n",
        "x.txt": "x\n",
    }
    assert rev(repo_path, "HEAD") == head
    assert worktree_state(repo_path) == before


def test_commit_files_root_commit_on_a_new_branch(repo: GitRepo, repo_path: Path) -> None:
    commit = repo.commit_files({"only.txt": b"alone\n"}, "root", "orphan", None)
    assert rev(repo_path, "orphan") == commit
    assert files_at(repo_path, "orphan") == {"only.txt": "alone\n"}
    assert git(repo_path, "rev-list", "--count", "orphan").strip() == "1"
    assert not (repo_path / "only.txt").exists()


def test_commit_files_on_the_checked_out_branch(repo: GitRepo, repo_path: Path) -> None:
    head = rev(repo_path, "HEAD")
    (repo_path / "a.txt").write_text("staged\n")
    git(repo_path, "add", "a.txt")
    (repo_path / "c.txt").write_text("unstaged\n")
    commit = repo.commit_files({"new/file.txt": b"new\n"}, "add", "main", head)
    assert rev(repo_path, "HEAD") == commit
    assert (repo_path / "new" / "file.txt").read_bytes() == b"new\n"
    assert git(repo_path, "show", "HEAD:a.txt") == "a\n"
    assert sorted(git(repo_path, "status", "--porcelain").splitlines()) == [" M c.txt", "M  a.txt"]


def test_commit_files_refuses_when_the_branch_moved(repo: GitRepo, repo_path: Path) -> None:
    stale = rev(repo_path, "HEAD~1")
    tip = rev(repo_path, "HEAD")
    before = tree_state(repo_path)
    with pytest.raises(ConflictError) as exc:
        repo.commit_files({"x.txt": b"x\n"}, "x", "main", stale)
    assert str(exc.value) == "branch main moved while gitreg was committing (run the command again)"
    assert rev(repo_path, "main") == tip
    assert worktree_state(repo_path) == {k: v for k, v in before.items() if not k.startswith(".git")}
    assert not (repo_path / "x.txt").exists()
    assert git(repo_path, "status", "--porcelain") == ""


def test_commit_files_refuses_a_root_commit_over_an_existing_branch(repo: GitRepo, repo_path: Path) -> None:
    git(repo_path, "branch", "taken")
    tip = rev(repo_path, "taken")
    with pytest.raises(ConflictError) as exc:
        repo.commit_files({"x.txt": b"x\n"}, "x", "taken", None)
    assert str(exc.value) == "branch taken moved while gitreg was committing (run the command again)"
    assert rev(repo_path, "taken") == tip


def test_commit_files_deletes_with_none(repo: GitRepo, repo_path: Path) -> None:
    head = rev(repo_path, "HEAD")
    commit = repo.commit_files({"c.txt": None, "docs/b.txt": None, "d.txt": b"d\n"}, "swap", "main", head)
    assert files_at(repo_path, commit) == {"a.txt": "a\n", "d.txt": "d\n"}
    assert not (repo_path / "c.txt").exists()
    assert not (repo_path / "docs" / "b.txt").exists()
    assert (repo_path / "d.txt").read_text() == "d\n"
    assert git(repo_path, "status", "--porcelain") == ""


def test_commit_files_delete_on_another_branch(repo: GitRepo, repo_path: Path) -> None:
    git(repo_path, "branch", "side")
    commit = repo.commit_files({"a.txt": None}, "rm", "side", rev(repo_path, "side"))
    assert files_at(repo_path, commit) == {"c.txt": "c\n", "docs/b.txt": "b\n"}
    assert (repo_path / "a.txt").read_text() == "a\n"


def test_commit_files_in_a_bare_repo(repo_path: Path, tmp_path: Path) -> None:
    bare_path = tmp_path / "bare.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(repo_path), str(bare_path))
    bare = GitRepo.open(bare_path)
    tip = rev(bare_path, "main")
    commit = bare.commit_files({"z.txt": b"z\n"}, "z", "main", tip)
    assert rev(bare_path, "main") == commit
    assert files_at(bare_path, "main")["z.txt"] == "z\n"


# --- newer helpers ----------------------------------------------------------------------------------------


def test_changed_files_and_merge_base(repo: GitRepo, repo_path: Path) -> None:
    first = rev(repo_path, "HEAD~1")
    assert repo.changed_files(first, rev(repo_path, "HEAD")) == {"c.txt": "A"}
    (repo_path / "a.txt").write_text("edited\n")
    (repo_path / "u.txt").write_text("untracked\n")
    (repo_path / "c.txt").unlink()
    assert repo.changed_files(rev(repo_path, "HEAD")) == {"a.txt": "M", "c.txt": "D", "u.txt": "A"}
    git(repo_path, "branch", "side", first)
    assert repo.merge_base("main", "side") == first
    assert repo.merge_base("main", "nope") is None


def test_read_path_and_tree_names(repo: GitRepo, repo_path: Path) -> None:
    head = rev(repo_path, "HEAD")
    assert repo.read_path(head, "docs/b.txt") == b"b\n"
    assert repo.read_path(head, "docs") is None
    assert repo.read_path(head, "missing.txt") is None
    assert repo.tree_names(head, "docs") == ["b.txt"]
    assert repo.tree_names(head, "") == ["a.txt", "c.txt", "docs"]
    assert repo.tree_names(head, "a.txt") == []


def test_first_parent_log(repo: GitRepo, repo_path: Path) -> None:
    (repo_path / "a.txt").write_text("a2\n")
    git(repo_path, "commit", "--quiet", "-am", "a2")
    log = list(repo.first_parent_log("HEAD", ["a.txt"]))
    assert [c.subject for c in log] == ["a2", "first"]
    old, new, status = log[0].changes["a.txt"]
    assert (repo.read_blob(old), repo.read_blob(new), status) == (b"a\n", b"a2\n", "M")
    assert log[1].changes["a.txt"][0::2] == ("0" * 40, "A")
    assert [c.subject for c in repo.first_parent_log("HEAD", ["c.txt"])] == ["second"]


def test_refs_and_branch_names(repo: GitRepo, repo_path: Path) -> None:
    git(repo_path, "tag", "-a", "-m", "v1", "v1", "HEAD~1")
    tips = repo.ref_tips("refs/heads", "refs/tags")
    assert tips == {"refs/heads/main": rev(repo_path, "main"), "refs/tags/v1": rev(repo_path, "HEAD~1")}
    assert repo.is_valid_branch_name("gitreg/promote/a-1")
    assert not repo.is_valid_branch_name("bad..name")
    assert not repo.is_shallow()
    assert repo.hooks_dir() == repo_path / ".git" / "hooks"
    head = rev(repo_path, "HEAD")
    assert repo.authors_of([head]) == {head: git(repo_path, "log", "-1", "--format=%an <%ae>").strip()}
    assert repo.tree_of("HEAD") == rev(repo_path, "HEAD^{tree}")


def test_ls_remote_and_has_commit(repo: GitRepo, repo_path: Path) -> None:
    url = repo_path.as_uri()
    assert ls_remote(url, "main") == rev(repo_path, "main")
    assert ls_remote(url, "nope") is None
    assert repo.has_commit(rev(repo_path, "HEAD"))
    assert not repo.has_commit("1" * 40)


def test_env_does_not_leak_a_temporary_index(repo: GitRepo, repo_path: Path) -> None:
    assert "GIT_INDEX_FILE" not in os.environ
    index = (repo_path / ".git" / "index").read_bytes()
    git(repo_path, "branch", "side")
    repo.commit_files({"q.txt": b"q\n"}, "q", "side", rev(repo_path, "side"))
    assert (repo_path / ".git" / "index").read_bytes() == index
