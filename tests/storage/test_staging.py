"""A download killed half-way (``kill -9``, a pod restarted) leaves its staging folder behind; the next
download of the same destination removes it, and fills an empty folder (a volume's mount point) that only
such leftovers occupy. A staging folder whose download is still at work, or a folder of the same name
pattern that gitreg did not make, is left alone. The leftovers here are made by the real code in a process
that is then killed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitreg.errors import DestinationExistsError
from gitreg.storage import LocalStore
from gitreg.storage.artifact import download, upload
from gitreg.storage.staging import LOCK, prefix
from testing import tree_state

#: Makes a staging folder for DEST in PARENT with the real code, writes half a file in it, then holds it
#: (``hold``: until stdin closes) or dies without cleaning up (``die``: SIGKILL).
_LEAVE = """
import os, signal, sys
from pathlib import Path
from gitreg.storage.staging import Staging
parent, dest, how = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
stage = Staging(parent, dest)
(stage.folder / "artifact").write_bytes(b"half of it")
print(stage.folder, flush=True)
if how == "die":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.read()
"""


def _leave(parent: Path, dest: Path, how: str) -> tuple[Path, subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _LEAVE, str(parent), str(dest), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    if how == "die":
        proc.wait(timeout=60)
    assert (folder / LOCK).is_file() and (folder / "artifact").is_file()
    return folder, proc


@pytest.fixture
def bundle(store: LocalStore, tmp_path: Path) -> str:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "weights.bin").write_bytes(b"w" * 1000)
    (source / "sub" / "config.json").write_text("{}")
    return upload(store, source).digest


def test_an_empty_folder_a_killed_download_left_a_folder_in_is_filled(
    store: LocalStore, bundle: str, tmp_path: Path
) -> None:
    mount = tmp_path / "mnt" / "models"
    mount.mkdir(parents=True)
    left, _proc = _leave(mount, mount, "die")
    assert left.parent == mount
    assert download(store, bundle, "tree", mount) == mount
    assert sorted(p.name for p in mount.iterdir()) == ["sub", "weights.bin"]


def test_a_killed_download_beside_its_destination_is_cleared(
    store: LocalStore, bundle: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    _leave(out, out / "bundle", "die")
    _leave(out, out / "bundle", "die")
    assert len(list(out.iterdir())) == 2
    download(store, bundle, "tree", out / "bundle")
    assert sorted(p.name for p in out.iterdir()) == ["bundle"]


def test_a_download_at_work_is_left_alone(store: LocalStore, bundle: str, tmp_path: Path) -> None:
    mount = tmp_path / "models"
    mount.mkdir()
    left, proc = _leave(mount, mount, "hold")
    beside = tmp_path / "beside"
    beside.mkdir()
    other, other_proc = _leave(beside, beside / "bundle", "hold")
    try:
        before = tree_state(mount)
        with pytest.raises(DestinationExistsError):
            download(store, bundle, "tree", mount)  # not empty: another download is filling it
        assert tree_state(mount) == before
        download(store, bundle, "tree", beside / "bundle")
        assert (other / "artifact").is_file() and (beside / "bundle" / "weights.bin").is_file()
    finally:
        for held in (proc, other_proc):
            assert held.stdin is not None
            held.stdin.close()
            held.wait(timeout=60)
    assert left.is_dir()  # its owner cleans up, not the other download


def test_folders_gitreg_did_not_make_are_left_alone(store: LocalStore, bundle: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    mine = out / f"{prefix(out / 'bundle')}notes"  # the name pattern, no lock file
    mine.mkdir(parents=True)
    (mine / "keep.txt").write_text("mine")
    link_target = tmp_path / "elsewhere"
    link_target.mkdir()
    (link_target / LOCK).write_text("")
    (out / f"{prefix(out / 'bundle')}link").symlink_to(link_target)  # a link, however it looks
    download(store, bundle, "tree", out / "bundle")
    assert (mine / "keep.txt").read_text() == "mine"
    assert (link_target / LOCK).exists() and (out / f"{prefix(out / 'bundle')}link").is_symlink()
    mount = tmp_path / "mount"
    (mount / f"{prefix(mount)}x").mkdir(parents=True)  # inside an empty folder to fill: not ours either
    with pytest.raises(DestinationExistsError):
        download(store, bundle, "tree", mount)
