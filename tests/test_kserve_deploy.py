"""deploy/kserve/: the ClusterStorageContainer's URI prefixes are the schemes gitreg accepts, and the image's
entrypoint works as KServe calls it (``<entrypoint> <storageUri> /mnt/models``) in what an init container
sees: a fresh, empty HOME, a minimal environment, a real bare repository and a local store. Building the
image is not tested here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitreg import uri as uris
from testing.published import files_of, populate, publish, uri

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kserve"


def entrypoint() -> list[str]:
    """The Containerfile's ENTRYPOINT (exec form)."""
    lines = [ln for ln in (DEPLOY / "Containerfile").read_text().splitlines() if ln.startswith("ENTRYPOINT ")]
    assert len(lines) == 1
    argv = json.loads(lines[0].removeprefix("ENTRYPOINT "))
    assert isinstance(argv, list)
    return [str(a) for a in argv]


def test_the_storage_container_takes_the_uris_gitreg_accepts() -> None:
    doc = yaml.safe_load((DEPLOY / "cluster-storage-container.yaml").read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("serving.kserve.io/v1alpha1", "ClusterStorageContainer")
    assert doc["spec"]["container"]["name"] == "storage-initializer"  # the name KServe looks for
    formats = doc["spec"]["supportedUriFormats"]
    assert all(set(f) == {"prefix"} for f in formats)
    assert sorted(f["prefix"] for f in formats) == sorted(f"{scheme}://" for scheme in uris.SCHEMES)
    for f in formats:
        assert uris.is_uri(f["prefix"] + "host/registry.git#model")


def test_the_image_runs_gitreg_pull() -> None:
    assert entrypoint() == ["gitreg", "pull"]
    text = (DEPLOY / "Containerfile").read_text()
    assert "git " in text.split("ENTRYPOINT")[0]  # the image installs git, which the pull starts


def _program(argv: list[str]) -> list[str]:
    """The entrypoint as installed here: the ``gitreg`` script beside this Python (the image's is on PATH)."""
    script = shutil.which(argv[0], path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip(
            f"no {argv[0]} script beside {sys.executable}: gitreg is not installed in this environment"
        )
    return [script, *argv[1:]]


def test_the_entrypoint_in_an_init_containers_environment(registry: Path, tmp_path: Path) -> None:
    """``gitreg pull gitreg+file://...#fraud@production /mnt/models`` with nothing but PATH and an empty
    HOME: the model lands in the (existing, empty) mount point, nothing is written to HOME, the throwaway
    repository is removed; run again, it finds the model in place."""
    arts = populate(registry, tmp_path)
    bare = publish(registry, tmp_path / "registry.git")
    home = tmp_path / "fresh-home"
    home.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    mount = tmp_path / "mnt" / "models"
    mount.mkdir(parents=True)
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    env = {"PATH": f"{Path(sys.executable).parent}:{git_dir}", "HOME": str(home), "TMPDIR": str(tmp)}
    argv = [*_program(entrypoint()), uri(bare, "fraud@staging"), str(mount)]
    for _ in range(2):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{mount}\n"
        assert done.stderr == ""  # no progress bar without a terminal
        assert files_of(mount) == files_of(arts["fraud@2"])
        assert list(home.iterdir()) == []
        assert list(tmp.iterdir()) == []


def test_the_entrypoint_fails_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    home.mkdir()
    mount = tmp_path / "models"
    mount.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home)}
    argv = [*_program(entrypoint()), uri(tmp_path / "missing.git", "fraud@production"), str(mount)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: git fetch of branch 'main'")
    assert list(mount.iterdir()) == []
