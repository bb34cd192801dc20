"""What ``GitRepo`` relied on GitPython for, kept by its own runner (``gitreg.gitrun``): git's messages in
English, a fetch ended whole when its deadline passes, blobs stored byte for byte whatever the repository's
filters, a streamed log whose git is reaped when the reader stops early, a bare repository opened as
itself only, and the shared git folder of a linked worktree. Each also passes on the GitPython-based
``GitRepo``: these are the behaviours the change must not move."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitreg.errors import GitError, NotFoundError
from gitreg.gitrepo import GitRepo
from testing import git
from testing.servers import silent_port


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    """A repository on main with one commit of a.txt and a stage file changed in three more."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "--quiet")
    (path / "a.txt").write_text("a\n")
    (path / "stages").mkdir()
    for number in range(4):
        (path / "stages" / "staging.yaml").write_text(f"fraud: {number}\n")
        git(path, "add", "--all")
        git(path, "commit", "--quiet", "-m", f"change {number}")
    return path


def test_git_runs_with_its_messages_in_english(repo_path: Path, tmp_path: Path) -> None:
    """git's error lines are parsed and quoted: git runs with LC_ALL=C and LANGUAGE=C whatever the user's
    locale (seen by the pre-push hook git runs, which inherits git's environment)."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    git(repo_path, "remote", "add", "origin", str(bare))
    seen = tmp_path / "seen"
    hook = repo_path / ".git" / "hooks" / "pre-push"
    hook.write_text(f'#!/bin/sh\necho "$LC_ALL $LANGUAGE" > "{seen}"\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "LC_ALL": "de_DE.UTF-8", "LANGUAGE": "de"}
    code = "from pathlib import Path\nfrom gitreg.gitrepo import GitRepo\n"
    code += "GitRepo.open(Path('.')).push('origin', 'main')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert seen.read_text() == "C C\n"


def test_an_error_quotes_gits_last_error_line(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path)
    with pytest.raises(GitError) as exc:
        repo.push("nowhere", "main")
    assert str(exc.value) == (
        "the remote refused the push of main: fatal: 'nowhere' does not appear to be a git repository "
        "(the branch is kept locally; fix the cause and run: git push nowhere main)"
    )
    with pytest.raises(GitError) as exc:
        repo.fetch("nowhere", "main")
    assert str(exc.value) == (
        "git fetch nowhere main failed: fatal: 'nowhere' does not appear to be a git repository "
        "(check the remote and your access to it)"
    )


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a git host that hangs."""
    with silent_port() as port:
        yield port


#: A controller's fetch against a host that never answers, with a deadline; then whether any process
#: still talks to that host (git's transport helper must have been ended with git).
HANGING_FETCH = """
import os, sys
from pathlib import Path
from gitreg.errors import GitError
from gitreg.gitrepo import GitRepo
url = sys.argv[2]
repo = GitRepo.init_bare(Path(sys.argv[1]))
try:
    repo.fetch_shallow(url, "refs/heads/main", "refs/cache/main", timeout=1)
except GitError as exc:
    print(exc)
left = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if url.encode() in argv and int(entry) != os.getpid():
            left.append(entry)
print(left)
"""


