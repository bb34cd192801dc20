"""``GitRepo.rev_parse_shallow``: a ref's commit and whether the clone is shallow, in one git process (what
``history`` and ``audit`` ask before they walk), the same as ``rev_parse`` and ``is_shallow``."""

from __future__ import annotations

from pathlib import Path

from gitreg.gitrepo import GitRepo
from testing import git
from testing.synthetic import commit_all, make_registry, model_names, registry_files


def test_commit_and_shallowness_as_the_two_calls_say(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(model_names(1, width=1), 1))
    (root / "README.md").write_text("more\n")
    commit_all(root, "a second commit")
    repo = GitRepo.open(root)
    assert repo.rev_parse_shallow("main") == (repo.rev_parse("main"), False)
    assert repo.rev_parse_shallow("main~1") == (repo.rev_parse("main~1"), False)
    assert repo.rev_parse_shallow("no-such-ref") == (None, False)
    assert repo.rev_parse_shallow("main:README.md") == (None, False)  # a blob, not a commit
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", root.as_uri(), str(shallow))
    clone = GitRepo.open(shallow)
    assert clone.is_shallow()
    assert clone.rev_parse_shallow("HEAD") == (clone.rev_parse("HEAD"), True)
    assert clone.rev_parse_shallow("no-such-ref") == (None, False)
