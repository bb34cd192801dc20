"""Scenarios that take seconds of git to build, built once per test session and copied for each test.

A copy is a private, independent scenario: the folders are copied whole, the clones' ``origin`` is pointed
at the copied forge, and the clones' indexes are refreshed, so a test sees exactly what a freshly built
scenario would show. The registry names its blob store by a relative path (``../blobs``), so each copy's
clones use the copy's own store."""

from __future__ import annotations

import copy
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from testing import git, run
from testing.forge_server import Team, land_history, make_team


@dataclass(frozen=True)
class History:
    """A team (``build_team``) with ``land_history``'s stage changes landed, and its commits by name."""

    team: Team
    commits: dict[str, str]


def build_team(root: Path) -> Team:
    """``make_team`` in ``root``: Alice's clone in ``root/registry``, Bob's in ``root/bob``, the forge in
    ``root/forge``, the blob store in ``root/blobs``."""
    registry = root / "registry"
    result = run("init", registry, "--storage", "../blobs")
    assert result.exit_code == 0, result.stderr
    return make_team(registry, root)


def build_history(team: Team, root: Path) -> History:
    """A copy of ``team`` in ``root``, with ``land_history``'s stage changes landed."""
    landed = copy_team(team, root)
    return History(landed, land_history(landed))


def copy_team(template: Team, dest: Path) -> Team:
    """A copy of ``template``'s folders in ``dest``, replacing any earlier copy there; the copied team."""
    for entry in template.work.iterdir():
        target = dest / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        shutil.copytree(entry, target, symlinks=True) if entry.is_dir() else shutil.copy2(entry, target)
    forge = copy.copy(template.forge)
    forge.bare = dest / template.forge.bare.relative_to(template.work)
    team = Team(
        forge,
        dest / template.alice.relative_to(template.work),
        dest / template.bob.relative_to(template.work),
        dest,
    )
    for checkout in (team.alice, team.bob):
        git(checkout, "remote", "set-url", "origin", forge.url)
        # the copies' inodes and change times differ from those the index recorded: refresh them now, so that
        # a test comparing .git before and after a command does not see git rewrite the index meanwhile
        subprocess.run(
            ["git", "update-index", "-q", "--refresh"], cwd=checkout, check=False, capture_output=True
        )
    return team
