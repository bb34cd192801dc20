"""``gitreg pull REF DEST``: DEST is the model's folder (KServe's ``<src-uri> <dest-path>``). A pull is
idempotent (a DEST that already holds exactly the artifact is left alone, the store not even read);
``--force`` swaps a different DEST for the artifact atomically; without it a different DEST is an error, and
the library's error names no CLI flag."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitreg.errors import DestinationExistsError
from gitreg.registry import Registry
from gitreg.storage import LocalStore
from testing import Unchanged, assert_error, run, sha256_file, tree_state, write_bytes
from testing.published import files_of, populate

EXISTS = "already exists and holds something else"


@pytest.fixture
def arts(registry: Path, tmp_path: Path) -> dict[str, Path]:
    """fraud@1 a file, fraud@2 a folder, churn@1 a file (see testing.published.populate)."""
    return populate(registry, tmp_path)


def ok(registry: Path, *args: str | Path) -> str:
    result = run("pull", *args, cwd=registry)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def unreachable_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the registry at an empty store: any read of a blob now fails."""
    empty = tmp_path / "no-blobs-here"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("GITREG_STORAGE_URL", empty.as_uri())


def identity(path: Path) -> dict[str, tuple[int, int]]:
    """(inode, modification time) of ``path`` and of everything below it: equal only if nothing was
    rewritten."""
    paths = [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]
    return {p.as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


# --- DEST, the model's folder ---------------------------------------------------------------------------


def test_dest_holds_a_file_artifact_under_its_name(
    registry: Path, arts: dict[str, Path], tmp_path: Path
) -> None:
    dest = tmp_path / "mnt" / "models"
    assert ok(registry, "fraud@1", dest) == f"{dest / 'model.bin'}\n"
    assert [p.name for p in dest.iterdir()] == ["model.bin"]
    assert sha256_file(dest / "model.bin") == sha256_file(arts["fraud@1"])


def test_dest_is_a_folder_artifact(registry: Path, arts: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "models"
    assert ok(registry, "fraud@2", dest) == f"{dest}\n"
    assert files_of(dest) == files_of(arts["fraud@2"])


def test_relative_dest_is_relative_to_dash_c(registry: Path, arts: dict[str, Path]) -> None:
    assert ok(registry, "fraud@1", "out").strip() == str(registry / "out" / "model.bin")
    assert sha256_file(registry / "out" / "model.bin") == sha256_file(arts["fraud@1"])


def test_dest_and_dash_o_together(registry: Path, arts: dict[str, Path], tmp_path: Path) -> None:
    result = run("pull", "fraud@1", tmp_path / "a", "-o", tmp_path / "b", cwd=registry)
    assert_error(result, 2, "give DEST or -o PATH, not both")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- idempotent -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "form"), [("fraud@1", "dest"), ("fraud@2", "dest"), ("fraud@1", "-o"), ("fraud@2", "-o")]
)
def test_pull_again_reads_nothing(
    registry: Path,
    arts: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ref: str,
    form: str,
) -> None:
    """The second pull finds the artifact in place (every byte hashed) and succeeds with the store gone."""
    dest = tmp_path / "dest"
    option = ["-o"] if form == "-o" else []
    first = ok(registry, ref, *option, dest)
    before = files_of(dest), identity(dest)
    unreachable_store(monkeypatch, tmp_path)
    assert ok(registry, ref, *option, dest) == first
    assert (files_of(dest), identity(dest)) == before
    # the proof that the store is unreachable: a pull that needs it fails
    assert run("pull", ref, *option, tmp_path / "elsewhere", cwd=registry).exit_code == 3


def test_pull_into_a_mount_point_again(
    registry: Path, arts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "models"
    dest.mkdir()
    ok(registry, "fraud@2", dest)
    unreachable_store(monkeypatch, tmp_path)
    ok(registry, "fraud@2", dest)
    assert files_of(dest) == files_of(arts["fraud@2"])


# --- a different DEST -----------------------------------------------------------------------------------


def _different(dest: Path, kind: str) -> None:
    if kind == "file":
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"mine")
    elif kind == "folder":
        write_bytes(dest / "keep.txt", 10, 9)
    elif kind == "symlink":
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to("nowhere")
    elif kind == "extra-file":  # the artifact, and one more file
        write_bytes(dest / "zzz.txt", 10, 9)


