"""``gitreg controller --once`` finding nothing new is answered by the entry point's quick path
(gitreg.entry) without importing click, as the click command answers it: the same output, error lines and
exit codes (event times aside); with work to do, or an option the quick path does not know, the click
command runs as before."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from controller.helpers import Remote, controller_argv, run_controller, status_of

#: The click command, forced (as `gitreg` ran before gitreg.entry).
_CLICK = "import sys; from gitreg.cli import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"
#: The entry point, printing at exit whether click was loaded.
_ENTRY = (
    "import atexit, sys; atexit.register(lambda: print('click' in sys.modules, file=sys.stderr)); "
    "from gitreg.entry import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"
)


def _run(code: str, argv: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *argv[3:]], capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout, re.sub(r"(?m)^time=\S+ ", "", done.stderr)


def entry(argv: list[str]) -> tuple[tuple[int, str, str], bool]:
    """What the entry point did (its stderr without the probe's line), and whether it loaded click."""
    code, out, err = _run(_ENTRY, argv)
    *lines, probe = err.splitlines(keepends=True)
    return (code, out, "".join(lines)), probe.strip() == "True"


def click(argv: list[str]) -> tuple[int, str, str]:
    return _run(_CLICK, argv)


@pytest.fixture
def deployed(remote: Remote, target: Path) -> str:
    """fraud@1 in production, applied to ``target`` by a first --once: the commit."""
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    commit = remote.stage({"fraud": 1})
    assert run_controller(remote, target).returncode == 0
    return commit


@pytest.mark.parametrize(
    "options",
    [(), ("--keep", "2"), ("--branch", "main", "--log-format", "json"), ("--prune",), ("--keep", "3")],
    ids=repr,
)
def test_nothing_new_is_answered_without_click(
    remote: Remote, target: Path, deployed: str, options: tuple[str, ...]
) -> None:
    if options in (("--prune",), ("--keep", "3")):  # another spec: the full controller applies it first
        assert run_controller(remote, target, *options).returncode == 0
    argv = controller_argv(remote, target, "--once", *options)
    before = (target / ".gitreg" / "status.json").read_bytes()
    quick, loaded_click = entry(argv)
    assert quick == (0, f"unchanged {deployed[:12]}: no change\n", "")
    assert not loaded_click
    assert click(argv) == quick
    assert (target / ".gitreg" / "status.json").read_bytes() == before


def test_leftovers_are_reported_alike(remote: Remote, target: Path, deployed: str) -> None:
    argv = controller_argv(remote, target, "--once")
    (target / ".gitreg" / "tmp" / "fraud.2.abcd").mkdir()
    quick, _ = entry(argv)
    (target / ".gitreg" / "tmp" / "fraud.2.abcd").mkdir()
    results = [quick, click(argv)]
    assert results[0] == results[1]
    assert "event=cleaned" in results[0][2]


def test_a_held_lock_is_the_same_error(remote: Remote, target: Path, deployed: str) -> None:
    code = (
        "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(target / ".gitreg" / "lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        argv = controller_argv(remote, target, "--once")
        quick, loaded_click = entry(argv)
        assert quick[0] == 3 and quick[2].startswith("error: another gitreg controller (pid ")
        assert not loaded_click
        assert click(argv) == quick
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_work_to_do_goes_to_the_full_controller(remote: Remote, target: Path, deployed: str) -> None:
    commit = remote.stage({"fraud": 2})
    quick, loaded_click = entry(controller_argv(remote, target, "--once"))
    assert quick[:2] == (0, f"applied {commit[:12]}: fraud 1 -> 2\n")
    assert "event=switched model=fraud version=2 previous=1" in quick[2]
    assert loaded_click
    assert status_of(target)["applied"]["commit"] == commit


@pytest.mark.parametrize(
    "options",
    [
        ("--interval", "5"),
        ("--keep", "0"),
        ("--keep", "+2"),
        ("--log-format", "yaml"),
        ("--allowed-signers", "x"),
        ("--allow-non-fast-forward",),
        ("--webhook-secret", "s"),
        ("--once", "--once"),
        ("--help",),
    ],
    ids=repr,
)
def test_options_it_does_not_know_go_to_click(
    remote: Remote, target: Path, deployed: str, options: tuple[str, ...]
) -> None:
    argv = controller_argv(remote, target, "--once", *options)
    quick, loaded_click = entry(argv)
    assert loaded_click
    assert click(argv)[:2] == quick[:2]


def test_a_missing_option_goes_to_click(remote: Remote, target: Path, deployed: str) -> None:
    argv = [
        sys.executable,
        "-m",
        "gitreg",
        "controller",
        "--repo",
        remote.url,
        "--once",
        "--target",
        str(target),
    ]
    quick, loaded_click = entry(argv)
    assert loaded_click
    assert quick == click(argv)
    assert quick[0] == 2 and "missing --stage" in quick[2]
    assert json.loads((target / ".gitreg" / "status.json").read_text())["applied"]["commit"]