def test_a_fetch_past_its_deadline_is_ended_whole(silent_server: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{silent_server}/r.git"
    done = subprocess.run(
        [sys.executable, "-c", HANGING_FETCH, str(tmp_path / "cache.git"), url],
        capture_output=True,
        text=True,
        timeout=60,  # a fetch that is not ended fails the test instead of hanging it
        check=False,
    )
    assert done.returncode == 0, done.stderr
    message, left = done.stdout.splitlines()
    assert message == (
        'git fetch failed: Timeout: the command "git fetch --quiet --depth=1 --no-tags --no-write-fetch-head '
        f'-- {url} +refs/heads/main:refs/cache/main" did not complete in 1 secs.'
    )
    assert left == "[]"


@pytest.mark.parametrize(
    "data",
    [b"", b"one line\n", b"crlf\r\nlines\r\n", b"no newline", bytes(range(256)) * 3, b"\xff\xfe not utf-8"],
)
def test_a_blob_is_stored_byte_for_byte(repo_path: Path, data: bytes) -> None:
    """Whatever the repository's filters (end-of-line conversion, a clean filter): the bytes given."""
    git(repo_path, "config", "core.autocrlf", "true")
    git(repo_path, "config", "filter.upper.clean", "tr a-z A-Z")
    (repo_path / ".gitattributes").write_text("* text=auto filter=upper\n")
    repo = GitRepo.open(repo_path)
    sha = repo.store_blob(data)
    assert sha == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's object id
    assert repo.read_blob(sha) == data
    assert repo.read_blobs([sha]) == {sha: data}


def test_reading_objects_by_id(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path)
    tree = git(repo_path, "rev-parse", "HEAD^{tree}").strip()
    assert b"stages" in repo.read_blob(tree)  # a tree's raw entries: what tree_names reads
    assert repo.tree_names("HEAD", "") == ["a.txt", "stages"]
    with pytest.raises(GitError) as exc:
        repo.read_blob("HEAD")  # a name, not an id: never resolved
    assert str(exc.value).startswith("cannot read git object HEAD: ")
    with pytest.raises(GitError) as exc:
        repo.read_blob("ab" * 20)
    assert str(exc.value).startswith(f"cannot read git object {'ab' * 20}: ")


#: A walk stopped after its first commit, in a process of its own: the git children it has (running, or
#: exited but not reaped) while the walk is open, and after it is closed.
STOPPED_WALK = """
import os, sys
from pathlib import Path
from gitreg.gitrepo import GitRepo

def git_children():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                name, _, rest = Path(f"/proc/{entry}/stat").read_text().partition(" (")
                comm, _, fields = rest.rpartition(") ")
            except OSError:
                continue
            if comm == "git" and int(fields.split()[1]) == os.getpid():
                found.append(entry)
    return len(found)

walk = GitRepo.open(Path(sys.argv[1])).first_parent_walk("main", ["stages/"])
print(next(walk).subject, git_children())
walk.close()
print(git_children())
"""


def test_a_walk_stopped_early_leaves_no_git_behind(repo_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_WALK, str(repo_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["change 0 1", "0"]  # git log while walking; reaped once closed
    repo = GitRepo.open(repo_path)
    assert [c.subject for c in repo.first_parent_walk("main", ["stages/"])] == [
        f"change {n}" for n in range(4)
    ]


def test_a_walk_of_an_unknown_ref_fails_with_gits_line(repo_path: Path) -> None:
    repo = GitRepo.open(repo_path)
    with pytest.raises(GitError) as exc:
        list(repo.first_parent_walk("no-such-branch", ["stages/"]))
    assert str(exc.value).startswith("git log failed: fatal: bad revision 'no-such-branch'")


def test_open_bare_opens_that_repository_only(repo_path: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as exc:
        GitRepo.open_bare(repo_path)  # a checkout: not bare
    assert str(exc.value) == f"{repo_path} is not a bare git repository"
    inside = repo_path / "cache"
    inside.mkdir()
    with pytest.raises(NotFoundError) as exc:
        GitRepo.open_bare(inside)  # never the checkout around it
    assert str(exc.value) == f"{inside} is not a git repository"
    with pytest.raises(NotFoundError) as exc:
        GitRepo.open_bare(tmp_path / "missing")
    assert str(exc.value) == f"{tmp_path / 'missing'} is not a git repository"
    bare = GitRepo.init_bare(inside / "cache.git")
    assert bare.workdir is None
    assert bare.fetch_shallow(repo_path.as_uri(), "refs/heads/main", "refs/cache/main") == bare.rev_parse(
        "refs/cache/main"
    )
    assert bare.cache_folder() == inside / "cache.git" / "gitreg" / "cache"


def test_a_linked_worktree_shares_the_cache_folder(repo_path: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo_path, "worktree", "add", "--quiet", "-b", "side", str(linked))
    repo = GitRepo.open(linked / "stages")
    assert repo.workdir == linked
    assert repo.cache_folder().resolve() == repo_path / ".git" / "gitreg" / "cache"
    assert repo.current_branch() == "side"
    parent = repo.head()
    commit = repo.commit_files({"stages/staging.yaml": b"fraud: 9\n"}, "promote", "side", parent)
    assert (linked / "stages" / "staging.yaml").read_text() == "fraud: 9\n"
    assert git(repo_path, "rev-parse", "side").strip() == commit
    assert git(linked, "status", "--porcelain").strip() == ""
