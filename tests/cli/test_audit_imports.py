"""``gitreg audit`` and ``gitreg history`` start without the forges' HTTP client (``gitreg.forge``,
``urllib.request``, ``http.client``) when no forge API is asked for (no ``--forge``, no token), even on a
clone of a GitHub repository, and without Jinja2. A test of the modules the process ended with, not of time
(issue #11). The forges' names and token variables that history and audit know without importing
``gitreg.forge`` are that module's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg import forge
from gitreg.ops.review import FORGES, TOKEN_VARIABLES
from testing import git, run
from testing.imports import modules_after

#: What none of these commands needs without a forge API.
FORBIDDEN = ("urllib.request", "http.client", "gitreg.forge", "jinja2")


@pytest.fixture
def promoted(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 promoted to staging by a merged pull request, in a clone whose origin is on GitHub."""
    art = tmp_path / "model.bin"
    art.write_bytes(b"weights")
    assert run("register", "fraud", art, cwd=registry).exit_code == 0
    git(registry, "switch", "--quiet", "-c", "promote-fraud")
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    git(registry, "add", "stages/staging.yaml")
    git(registry, "commit", "--quiet", "-m", "Promote fraud@1 to staging")
    git(registry, "switch", "--quiet", "main")
    git(
        registry,
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        "Merge pull request #1 from org/promote-fraud",
        "promote-fraud",
    )
    git(registry, "remote", "add", "origin", "https://github.com/org/registry.git")
    return registry


@pytest.mark.parametrize(
    "args",
    [
        ("audit",),
        ("audit", "--format", "json"),
        ("history", "fraud"),
        ("history", "fraud", "--json"),
        ("history", "fraud", "--stage", "staging"),
        ("audit", "--format=json"),  # through click (gitreg.entry leaves this form to it)
        ("history", "fraud", "--stage=staging"),
    ],
)
def test_no_forge_client_without_a_forge_api(promoted: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    done, modules = modules_after(tmp_path, "-C", promoted, *args)
    assert done.returncode == 0, done.stderr
    assert "fraud" in done.stdout  # the change was found: the command did its work
    assert [m for m in FORBIDDEN if m in modules] == []


def test_an_empty_token_asks_no_forge(
    promoted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty GITHUB_TOKEN is no token (as the forge's client has it): still no HTTP client."""
    monkeypatch.setenv("GITHUB_TOKEN", "")
    done, modules = modules_after(tmp_path, "-C", promoted, "audit", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert '"review": "unconfirmed"' in done.stdout
    assert [m for m in FORBIDDEN if m in modules] == []


def test_a_token_or_forge_option_still_reaches_the_forge(
    promoted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The neighbours: ``--forge`` loads the client (and says what it cannot tell, as before); a token makes
    audit ask the forge's API (here at an address where nothing listens: the error names it)."""
    done, modules = modules_after(tmp_path, "-C", promoted, "history", "fraud", "--forge", "gitlab")
    assert done.returncode == 0, done.stderr
    assert "gitreg.forge" in modules
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")
    done, modules = modules_after(tmp_path, "-C", promoted, "audit")
    assert done.returncode == 3
    assert done.stderr.startswith("error: cannot reach GitHub at http://127.0.0.1:9"), done.stderr
    assert "gitreg.forge" in modules


def test_the_forges_as_gitreg_forge_has_them() -> None:
    assert forge.FORGES == FORGES
    assert {name: forge.client(name, "https://example.com/o/r.git").token_var for name in FORGES} == (
        TOKEN_VARIABLES
    )