@pytest.mark.parametrize("ref", ["fraud@1", "fraud@2"])
@pytest.mark.parametrize("kind", ["file", "folder", "symlink"])
def test_a_different_dest_is_an_error(
    registry: Path, arts: dict[str, Path], tmp_path: Path, blobs: Path, ref: str, kind: str
) -> None:
    dest = tmp_path / "out" / "dest"
    _different(dest, kind)
    unchanged = Unchanged(tmp_path / "out", registry, blobs)
    result = run("pull", ref, dest, cwd=registry)
    assert_error(result, 3, f"{dest} {EXISTS} (remove it, or pass --force to replace it)")
    unchanged.check()


def test_a_folder_with_one_more_file_is_different(
    registry: Path, arts: dict[str, Path], tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    ok(registry, "fraud@2", dest)
    _different(dest, "extra-file")
    assert_error(
        run("pull", "fraud@2", dest, cwd=registry),
        3,
        f"{dest} {EXISTS} (remove it, or pass --force to replace it)",
    )
    ok(registry, "fraud@2", dest, "--force")
    assert files_of(dest) == files_of(arts["fraud@2"])


def test_python_error_names_no_cli_flag(registry: Path, arts: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "taken"
    dest.write_text("mine")
    reg = Registry.open(registry)
    with pytest.raises(DestinationExistsError) as info:
        reg.pull("fraud@1", dest)
    assert str(info.value) == f"{dest} {EXISTS} (remove it, or pass force=True to replace it)"
    assert "--" not in str(info.value)
    assert reg.pull("fraud@1", dest, force=True) == dest
    assert sha256_file(dest) == sha256_file(arts["fraud@1"])


# --- --force --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["fraud@1", "fraud@2"])
@pytest.mark.parametrize("kind", ["file", "folder", "symlink", "other-version"])
def test_force_replaces(registry: Path, arts: dict[str, Path], tmp_path: Path, ref: str, kind: str) -> None:
    out = tmp_path / "out"
    dest = out / "dest"
    if kind == "other-version":
        ok(registry, "fraud@2" if ref == "fraud@1" else "fraud@1", dest)
    else:
        _different(dest, kind)
    printed = ok(registry, ref, dest, "--force").strip()
    if ref == "fraud@1":
        assert printed == str(dest / "model.bin")
        assert [p.name for p in dest.iterdir()] == ["model.bin"]
        assert sha256_file(dest / "model.bin") == sha256_file(arts["fraud@1"])
    else:
        assert printed == str(dest)
        assert files_of(dest) == files_of(arts["fraud@2"])
    assert [p.name for p in out.iterdir()] == ["dest"]  # no temporary folder, no old copy left beside it


@pytest.mark.parametrize("ref", ["fraud@1", "fraud@2"])
def test_force_with_dash_o(registry: Path, arts: dict[str, Path], tmp_path: Path, ref: str) -> None:
    dest = tmp_path / "out" / "m"
    _different(dest, "file")
    ok(registry, ref, "-o", dest, "--force")
    assert files_of(dest) == files_of(arts[ref])
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["m"]


def test_force_with_a_tampered_blob_keeps_the_old_dest(
    registry: Path, arts: dict[str, Path], tmp_path: Path, blobs: Path
) -> None:
    dest = tmp_path / "out" / "dest"
    ok(registry, "fraud@1", dest)
    stored = LocalStore(blobs).path(sha256_file(arts["fraud@2"] / "sub" / "config.json"))
    stored.chmod(0o644)
    stored.write_bytes(b"x" + stored.read_bytes()[1:])
    before = tree_state(tmp_path / "out")
    result = run("pull", "fraud@2", dest, "--force", cwd=registry)
    assert result.exit_code == 3
    assert "is corrupt" in result.stderr and len(result.stderr.splitlines()) == 1
    assert tree_state(tmp_path / "out") == before


def test_a_crash_leaves_the_old_dest_or_the_new(
    registry: Path, arts: dict[str, Path], tmp_path: Path
) -> None:
    """``pull --force`` killed at many points of its run: DEST is always wholly the old artifact or wholly the
    new one, never a mix (the processes are killed, not asked to stop)."""
    many = tmp_path / "many"
    for i in range(300):
        write_bytes(many / f"part-{i:03}.bin", 4096, i)
    assert run("register", "big", many, cwd=registry).exit_code == 0
    dest = tmp_path / "out" / "dest"
    ok(registry, "fraud@2", dest)
    old = files_of(dest)
    new = files_of(many)
    for delay in (0.3, 0.6, 0.9, 1.2, 1.8, 2.5):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gitreg",
                "-C",
                str(registry),
                "pull",
                "big@1",
                str(dest),
                "--force",
                "-q",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        now = files_of(dest)
        assert now in (old, new)
        if now == new:
            ok(registry, "fraud@2", dest, "--force")  # back to the old one for the next round
    assert ok(registry, "big@1", dest, "--force").strip() == str(dest)
    assert files_of(dest) == new
