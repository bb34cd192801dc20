"""Only the git module family (``gitrepo``, ``gitcommit``, ``gitoutput``, ``gitlite``, ``gitfind``,
``gitfetch``, ``gitrun``, ``gitahead``, ``gitlog``, ``gitremote``) starts git or reads its raw output:
every other module asks ``GitRepo``'s named methods. This scans the source, so a new ``repo._run(...)`` or
a ``subprocess.run(["git", ...])`` elsewhere fails here rather than in review."""

from __future__ import annotations

import ast
from pathlib import Path

import gitreg

ROOT = Path(gitreg.__file__).parent
GIT_FAMILY = {
    "gitrepo.py",
    "gitcommit.py",
    "gitoutput.py",
    "gitlite.py",
    "gitfind.py",
    "gitfetch.py",
    "gitrun.py",
    "gitahead.py",
    "gitlog.py",
    "gitremote.py",
    "gittrees.py",
}


def modules() -> list[Path]:
    return [
        path for path in sorted(ROOT.rglob("*.py")) if path.relative_to(ROOT).as_posix() not in GIT_FAMILY
    ]


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def git_trespasses(path: Path) -> list[str]:
    """What in ``path`` starts git or reaches past GitRepo's named methods."""
    text = path.read_text()
    tree = ast.parse(text)
    modules_used = imported(tree)
    found = []
    if modules_used & {"git", "gitdb"} or any(m.startswith(("git.", "gitdb.")) for m in modules_used):
        found.append("imports GitPython")
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    if "subprocess" in modules_used and any(s == "git" or s.startswith("git ") for s in strings):
        found.append("runs git through subprocess")
    uses_gitrepo = any(m.startswith("gitreg.git") for m in modules_used)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"run", "_run", "execute"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(
                f"line {node.lineno}: a git command line, .{node.func.attr}({node.args[0].value!r}, ...)"
            )
        if isinstance(node, ast.Attribute) and uses_gitrepo and node.attr in {"_run", "_git"}:
            found.append(f"line {node.lineno}: reaches GitRepo's private .{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr in {"run", "git"}:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id == "GitRepo":
                found.append(f"line {node.lineno}: GitRepo.{node.attr}")
    if "GitRepo.run" in text:
        found.append("mentions GitRepo.run")
    return found


def test_only_the_git_family_starts_git() -> None:
    offenders = {str(p.relative_to(ROOT)): found for p in modules() if (found := git_trespasses(p))}
    assert offenders == {}


def test_the_scan_sees_a_trespass(tmp_path: Path) -> None:
    """The scan itself can fail: each kind of trespass, written into a module, is found."""
    cases = {
        "raw.py": "from gitreg.gitrepo import GitRepo\n\ndef f(repo: GitRepo) -> str:\n"
        '    return repo._run("log")\n',
        "sub.py": 'import subprocess\n\nsubprocess.run(["git", "status"], check=True)\n',
        "gp.py": "import git\n\ngit.Repo('.')\n",
        "cls.py": "from gitreg.gitrepo import GitRepo\n\nrun = GitRepo.run\n",
        "public.py": 'def f(repo: object) -> None:\n    repo.run("fetch", "origin")\n',  # the old public run
    }
    for name, source in cases.items():
        (tmp_path / name).write_text(source)
        assert git_trespasses(tmp_path / name), name
    (tmp_path / "ok.py").write_text("import subprocess\n\nsubprocess.run(['hook.sh'], check=True)\n")
    assert git_trespasses(tmp_path / "ok.py") == []
