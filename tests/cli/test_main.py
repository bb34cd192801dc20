"""The command line as a whole: version, help, usage errors, and the real entry point in a subprocess."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitreg import __version__
from testing import run, write_bytes


def gitreg(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real program: ``python -m gitreg ARGS``, with the test's isolated environment."""
    return subprocess.run(
        [sys.executable, "-m", "gitreg", *(str(a) for a in args)],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"gitreg, version {__version__}\n"
    assert result.stderr == ""


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: gitreg ")
    commands = result.stdout.split("Commands:\n", 1)[1]
    names = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert {"init", "register", "list", "show", "diff", "pull", "schema"} <= names


def test_no_arguments_prints_readable_help() -> None:
    result = run()
    assert (result.exit_code, result.stdout) == (2, "")  # no command: a usage error, the help on stderr
    text = result.stderr
    assert "Usage: gitreg" in text
    # the help keeps its lines: it is not squeezed into one "error:" line
    assert "\nCommands:\n" in text
    assert not any(line.startswith("error: Usage:") for line in text.splitlines())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--bogus",), "--bogus"),
        (("list", "--bogus"), "--bogus"),
        (("frobnicate",), "frobnicate"),
        (("list", "--stage"), "--stage"),
        (("register", "fraud", "x", "--version", "two"), "--version"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_end_to_end_with_the_real_program(tmp_path: Path) -> None:
    blobs = tmp_path / "blobs"
    reg = tmp_path / "registry"
    art = write_bytes(tmp_path / "model.onnx", 4096, 5)

    done = gitreg("init", reg, "--storage", blobs.as_uri(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Created registry in {reg} (blobs in {blobs.as_uri()})\n"
    assert done.stderr == ""

    done = gitreg("register", "fraud", art, "--metric", "auc=0.91", "--format", "onnx", cwd=reg)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "fraud@1\n"

    done = gitreg(
        "-C", reg, "register", "fraud", art, "--metric", "auc=0.92", "--format", "onnx", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "fraud@2\n"

    done = gitreg("show", "fraud@1", cwd=reg / "models")
    assert done.returncode == 0, done.stderr
    shown = yaml.safe_load(done.stdout)
    assert shown["model"] == "fraud"
    assert shown["version"] == 1
    assert shown["metrics"] == {"auc": 0.91}
    assert shown["artifact"]["format"] == "onnx"
    assert shown["artifact"]["digest"] == "sha256:" + hashlib.sha256(art.read_bytes()).hexdigest()
    assert shown["created_by"] == "Test User <test@example.com>"

    done = gitreg("-C", reg, "diff", "fraud@1", "fraud@latest", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "fraud@1 -> fraud@2\n  metrics.auc  0.91 -> 0.92  (+0.01)\n"

    dest = tmp_path / "pulled.onnx"
    done = gitreg("-C", reg, "pull", "fraud@2", "-o", dest, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{dest}\n"
    assert dest.read_bytes() == art.read_bytes()


def test_real_program_bad_input_is_one_error_line(registry: Path, tmp_path: Path) -> None:
    done = gitreg("show", "a@b@c", cwd=registry)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: 'a@b@c' is not a reference (write MODEL, MODEL@VERSION, MODEL@STAGE or MODEL@latest)\n"
    )
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    done = gitreg("list", cwd=nowhere)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == (
        "error: . is not inside a git repository (run gitreg inside a registry checkout, or pass -C DIR)\n"
    )
    done = gitreg("--bogus", cwd=nowhere)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: ")
    for output in (done.stdout, done.stderr):
        assert "Traceback" not in output


def test_real_program_version(tmp_path: Path) -> None:
    done = gitreg("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout == f"gitreg, version {__version__}\n"
