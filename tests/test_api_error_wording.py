"""Errors raised to a Python caller name the Python API's keywords, never the command line's flags: each
error below is reached through ``Registry``'s write methods (the same ops the command line calls, whose
own wording of these errors tests/cli keeps)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitreg import GitregError, Registry
from testing import assert_error, commit_all, git, isolate, run, write_bytes


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``registry`` (its blobs in ``blobs`` beside it) with fraud@1 and fraud@3, fraud@1 in staging; its
    ``origin``, ``remote.git``, is over file:// (no forge hosts it)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("wording-home"))
        top = tmp_path_factory.mktemp("wording")
        registry = top / "registry"
        assert run("init", registry, "--storage", "../blobs").exit_code == 0
        reg = Registry.open(registry)
        reg.register("fraud", write_bytes(top / "a.bin", 100, 1))
        reg.register("fraud", write_bytes(top / "b.bin", 100, 2), version=3)
        (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
        commit_all(registry, "fraud@1 to staging")
        git(top, "clone", "--quiet", "--bare", str(registry), str(top / "remote.git"))
        return top


@pytest.fixture
def fraud(template: Path, tmp_path: Path) -> Registry:
    shutil.copytree(template, tmp_path, symlinks=True, dirs_exist_ok=True)
    git(tmp_path / "registry", "remote", "add", "origin", (tmp_path / "remote.git").as_uri())
    return Registry.open(tmp_path / "registry")


def _detached(reg: Registry, art: Path) -> object:
    assert reg.workdir is not None
    git(reg.workdir, "checkout", "--quiet", "--detach")
    return reg.register("fraud", art)


def _no_main(reg: Registry, art: Path) -> object:
    assert reg.workdir is not None
    git(reg.workdir, "branch", "-m", "main", "trunk")
    git(reg.workdir, "remote", "remove", "origin")
    return reg.promote("fraud@3", to="staging")


CASES: dict[str, tuple[Callable[[Registry, Path], object], str]] = {
    "parent": (lambda r, a: r.register("fraud", a, parent=2), "has no version 2"),
    "version below one": (lambda r, a: r.register("fraud", a, version=0), "versions are positive integers"),
    "version below latest": (lambda r, a: r.register("fraud", a, version=2), "is below fraud's latest"),
    "owners of an existing model": (lambda r, a: r.register("fraud", a, owners=["@risk"]), "a new model"),
    "owner not a handle": (lambda r, a: r.register("churn", a, owners=["risk"]), "not a CODEOWNERS handle"),
    "detached HEAD": (_detached, "HEAD is detached"),
    "base": (lambda r, a: r.promote("fraud@3", to="staging", base="nope"), "does not name a commit"),
    "no main": (_no_main, "no main branch to start from"),
    "branch exists": (lambda r, a: r.promote("fraud@3", to="staging", branch="main"), "already exists"),
    "proposed branch exists": (
        lambda r, a: r.register("fraud", a, propose=True, branch="main"),
        "branch main already exists",
    ),
    "forge unknown": (lambda r, a: r.promote("fraud@3", to="staging", open_pr=True), "which forge"),
    "forge named": (
        lambda r, a: r.promote("fraud@3", to="staging", open_pr=True, forge="bitbucket"),
        "choose github or gitlab",
    ),
    "unstage": (lambda r, a: r.archive("fraud@1"), "is in staging"),
}


@pytest.mark.parametrize("case", CASES)
def test_python_errors_name_no_command_line_flag(fraud: Registry, tmp_path: Path, case: str) -> None:
    call, expected = CASES[case]
    with pytest.raises(GitregError) as caught:
        call(fraud, write_bytes(tmp_path / "c.bin", 100, 3))
    text = str(caught.value)
    assert expected in text
    assert "--" not in text, text


CLI_CASES = {
    "parent": (["register", "fraud", "ART", "--parent", "2"], 3, "--parent 2: fraud has no version 2"),
    "version": (
        ["register", "fraud", "ART", "--version", "2"],
        3,
        "--version 2 is below fraud's latest version 3 (versions only go up; use 4 or more)",
    ),
    "owner": (
        ["register", "churn", "ART", "--owner", "risk"],
        2,
        "--owner 'risk' is not a CODEOWNERS handle (write @user, @org/team or an email)",
    ),
    "owners of an existing model": (
        ["register", "fraud", "ART", "--owner", "@risk"],
        2,
        "--owner sets the owners of a new model, and fraud exists "
        "(edit models/fraud/model.yaml (and CODEOWNERS) to change its owners)",
    ),
    "base": (
        ["promote", "fraud@3", "--to", "staging", "--base", "nope"],
        3,
        "--base 'nope' does not name a commit",
    ),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_command_line_names_its_flags(fraud: Registry, tmp_path: Path, case: str) -> None:
    args, code, message = CLI_CASES[case]
    art = write_bytes(tmp_path / "c.bin", 100, 3)
    result = run(*(art if a == "ART" else a for a in args), cwd=fraud.workdir)
    assert_error(result, code, message)


def test_the_command_line_names_base_when_there_is_no_main(fraud: Registry) -> None:
    assert fraud.workdir is not None
    git(fraud.workdir, "branch", "-m", "main", "trunk")
    git(fraud.workdir, "remote", "remove", "origin")
    result = run("promote", "fraud@3", "--to", "staging", cwd=fraud.workdir)
    assert_error(result, 3, "there is no main branch to start from (pass --base REF)")
