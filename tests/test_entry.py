"""The entry point's quick path (gitreg.entry) answers exactly as the click command line (gitreg.cli) does:
for each invocation, `python -m gitreg ARGS` and the click group run directly give the same stdout, stderr
and exit code, byte for byte, on good reads, on errors (unknown model, bad ref, not a registry, hostile
names and contents) and on what the quick path leaves to click. And the quick path is taken where it should
be: those processes never import click."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing import commit_all, git, run, write_bytes
from testing.imports import CLICK_SCRIPT, ENTRY_SCRIPT, entry_and_click


def both(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[object, object, set[str]]:
    """(what the entry point did, what click did, the modules the entry point loaded)."""
    return entry_and_click(tmp_path, *args, env=env)


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2 (fraud@2 in staging), risk@1 hand-edited (an escape sequence, a NaN), committed."""
    art = write_bytes(tmp_path / "art" / "model.bin", 300, 1)
    for metric in ("auc=0.9", "auc=0.93"):
        assert run("register", "fraud", art, "--metric", metric, cwd=registry).exit_code == 0
    assert run("register", "risk", art, "--metric", "auc=0.5", cwd=registry).exit_code == 0
    version = registry / "models" / "risk" / "versions" / "1.yaml"
    text = version.read_text().replace("auc: 0.5", "auc: 0.5\n  nan: .nan")  # JSON has no NaN: null
    stamp = 'created_at: "\\e[31m2026-01-01T00:00:00Z\\e[0m"'
    text = re.sub(r"(?m)^created_at: .*$", lambda _: stamp, text)
    version.write_text(text)  # the table prints created_at as it is: click drops the escapes (not a tty)
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Promote fraud@2 to staging")
    return registry


QUICK = [
    ("--version",),
    ("show", "fraud@staging"),
    ("show", "fraud@1"),
    ("show", "fraud@latest"),
    ("show", "fraud"),
    ("show", "fraud@2", "--json"),
    ("show", "--json", "risk@1"),
    ("show", "risk@1"),
    ("list",),
    ("list", "--json"),
    ("list", "fraud"),
    ("list", "risk"),
    ("list", "risk", "--json"),
    ("list", "--stage", "staging", "--json"),
    ("list", "fraud", "--stage", "staging"),
    ("list", "--stage", "nowhere"),
    # errors, each one line on stderr with its exit code
    ("show", "nope@1"),
    ("show", "fraud@9"),
    ("show", "fraud@nostage"),
    ("show", "fraud@01"),
    ("show", "fraud@"),
    ("show", " fraud@1 "),
    ("show", "a b"),
    ("show", "\x1b[31mred\x1b[0m@1"),
    ("show", "x" * 300),
    ("show", "fraud@1@2"),
    ("list", "nope"),
    ("list", "\x1b[2Jfraud"),
    ("list", "fraud", "--stage", "\x1b[1mS"),
]


