"""A commit snapshot reads in bulk what a full validation reads: once the whole listing is known, folders are
listed from it (no ``cat-file`` request per model folder), and many blobs come from one ``cat-file --batch``
with the requests written ahead of the replies; each gives exactly what one request at a time gives, for
submodules, odd names, missing objects, trees and blobs larger than a pipe's buffer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitreg.gitlite import LiteRepo
from gitreg.snapshot import CommitSnapshot
from testing import git


class Counting:
    """A real LiteRepo, counting the requests a snapshot makes of it."""

    def __init__(self, repo: LiteRepo) -> None:
        self.repo = repo
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.repo, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A commit with nested folders, odd names, a symlink and a submodule's commit (a gitlink)."""
    top = tmp_path / "repo"
    top.mkdir()
    git(top, "init", "-q")
    files = {
        "registry.yaml": "stages: []\n",
        "models/a/model.yaml": "name: a\n",
        "models/a/versions/1.yaml": "version: 1\n",
        "models/b c/model.yaml": "name: b\n",
        "models/é/versions/2.yaml": "version: 2\n",
        "stages/production.yaml": "a: 1\n",
        "big/blob.bin": "x" * 300_000,
    }
    for rel, text in files.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text)
    (top / "models" / "link").symlink_to("a")
    git(top, "add", "-A")
    git(top, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},models/sub")
    git(top, "commit", "-q", "-m", "all")
    return top, git(top, "rev-parse", "HEAD").strip()


FOLDERS = [
    "",
    "/",
    "models",
    "models/",
    "/models/",
    "models/a",
    "models/a/versions",
    "models/b c",
    "models/é",
    "models/é/versions",
    "models/sub",
    "models/link",
    "models/a/model.yaml",
    "stages",
    "big",
    "nowhere",
    "models/nowhere/versions",
    "models/./a",
    "models/../models",
    "models//a",
    "./models",
]


def test_folders_from_the_listing_are_git_s_folders(repo: tuple[Path, str]) -> None:
    top, commit = repo
    with LiteRepo.open(top) as lite:
        one_by_one = {f: CommitSnapshot(lite, commit).listdir(f) for f in FOLDERS}
        counting = Counting(lite)
        listed = CommitSnapshot(counting, commit)
        assert "models/sub" not in listed.files()  # files are blobs; the submodule is a folder's name
        assert {f: listed.listdir(f) for f in FOLDERS} == one_by_one
    assert one_by_one["models"] == ["a", "b c", "link", "sub", "é"]
    # plain paths came from the listing; only what git resolves itself (., .., //) was asked of git
    assert counting.calls.get("tree_names", 0) == 4


def test_many_blobs_at_once_are_the_blobs_one_at_a_time(repo: tuple[Path, str]) -> None:
    top, commit = repo
    with LiteRepo.open(top) as lite:
        listing = lite.ls_tree_sizes(commit)
        shas = [sha for sha, _size in listing.values()]
        tree = git(top, "rev-parse", f"{commit}:models").strip()
        asked = [*shas, "0" * 40, tree, shas[0], "f" * 7] * 50  # repeats, missing, a tree, a short name
        together = lite.read_blobs(asked)
        alone: dict[str, bytes] = {}
        for sha in dict.fromkeys(asked):
            alone |= lite.read_blobs([sha])
        assert together == alone
        assert set(together) == set(shas)
        assert lite.read_path(commit, "big/blob.bin") == b"x" * 300_000  # the process still answers
        assert lite.read_blobs([]) == {}
