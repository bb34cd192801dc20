"""``gitreg pull`` through the entry point's quick path (gitreg.entry_pull) answers as the click command
does: for each invocation, run once by the entry point and once by the click group, each in a fresh folder
holding the same things, the same stdout, stderr and exit code, byte for byte, and the same files after;
what it does not know (URIs, a progress bar, option forms) goes to click."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testing import commit_all, run, write_bytes

_CLICK = "import sys; from gitreg.cli import main; sys.argv = ['gitreg', *sys.argv[1:]]; main()"
_ENTRY = """
import atexit, json, sys
atexit.register(lambda: open(OUT, "w").write(json.dumps(sorted(sys.modules))))
from gitreg.entry import main
sys.argv = ["gitreg", *sys.argv[1:]]
main()
"""


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but git's own, by path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def both(
    registry: Path, tmp_path: Path, *args: str, before: dict[str, bytes] | None = None
) -> tuple[tuple[object, ...], tuple[object, ...], set[str]]:
    """(entry point: exit code, stdout, stderr, files after; click: the same; modules the entry loaded), each
    run as ``gitreg -C registry ARGS`` beside its own copy of ``registry`` holding ``before``."""
    out = tmp_path / "modules.json"
    out.unlink(missing_ok=True)
    results = []
    for name, code in (("quick", _ENTRY.replace("OUT", repr(str(out)))), ("click", _CLICK)):
        cwd = tmp_path / "runs" / name
        shutil.rmtree(cwd, ignore_errors=True)
        shutil.copytree(registry, cwd / "registry", symlinks=True)
        for rel, data in (before or {}).items():
            (cwd / "registry" / rel).parent.mkdir(parents=True, exist_ok=True)
            (cwd / "registry" / rel).write_bytes(data)
        done = subprocess.run(
            [sys.executable, "-c", code, "-C", "registry", *args],
            capture_output=True,
            timeout=120,
            check=False,
            cwd=cwd,
        )
        results.append((done.returncode, done.stdout, done.stderr, tree(cwd)))
    return results[0], results[1], set(json.loads(out.read_text()))


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2 (fraud@2 in staging), committed."""
    for seed, metric in ((1, "auc=0.9"), (2, "auc=0.93")):
        art = write_bytes(tmp_path / "art" / str(seed) / "model.bin", 300, seed)
        assert run("register", "fraud", art, "--metric", metric, cwd=registry).exit_code == 0
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Promote fraud@2 to staging")
    return registry


QUICK = [
    ("pull", "fraud@staging", "-q"),
    ("pull", "fraud@1"),  # stderr is no terminal: no progress bar either way
    ("pull", "fraud@1", "-o", "out/", "-q"),
    ("pull", "fraud@1", "-o", "renamed.bin", "--quiet"),
    ("pull", "--json", "fraud@2", "--output", "x.bin"),
    ("pull", "fraud@1", "dest", "--json", "-q"),
    ("pull", "fraud@latest", "-q", "--force"),
    # errors
    ("pull", "fraud@1", "dest", "-o", "other"),
    ("pull", "nope@1", "-q"),
    ("pull", "fraud@9", "-q"),
    ("pull", "fraud@nostage"),
    ("pull", "\x1b[31mred\x1b[0m@1"),
]


@pytest.mark.parametrize("args", QUICK, ids=repr)
def test_the_quick_pull_answers_as_click(populated: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    quick, slow, modules = both(populated, tmp_path, *args)
    assert quick == slow
    assert "click" not in modules


@pytest.mark.parametrize("force", [False, True])
def test_something_else_in_the_way_alike(populated: Path, tmp_path: Path, force: bool) -> None:
    args = ("pull", "fraud@1", "-o", "model.bin", "-q", *(["--force"] if force else []))
    quick, slow, modules = both(populated, tmp_path, *args, before={"model.bin": b"other"})
    assert quick == slow
    assert quick[0] == (0 if force else 3)
    assert "click" not in modules


def test_already_there_alike(populated: Path, tmp_path: Path) -> None:
    artifact = write_bytes(tmp_path / "again" / "model.bin", 300, 1).read_bytes()
    quick, slow, _ = both(populated, tmp_path, "pull", "fraud@1", "-q", before={"model.bin": artifact})
    assert quick == slow
    assert quick[0] == 0


LEFT_TO_CLICK = [
    ("pull",),
    ("pull", "--help"),
    ("pull", "fraud@1", "-oout"),
    ("pull", "fraud@1", "--output=out"),
    ("pull", "fraud@1", "-o", "a", "--output", "b", "-q"),
    ("pull", "fraud@1", "a", "b"),
    ("pull", "fraud@1", "--bogus"),
    ("pull", "fraud@1", "-q", "-q"),
    ("pull", "models:/fraud@staging", "-q"),
    ("pull", "oci://localhost:1/x:1", "-q"),
]


@pytest.mark.parametrize("args", LEFT_TO_CLICK, ids=repr)
def test_what_the_quick_pull_does_not_know_goes_to_click(
    populated: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    quick, slow, modules = both(populated, tmp_path, *args)
    assert quick[:3] == slow[:3]
    assert "click" in modules
