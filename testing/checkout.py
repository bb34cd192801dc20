"""This gitreg checkout as a repository of its own: what pre-commit clones and what a release is cut from,
without touching the checkout itself."""

from __future__ import annotations

import shutil
from pathlib import Path

from testing import git

#: The gitreg checkout the tests run from.
CHECKOUT = Path(__file__).resolve().parents[1]

#: A fixed identity for the commits and tags made here, whatever the test's git config says.
IDENTITY = (
    "-c",
    "user.name=gitreg tests",
    "-c",
    "user.email=tests@example.com",
    "-c",
    "commit.gpgsign=false",
)


def commit_checkout(repo: Path) -> Path:
    """Copy this checkout as it is on disk, untracked files included (ignored ones excluded), into a new
    repository ``repo`` with one commit on ``main``, and return it. (``pre-commit try-repo`` on a checkout
    with uncommitted changes commits only the changes to tracked files, so a new module would be missing.)"""
    listed = git(CHECKOUT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted({n for n in listed.split("\0") if n}):
        source = CHECKOUT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, *IDENTITY, "commit", "--quiet", "-m", "gitreg as checked out")
    return repo
