"""``gitreg.gittrees.TreeChanges``: the changes below a folder from one commit to another, asked ahead and
taken in order, are what ``git diff-tree`` of each pair gives, for pairs with no change, with thousands of
changes, with paths git would quote, and for more pairs than git's input pipe holds; a take that nothing
asked for fails at once instead of waiting for git. And ``audit``, whose walk skips the commits that only
change models/, gives the verdicts of a full validation of every change when many versions land by commits
of their own between promotions."""

from __future__ import annotations

import functools
import itertools
import subprocess
from pathlib import Path

import pytest
from ops.test_audit_verdicts import _reference
from ops.test_audit_walk import _verdicts

from gitreg.gitoutput import parse_ls_tree
from gitreg.gitrepo import GitRepo
from gitreg.gittrees import PAIRS_PER_PROCESS
from gitreg.layout import AUDIT_PATHS
from gitreg.ops.history import audit
from gitreg.ops.verdicts import Judge
from testing.synthetic import commit_all, make_registry, registry_files, stage_manifest, write_files

NAMES = ["plain.yaml", "tab\there.yaml", "new\nline.yaml", "café.yaml", 'quote".yaml', "space name.yaml"]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@functools.cache
def _tree(root: Path, commit: str) -> dict[str, str]:
    return {p: sha for p, (sha, _s) in parse_ls_tree(_git(root, "ls-tree", "-r", "-z", commit)).items()}


def _expected(root: Path, before: str, commit: str) -> dict[str, tuple[str, str, str]]:
    """The changes below models/ from ``before`` to ``commit``, from the two trees listed whole."""
    old = {p: s for p, s in _tree(root, before).items() if p.startswith("models/")}
    new = {p: s for p, s in _tree(root, commit).items() if p.startswith("models/")}
    zero = "0" * 40
    out = {p: (zero, s, "A") for p, s in new.items() if p not in old}
    out |= {p: (s, zero, "D") for p, s in old.items() if p not in new}
    out |= {p: (old[p], s, "M") for p, s in new.items() if p in old and old[p] != s}
    return out


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    """A registry whose commits add, change and delete files below models/ (names git quotes among them),
    one with none, and one with a thousand."""
    root = tmp_path / "reg"
    commits = [make_registry(root, tmp_path / "blobs", {})]
    for n, name in enumerate(NAMES):
        write_files(root, {f"models/m{n}/{name}": f"v: {n}\n"})
        commits.append(commit_all(root, f"add {n}"))
    write_files(root, {"models/m0/plain.yaml": "v: changed\n"})
    (root / "models" / "m1" / NAMES[1]).unlink()
    commits.append(commit_all(root, "change and delete"))
    write_files(root, {"README.md": "not below models/\n"})
    commits.append(commit_all(root, "nothing below models/"))
    write_files(root, {f"models/bulk/{n}.yaml": f"n: {n}\n" for n in range(1000)})
    commits.append(commit_all(root, "a thousand"))
    return root, commits


def test_each_pair_is_what_git_diff_tree_gives(history: tuple[Path, list[str]]) -> None:
    root, commits = history
    pairs = [(c, b) for b in commits for c in commits if b != c]  # forwards and backwards, over gaps too
    repo = GitRepo.open(root)
    with repo.tree_changes(["models/"]) as changes:
        for commit, before in pairs:  # more requests than git's input pipe holds: read ahead as asked
            changes.ask(commit, before)
        got = [changes.take() for _pair in pairs]
    assert got == [_expected(root, before, commit) for commit, before in pairs]
    assert {} in got and any(len(g) == 1000 for g in got)
    assert any(NAMES[1] in path for g in got for path in g)  # a tab, read as it is


def test_each_pair_is_taken_as_soon_as_it_is_asked(history: tuple[Path, list[str]]) -> None:
    """A pair's answer ends without waiting for the next request (a walk may ask once in thousands of
    commits); taking more than was asked fails at once instead of waiting for git."""
    root, commits = history
    repo = GitRepo.open(root)
    with repo.tree_changes(["models/"]) as changes:
        for before, commit in itertools.pairwise(commits):
            changes.ask(commit, before)
            assert changes.take() == _expected(root, before, commit)
        with pytest.raises(IndexError):
            changes.take()


def test_audit_over_versions_landed_by_commits_of_their_own(tmp_path: Path) -> None:
    """Between promotions, versions land, change status and go by commits that touch only models/: the
    walk does not hold those, the promotions are still judged on the walk (each version file known from
    git's diff since the commit walked before), and the verdicts are a full validation's of every change."""
    root = tmp_path / "reg"
    models = ["m0", "m1", "m2"]
    make_registry(root, tmp_path / "blobs", registry_files(models, 1))
    later = registry_files(models, 4)
    for version in range(2, 5):
        for model in models:  # each version by a commit of its own, the walk skips them
            path = f"models/{model}/versions/{version}.yaml"
            write_files(root, {path: later[path]})
            commit_all(root, f"register {model}-{version}")
        write_files(root, {"stages/staging.yaml": stage_manifest(dict.fromkeys(models, version))})
        commit_all(root, f"staging to {version}")
    archived = "models/m1/versions/4.yaml"
    write_files(root, {archived: later[archived].replace("status: active", "status: archived")})
    commit_all(root, "archive m1-4")
    write_files(root, {"stages/production.yaml": stage_manifest(dict.fromkeys(models, 4))})
    commit_all(root, "production to 4")  # fails: m1-4 was archived by a commit the walk skips
    repo = GitRepo.open(root)
    judge = Judge(repo)
    verdicts = _verdicts(judge, repo.first_parent_walk("main", AUDIT_PATHS, full_diff=True))  # audit's walk
    assert verdicts == _reference(repo)
    assert [v for _c, v in verdicts].count("pass") == 9 and verdicts[-1][1].startswith("fail: ")
    assert judge.full_runs == 1  # the promotions were judged on the walk: only the failure was validated
    assert [(e.change.commit, e.verdict) for e in audit(repo, "main", cache=False)] == verdicts


def test_pairs_taken_well_behind_the_asking_come_in_order(history: tuple[Path, list[str]]) -> None:
    """As a walk does: asks run far ahead of takes, so answers are read ahead to keep git's input pipe from
    filling, and a take must return those first (it once returned the next answer instead). Across the git
    processes too: each answers ``PAIRS_PER_PROCESS`` pairs (git keeps every tree it read), and one whose
    answers are all taken is stopped."""
    root, commits = history
    pairs = [(c, b) for b in commits for c in commits if b != c]
    asked = [pairs[i % len(pairs)] for i in range(2 * PAIRS_PER_PROCESS + 90)]
    repo = GitRepo.open(root)
    got = []
    with repo.tree_changes(["models/"]) as changes:
        for n, (commit, before) in enumerate(asked):
            changes.ask(commit, before)
            if n >= 250:
                got.append(changes.take())
                assert len(changes._askers) <= 2
        got += [changes.take() for _rest in range(len(asked) - len(got))]
    expected = {pair: _expected(root, pair[1], pair[0]) for pair in pairs}
    assert got == [expected[pair] for pair in asked]
