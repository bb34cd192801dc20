"""``GitRepo`` runs git through its own subprocess runner, without GitPython: importing GitPython costs more
than most commands' work and its start-up runs ``git version`` (issue #11). In a fresh interpreter, opening
a registry's repository and calling what ``history``, ``audit``, ``validate`` and the hooks call loads no
``git`` or ``gitdb`` module, and neither do those commands as processes. A test of imports, not of time;
each probe also checks what the calls returned, so the guard is not blind."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import gitreg
from testing import git
from testing.imports import modules_after, modules_after_code
from testing.synthetic import commit_all, make_registry, model_names, registry_files, stage_manifest

GITPYTHON = ("git", "gitdb", "smmap")

MODELS = model_names(2, width=1)

#: Every read GitRepo's callers make on the history and audit path, its results printed as JSON.
PROBE = """
from pathlib import Path
from gitreg.gitrepo import GitRepo
repo = GitRepo.open(Path(sys.argv[1]))
head, shallow = repo.rev_parse_shallow("main")
walked = list(repo.first_parent_walk("main", ["stages/"]))
listing = repo.ls_tree_sizes(head)
blobs = repo.read_blobs(sorted({sha for sha, _size in listing.values()}))
one = repo.read_blob(listing["stages/staging.yaml"][0])
authors = repo.authors_of([c.commit for c in walked])
tips = repo.ref_tips("refs/heads/")
changed = repo.changed_files(walked[-2].commit, head)
print(json.dumps({
    "head": head,
    "shallow": shallow,
    "walked": [c.commit for c in walked],
    "files": len({sha for sha, _size in listing.values()}),
    "blobs": len(blobs),
    "one": one.decode(),
    "authors": sorted(set(authors.values())),
    "tips": tips,
    "changed": changed,
    "remote": repo.remote_url(),
    "cache": str(repo.cache_folder()),
}))
repo.close()
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """Two models, promoted to staging in two commits after the one that created them."""
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(MODELS, 2))
    for number in (1, 2):
        (root / "stages" / "staging.yaml").write_text(stage_manifest(dict.fromkeys(MODELS, number)))
        commit_all(root, f"Promote to staging: version {number}")
    return root


def test_gitrepo_reads_without_gitpython(registry: Path, tmp_path: Path) -> None:
    done, modules = modules_after_code(tmp_path, PROBE, registry)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    head = git(registry, "rev-parse", "main").strip()
    assert found["head"] == head
    assert found["shallow"] is False
    assert found["walked"][-1] == head
    assert len(found["walked"]) == 3  # the commit that created the stage file, and the two promotions
    assert found["files"] == found["blobs"] > 6
    assert found["one"] == stage_manifest(dict.fromkeys(MODELS, 2))
    assert found["authors"] == ["Test User <test@example.com>"]
    assert found["tips"] == {"refs/heads/main": head}
    assert found["changed"] == {"stages/staging.yaml": "M"}
    assert found["remote"] is None
    assert found["cache"] == str(registry / ".git" / "gitreg" / "cache")
    assert "gitreg.gitrepo" in modules
    assert sorted(m for m in modules if m.split(".")[0] in GITPYTHON) == []


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "--format", "json"),
        ("history", MODELS[0]),
        ("validate",),
    ],
)
def test_commands_that_open_a_repository_load_no_gitpython(
    registry: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    done, modules = modules_after(tmp_path, "-C", registry, *args)
    assert done.returncode == 0, done.stderr
    assert "gitreg.gitrepo" in modules  # the command opened a GitRepo: the guard is not blind
    assert sorted(m for m in modules if m.split(".")[0] in GITPYTHON) == []


def test_the_probe_sees_gitpython(registry: Path, tmp_path: Path) -> None:
    """The check can fail: a process that imports GitPython is seen to."""
    done, modules = modules_after_code(tmp_path, "import git\nprint(git.__name__)", registry)
    assert done.returncode == 0, done.stderr
    assert {"git", "gitdb"} <= modules


def test_no_module_of_gitreg_imports_gitpython() -> None:
    """Not even the git module family, not even inside a function: the source says so."""
    root = Path(gitreg.__file__).parent
    found = {
        str(path.relative_to(root)): sorted(names)
        for path in sorted(root.rglob("*.py"))
        if (names := {n for n in imported(path) if n.split(".")[0] in GITPYTHON})
    }
    assert found == {}


def imported(path: Path) -> set[str]:
    """The modules ``path`` imports, wherever in it (a function's import too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names