@pytest.mark.parametrize("args", QUICK, ids=repr)
def test_the_quick_path_answers_as_click(populated: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    quick, slow, modules = both(tmp_path, "-C", str(populated), *args)
    assert quick == slow
    assert "click" not in modules


@pytest.mark.parametrize("where", ["missing", "empty", "plain-git", "bare-git"])
def test_not_a_registry_reads_alike(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    if where != "missing":
        folder.mkdir()
    if where == "plain-git":
        git(folder, "init", "-q")
    if where == "bare-git":
        git(folder, "init", "-q", "--bare")
    for args in (("show", "fraud@1"), ("list",), ("list", "--json")):
        quick, slow, modules = both(tmp_path, "-C", str(folder), *args)
        assert quick == slow
        assert quick[0] == 3 and quick[1] == b"" and quick[2].startswith(b"error: ")  # type: ignore[index]
        assert "click" not in modules


LEFT_TO_CLICK = [
    ("show",),
    ("show", "fraud@1", "fraud@2"),
    ("show", "--help"),
    ("show", "-h"),
    ("show", "fraud@1", "--json", "--json"),
    ("show", "--", "fraud@1"),
    ("show", "-"),
    ("show", ""),
    ("show", "../../etc@1"),
    ("show", "models:/fraud@staging"),
    ("list", "models:/fraud"),
    ("list", "--stage=staging"),
    ("list", "--stage"),
    ("list", "--stage", "--json"),
    ("list", "a", "b"),
    ("list", "--where", "auc>0.5"),
    ("list", "--bogus"),
    ("--version", "show", "fraud@1"),
    ("--help",),
    ("sohw", "fraud@1"),
    ("diff", "fraud@1", "fraud@2"),
]


@pytest.mark.parametrize("args", LEFT_TO_CLICK, ids=repr)
def test_what_the_quick_path_does_not_know_goes_to_click(
    populated: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    quick, slow, modules = both(tmp_path, "-C", str(populated), *args)
    assert quick == slow
    assert "click" in modules


def test_group_options_it_does_not_know_go_to_click(populated: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for args in (
        ("-C", str(a_file), "show", "fraud@1"),  # click: "Directory ... is a file."
        ("-C", str(populated), "-C", str(populated), "list"),
        (f"-C{populated}", "list"),
        ("-C",),
        ("-C", "--version"),
    ):
        quick, slow, modules = both(tmp_path, *args)
        assert quick == slow
        assert "click" in modules


def test_shell_completion_goes_to_click(populated: Path, tmp_path: Path) -> None:
    env = {"_GITREG_COMPLETE": "bash_complete", "COMP_WORDS": "gitreg show fr", "COMP_CWORD": "2"}
    quick, slow, modules = both(tmp_path, "-C", str(populated), "show", "fr", env=env)
    assert quick == slow
    assert "click" in modules


def test_an_ascii_stream_goes_to_click(populated: Path, tmp_path: Path) -> None:
    """click re-wraps a stream whose encoding is ASCII (as UTF-8, errors replaced): the quick path leaves
    such a process to click rather than write differently."""
    quick, slow, modules = both(tmp_path, "-C", str(populated), "list", env={"PYTHONIOENCODING": "ascii"})
    assert quick == slow
    assert "click" in modules


def test_the_console_script_and_python_m_take_the_quick_path(populated: Path) -> None:
    script = Path(sys.executable).with_name("gitreg")
    for argv in ([str(script)], [sys.executable, "-m", "gitreg"]):
        if not Path(argv[0]).exists():
            continue
        probe = [*argv, "-C", str(populated), "show", "fraud@staging"]
        done = subprocess.run(
            probe,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
        )
        assert done.returncode == 0, done.stderr
        assert "version: 2" in done.stdout
        loaded = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines() if "|" in line}
        assert "gitreg.entry" in loaded
        assert "click" not in loaded


SEARCH_OPTIONS = {"where", "tags", "status", "since", "sort", "limit"}


def test_searches_go_to_click() -> None:
    """``list`` with any search option is click's to answer: the quick path knows only the plain list."""
    from gitreg import entry  # noqa: PLC0415

    for extra in (
        ["--where", "version > 1"],
        ["--tag", "team=x"],
        ["--status", "archived"],
        ["--since", "7d"],
        ["--sort", "version"],
        ["--limit", "3"],
        ["--limit=3"],
    ):
        assert entry.plan(["list", *extra]) is None, extra
        assert entry.plan(["list", "fraud", *extra]) is None, extra
    assert entry.plan(["list"]) is not None


def test_the_quick_path_knows_every_option_of_the_commands_it_answers() -> None:
    """A tripwire: an option added to one of these commands (a `list --sort` whose default changes the
    order, say) must be taught to gitreg.entry, or the quick path would answer the plain command as it
    did before. Extend gitreg.entry (and QUICK above), then this list."""
    from gitreg.cli import cli  # noqa: PLC0415

    for module in ("read", "hooks", "controller"):  # the modules that define them
        importlib.import_module(f"gitreg.cli.{module}")

    def names(command: object) -> set[str]:
        return {p.name for p in command.params}  # type: ignore[attr-defined]

    hook = cli.commands["hook"]
    assert names(cli) == {"directory", "version"}
    assert names(cli.commands["show"]) == {"ref", "as_json"}
    # the search options (--where, --tag, --status, --since, --sort, --limit) are not the quick path's:
    # with any of them the invocation goes to click (test_searches_go_to_click)
    assert names(cli.commands["list"]) == {"model", "stage", "as_json"} | SEARCH_OPTIONS
    assert names(hook.commands["pre-commit"]) == {"everything", "files"}  # type: ignore[attr-defined]
    assert names(cli.commands["controller"]) == {
        *("repo", "stage", "target", "branch", "interval", "once", "keep", "prune", "on_deploy"),
        *("hook_timeout", "rollback_on_hook_failure", "verify_signatures", "allowed_signers"),
        *("allow_non_fast_forward", "listen", "webhook_secret", "stale_after", "log_format"),
    }


def test_a_closed_pipe_ends_both_paths_alike(populated: Path, tmp_path: Path) -> None:
    """`gitreg list | head -0`: the reader is gone before the first line; exit 1 and nothing on stderr, as
    click ends it."""
    out = tmp_path / "modules.json"
    results = []
    for code in (ENTRY_SCRIPT.replace("OUT", repr(str(out))), CLICK_SCRIPT):
        done = subprocess.Popen(
            [sys.executable, "-c", code, "-C", str(populated), "list"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert done.stdout is not None
        done.stdout.close()  # no reader: the first write fails with EPIPE
        _, err = done.communicate(timeout=120)
        results.append((done.returncode, err))
    assert results[0] == results[1] == (1, b"")
    assert "click" not in json.loads(out.read_text())
