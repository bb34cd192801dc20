"""The entry point answers ``gitreg history MODEL`` and ``gitreg audit`` without click (gitreg.entry_history),
as the click command line does: for each invocation, the entry point and the click group run directly give
the same stdout, stderr and exit code, byte for byte (odd commit messages, a credential, an escape sequence,
errors, empty windows); the quick path's processes never import click; what it leaves to click (a forge, a
date or format click refuses, unusual option forms, help) is click's."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg import entry
from testing import git, isolate, run
from testing.imports import entry_and_click


def both(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[object, object, set[str]]:
    """(what the entry point did, what click did, the modules the entry point loaded)."""
    return entry_and_click(tmp_path, *args, env=env)


def commit(repo: Path, text: str, subject: str, *config: str) -> None:
    (repo / "stages" / "staging.yaml").write_text(text)
    git(repo, "add", "stages/staging.yaml")
    git(repo, *config, "commit", "--quiet", "-m", subject)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fraud@1 and fraud@2, staged by a merged pull request, a direct push with odd text (an escape
    sequence, non-ASCII, a credential in the author's name) and a change that fails validation."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("home"))
        base = tmp_path_factory.mktemp("history")
        repo = base / "registry"
        assert run("init", repo, "--storage", (base / "blobs").as_uri()).exit_code == 0
        art = base / "model.bin"
        art.write_bytes(b"weights")
        for _ in range(2):
            assert run("register", "fraud", art, cwd=repo).exit_code == 0
        git(repo, "switch", "--quiet", "-c", "promote")
        commit(repo, "fraud: 1\n", "Promote fraud@1 to staging")
        git(repo, "switch", "--quiet", "main")
        git(repo, "merge", "--quiet", "--no-ff", "-m", "Merge pull request #1 from org/promote", "promote")
        commit(
            repo,
            "fraud: 2\n",
            'Zoë \x1b[31mred\x1b[0m "quoted" https://u:hunter2@example.com/x',
            "-c",
            "user.name=Ann https://ann:s3cret@example.com",
        )
        commit(repo, "fraud: 2\nghost: 1\n", "A stage entry for a model that is not there")
        return repo


QUICK = [
    ("audit",),
    ("audit", "--format", "json"),
    ("audit", "--format", "md"),
    ("audit", "--since", "2000-01-01"),
    ("audit", "--until", "2000-01-01", "--format", "json"),  # nothing in the window
    ("audit", "--since", "2000-01-01T00:00:00+02:00", "--until", "2999-12-31"),
    ("audit", "--ref", "main", "--format", "json"),
    ("history", "fraud"),
    ("history", "fraud", "--json"),
    ("history", "--json", "fraud", "--stage", "staging"),
    ("history", "fraud", "--stage", "production"),  # no changes: one line says so
    ("history", "ghost", "--ref", "main"),
    ("history", "\x1b[1mnobody"),
    # errors, one line on stderr each, with their exit codes
    ("audit", "--ref", "nosuch"),
    ("history", "fraud", "--ref", "nosuch"),
]


@pytest.mark.parametrize("args", QUICK, ids=repr)
def test_the_quick_path_answers_as_click(landed: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    quick, slow, modules = both(tmp_path, "-C", str(landed), *args)
    assert quick == slow
    assert "click" not in modules


def test_the_credential_is_redacted_in_json(landed: Path, tmp_path: Path) -> None:
    quick, _, _ = both(tmp_path, "-C", str(landed), "audit", "--format", "json")
    out = quick[1]  # type: ignore[index]
    assert b"***@example.com" in out and b"hunter2" not in out and b"s3cret" not in out


@pytest.mark.parametrize("where", ["missing", "plain-folder", "bare-git"])
def test_no_repository_reads_alike(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    if where != "missing":
        folder.mkdir()
    if where == "bare-git":
        git(folder, "init", "-q", "--bare")
    for args in (("audit",), ("history", "fraud", "--json")):
        quick, slow, modules = both(tmp_path, "-C", str(folder), *args)
        assert quick == slow
        assert quick[0] != 0 and quick[2].startswith(b"error: ")  # type: ignore[index]
        assert "click" not in modules


LEFT_TO_CLICK = [
    ("audit", "--forge", "github"),
    ("history", "fraud", "--forge", "gitlab"),
    ("audit", "--format", "xml"),
    ("audit", "--format", "JSON"),
    ("audit", "--format=json"),
    ("audit", "--since", "yesterday"),
    ("audit", "--until", "2026-13-01"),
    ("audit", "--since", ""),
    ("audit", "--since"),
    ("audit", "--ref", "main", "--ref", "main"),
    ("audit", "extra"),
    ("audit", "--help"),
    ("history",),
    ("history", "a", "b"),
    ("history", "fraud", "--json", "--json"),
    ("history", "fraud", "--stage"),
    ("history", "-h"),
    ("history", "--", "fraud"),
]


@pytest.mark.parametrize("args", LEFT_TO_CLICK, ids=repr)
def test_what_the_quick_path_leaves_to_click(args: tuple[str, ...]) -> None:
    assert entry.plan(list(args)) is None


@pytest.mark.parametrize(
    "args", [("audit", "--since", "yesterday"), ("audit", "--format", "xml"), ("history",)], ids=repr
)
def test_click_still_says_what_it_refuses(landed: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    quick, slow, modules = both(tmp_path, "-C", str(landed), *args)
    assert quick == slow
    assert quick[0] == 2  # type: ignore[index]
    assert "click" in modules
