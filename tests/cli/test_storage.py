"""gitreg verify, gc and copy on registries with local blob stores: their output, exit codes, one-line
errors, and that a refused or dry-run command changes nothing."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml

from gitreg.storage import LocalStore, default_store_url
from testing import assert_error, git, run, sha256, tree_state, write_bytes

CORRUPT_ART = 300


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def age(store: Path, digest: str, days: float) -> None:
    """Make a stored blob look ``days`` old."""
    hexdigest = digest.removeprefix("sha256:")
    path = store / "sha256" / hexdigest[:2] / hexdigest[2:]
    then = time.time() - days * 86400
    os.utime(path, (then, then))


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 (a file), fraud@2 (a folder of two files); the blobs one day old."""
    ok("register", "fraud", write_bytes(tmp_path / "art" / "model.bin", CORRUPT_ART, 1), cwd=registry)
    folder = tmp_path / "bundle"
    write_bytes(folder / "weights.bin", 500, 2)
    write_bytes(folder / "conf" / "config.json", 40, 3)
    ok("register", "fraud", folder, cwd=registry)
    return registry


def version_digest(registry: Path, model: str, version: int) -> str:
    doc = yaml.safe_load((registry / "models" / model / "versions" / f"{version}.yaml").read_text())
    digest: str = doc["artifact"]["digest"]
    return digest


# --- verify -----------------------------------------------------------------------------------------------


def test_verify_a_version_and_all_of_them(populated: Path) -> None:
    assert ok("verify", "fraud@1", cwd=populated) == "ok: 1 blob of 1 version, 300 B\n"
    assert ok("verify", "fraud@2", cwd=populated) == "ok: 3 blobs of 1 version, 540 B\n"
    assert ok("verify", "--all", cwd=populated) == "ok: 4 blobs of 2 versions, 840 B\n"


def test_verify_lists_corrupt_and_missing_blobs_and_exits_1(populated: Path, blobs: Path) -> None:
    store = LocalStore(blobs)
    file_digest = version_digest(populated, "fraud", 1)
    path = store.path(file_digest)
    path.chmod(0o644)
    damaged = b"x" + path.read_bytes()[1:]
    path.write_bytes(damaged)
    weights = write_bytes(populated.parent / "w.bin", 500, 2)
    weights_digest = sha256(weights.read_bytes())
    store.path(weights_digest).unlink()
    before = tree_state(populated)
    result = run("verify", "--all", cwd=populated)
    assert result.exit_code == 1
    assert result.stderr == ""
    assert result.stdout == (
        f"corrupt {file_digest} fraud@1 model.bin: its content hashes to {sha256(damaged)}\n"
        f"missing {weights_digest} fraud@2 bundle/weights.bin\n"
        "2 of 4 blobs of 2 versions missing or corrupt\n"
    )
    assert tree_state(populated) == before


def test_verify_a_tree_whose_listing_is_gone(populated: Path, blobs: Path) -> None:
    digest = version_digest(populated, "fraud", 2)
    LocalStore(blobs).path(digest).unlink()
    result = run("verify", "fraud@2", cwd=populated)
    assert result.exit_code == 1
    assert result.stdout == f"missing {digest} fraud@2 bundle/\n1 of 1 blob of 1 version missing or corrupt\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a REF or --all"),
        (("fraud@1", "--all"), "give a REF or --all, not both"),
        (("fraud@9",), "fraud has no version 9 (it has versions 1..2)"),
        (("nope@1",), "model 'nope' is not in the registry (known: fraud)"),
    ],
)
def test_verify_bad_input(populated: Path, args: tuple[str, ...], message: str) -> None:
    before = tree_state(populated)
    result = run("verify", *args, cwd=populated)
    assert_error(result, 2 if "REF" in message else 3, message)
    assert tree_state(populated) == before


# --- gc -----------------------------------------------------------------------------------------------------


@pytest.fixture
def with_garbage(populated: Path, blobs: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """``populated`` plus other@1 registered on a branch, then the branch deleted: its blob is garbage.
    Returns (registry, garbage digest, digest of a version on a tag only)."""
    ok("register", "other", write_bytes(tmp_path / "o.bin", 70, 9), "--branch", "side", cwd=populated)
    ok("register", "tagged", write_bytes(tmp_path / "t.bin", 80, 10), "--branch", "rel", cwd=populated)
    git(populated, "tag", "-a", "v1", "-m", "release", "rel")
    git(populated, "branch", "-D", "side", "rel")
    garbage = sha256(write_bytes(tmp_path / "o2.bin", 70, 9).read_bytes())
    tagged = sha256(write_bytes(tmp_path / "t2.bin", 80, 10).read_bytes())
    for blob in LocalStore(blobs).digests():
        age(blobs, blob.digest, 10)
    return populated, garbage, tagged


def test_gc_is_a_dry_run_by_default(with_garbage: tuple[Path, str, str], blobs: Path) -> None:
    registry, garbage, _ = with_garbage
    before = tree_state(blobs)
    assert ok("gc", cwd=registry) == (
        f"would delete {garbage} (70 B, 10d old)\n"
        "would delete 1 blob, 70 B; kept 5 referenced (run with --yes to delete)\n"
    )
    assert tree_state(blobs) == before


def test_gc_deletes_unreferenced_blobs_with_yes(with_garbage: tuple[Path, str, str], blobs: Path) -> None:
    registry, garbage, tagged = with_garbage
    assert ok("gc", "--yes", cwd=registry) == (
        f"deleted {garbage} (70 B, 10d old)\ndeleted 1 blob, 70 B; kept 5 referenced\n"
    )
    remaining = {b.digest for b in LocalStore(blobs).digests()}
    assert garbage not in remaining
    assert tagged in remaining
    assert ok("verify", "--all", cwd=registry) == "ok: 4 blobs of 2 versions, 840 B\n"
    assert ok("gc", "--yes", cwd=registry) == "deleted 0 blobs, 0 B; kept 5 referenced\n"


def test_gc_keeps_young_blobs(with_garbage: tuple[Path, str, str], blobs: Path) -> None:
    registry, garbage, _ = with_garbage
    age(blobs, garbage, 1)
    assert ok("gc", "--yes", cwd=registry) == (
        "deleted 0 blobs, 0 B; kept 5 referenced and 1 younger than 7d\n"
    )
    assert ok("gc", "--grace", "12h", cwd=registry) == (
        f"would delete {garbage} (70 B, 1d old)\n"
        "would delete 1 blob, 70 B; kept 5 referenced (run with --yes to delete)\n"
    )


def test_gc_counts_remote_tracking_branches(with_garbage: tuple[Path, str, str], tmp_path: Path) -> None:
    registry, garbage, _ = with_garbage
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(registry, "remote", "add", "origin", origin.as_uri())
    ok("register", "other", write_bytes(tmp_path / "o3.bin", 70, 9), "--branch", "again", cwd=registry)
    git(registry, "push", "--quiet", "origin", "again")
    git(registry, "fetch", "--quiet", "origin")
    git(registry, "branch", "-D", "again")
    assert ok("gc", "--grace", "0", cwd=registry) == "would delete 0 blobs, 0 B; kept 6 referenced\n"
    assert garbage


def test_gc_aborts_unfinished_uploads(populated: Path, blobs: Path) -> None:
    tmp = blobs / "tmp" / "upload-abc"
    tmp.write_bytes(b"half a blob")
    then = time.time() - 8 * 86400
    os.utime(tmp, (then, then))
    fresh = blobs / "tmp" / "upload-def"
    fresh.write_bytes(b"still writing")
    assert ok("gc", "--yes", cwd=populated) == (
        "deleted unfinished upload tmp/upload-abc (started 8d ago)\n"
        "deleted 0 blobs and 1 unfinished upload, 11 B; kept 4 referenced\n"
    )
    assert sorted(p.name for p in (blobs / "tmp").iterdir()) == ["upload-def"]


@pytest.mark.parametrize(
    ("grace", "message"),
    [("7x", "--grace '7x' is not a duration (write e.g. 7d, 12h, 30m, 45s or 0)"), ("-1d", None)],
)
def test_gc_bad_grace(populated: Path, blobs: Path, grace: str, message: str | None) -> None:
    before = tree_state(blobs)
    result = run("gc", "--grace", grace, "--yes", cwd=populated)
    expected = message or f"--grace {grace!r} is not a duration (write e.g. 7d, 12h, 30m, 45s or 0)"
    assert_error(result, 2, expected)
    assert tree_state(blobs) == before


def test_gc_refuses_the_shared_default_store(tmp_path: Path) -> None:
    registry = tmp_path / "reg"
    ok("init", registry, cwd=tmp_path)
    ok("register", "m", write_bytes(tmp_path / "m.bin", 10), cwd=registry)
    before = tree_state(Path(os.environ["XDG_DATA_HOME"]))
    result = run("gc", "--yes", cwd=registry)
    assert_error(
        result,
        3,
        f"the blob store {default_store_url()} is the per-user default that every registry on this machine "
        "shares, so gc could delete other registries' blobs (give this registry its own storage.url, or pass "
        "--shared-store if it has the store alone)",
    )
    assert tree_state(Path(os.environ["XDG_DATA_HOME"])) == before
    assert ok("gc", "--shared-store", cwd=registry) == ("would delete 0 blobs, 0 B; kept 1 referenced\n")


def test_gc_refuses_when_a_tree_listing_is_unreadable(populated: Path, blobs: Path) -> None:
    digest = version_digest(populated, "fraud", 2)
    path = LocalStore(blobs).path(digest)
    path.chmod(0o644)
    path.write_bytes(b"{}")
    before = tree_state(blobs)
    result = run("gc", "--yes", "--grace", "0", cwd=populated)
    assert_error(
        result,
        3,
        f"cannot read tree listing {digest}, so gc cannot tell which files it needs: "
        f"blob {digest} is corrupt: its content hashes to {sha256(b'{}')} "
        "(run gitreg verify --all and repair the store first)",
    )
    assert tree_state(blobs) == before


# --- copy ---------------------------------------------------------------------------------------------------


@pytest.fixture
def company(tmp_path: Path) -> tuple[Path, Path]:
    """Another registry, with its own store: (registry, blobs)."""
    registry = tmp_path / "company"
    store = tmp_path / "company-blobs"
    ok("init", registry, "--storage", store.as_uri(), cwd=tmp_path)
    return registry, store


def test_copy_a_version_into_another_registry(populated: Path, company: tuple[Path, Path]) -> None:
    dest, dest_blobs = company
    out = ok("copy", "fraud@2", "--to-registry", dest, cwd=populated)
    assert out == f"fraud@2 -> fraud@1 on branch gitreg/copy/fraud-1 of {dest} (3 blobs copied, 854 B)\n"
    assert git(dest, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert not (dest / "models" / "fraud").exists()  # the branch is not checked out
    shown = git(dest, "show", "gitreg/copy/fraud-1:models/fraud/versions/1.yaml")
    source = (populated / "models" / "fraud" / "versions" / "2.yaml").read_text()
    assert shown == source.replace("version: 2", "version: 1")
    assert (
        git(dest, "show", "gitreg/copy/fraud-1:models/fraud/model.yaml")
        == (populated / "models" / "fraud" / "model.yaml").read_text()
    )
    message = git(dest, "log", "-1", "--format=%B", "gitreg/copy/fraud-1")
    assert message.startswith("Copy fraud@2 as fraud@1\n")
    assert "Gitreg-Copied-From: fraud@2" in message
    git(dest, "merge", "--quiet", "gitreg/copy/fraud-1")
    assert ok("verify", "--all", cwd=dest) == "ok: 3 blobs of 1 version, 540 B\n"
    assert len(list(LocalStore(dest_blobs).digests())) == 3


def test_copy_sends_only_the_blobs_the_destination_lacks(
    populated: Path, company: tuple[Path, Path], tmp_path: Path
) -> None:
    dest, _ = company
    ok("register", "fraud", write_bytes(tmp_path / "again" / "model.bin", CORRUPT_ART, 1), cwd=dest)
    out = ok("copy", "fraud@2", "--to-registry", dest, cwd=populated)
    assert out == f"fraud@2 -> fraud@2 on branch gitreg/copy/fraud-2 of {dest} (3 blobs copied, 854 B)\n"
    git(dest, "branch", "-D", "gitreg/copy/fraud-2")
    out = ok("copy", "fraud@2", "--to-registry", dest, cwd=populated)
    assert out == f"fraud@2 -> fraud@2 on branch gitreg/copy/fraud-2 of {dest} (0 blobs copied, 0 B)\n"


def test_copy_refuses_a_version_the_destination_has(populated: Path, company: tuple[Path, Path]) -> None:
    dest, dest_blobs = company
    ok("copy", "fraud@1", "--to-registry", dest, cwd=populated)
    git(dest, "merge", "--quiet", "gitreg/copy/fraud-1")
    before = tree_state(dest), tree_state(dest_blobs)
    result = run("copy", "fraud@1", "--to-registry", dest, cwd=populated)
    assert_error(
        result,
        3,
        f"{dest} already has fraud@1 with the artifact of fraud@1 (promote that version there instead)",
    )
    assert (tree_state(dest), tree_state(dest_blobs)) == before


def test_copy_refuses_an_existing_branch(populated: Path, company: tuple[Path, Path]) -> None:
    dest, dest_blobs = company
    git(dest, "branch", "gitreg/copy/fraud-1")
    before = tree_state(dest), tree_state(dest_blobs)
    result = run("copy", "fraud@1", "--to-registry", dest, cwd=populated)
    assert_error(result, 3, f"branch gitreg/copy/fraud-1 already exists in {dest} (merge or delete it first)")
    assert (tree_state(dest), tree_state(dest_blobs)) == before


def test_copy_to_a_registry_by_url_pushes_the_branch(
    populated: Path, company: tuple[Path, Path], tmp_path: Path
) -> None:
    dest, _ = company
    origin = tmp_path / "company.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(dest), str(origin))
    out = ok("copy", "fraud@1", "--to-registry", origin.as_uri(), cwd=populated)
    assert out == (
        f"fraud@1 -> fraud@1 on branch gitreg/copy/fraud-1 of {origin.as_uri()} (1 blob copied, 300 B)\n"
    )
    assert git(origin, "branch", "--list", "gitreg/copy/*").split() == ["gitreg/copy/fraud-1"]


@pytest.mark.parametrize(
    ("dest", "message"),
    [
        (
            "nowhere",
            "{dest} is not inside a git repository (run gitreg inside a registry checkout, or pass -C DIR)",
        ),
    ],
)
def test_copy_bad_destination(populated: Path, tmp_path: Path, dest: str, message: str) -> None:
    target = tmp_path / dest
    before = tree_state(populated)
    result = run("copy", "fraud@1", "--to-registry", target, cwd=populated)
    assert_error(result, 3, message.format(dest=target))
    assert tree_state(populated) == before


# --- progress -----------------------------------------------------------------------------------------------


def in_terminal(*args: str | Path) -> str:
    """Run ``python -m gitreg ARGS`` with a pseudo-terminal as stdout and stderr; everything it printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "gitreg", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=Path(__file__).resolve().parents[2],
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert child.wait(timeout=60) == 0, b"".join(chunks)
    return b"".join(chunks).decode(errors="replace")


def test_a_progress_bar_shows_on_a_terminal_unless_quiet(registry: Path, tmp_path: Path) -> None:
    big = write_bytes(tmp_path / "art" / "big.bin", 6 * 1024 * 1024, 4)
    shown = in_terminal("-C", registry, "register", "big", big)
    assert "storing big.bin" in shown
    assert "B/s" in shown
    assert shown.rstrip().endswith("big@1")
    shown = in_terminal("-C", registry, "pull", "big@1", "-o", tmp_path / "a.bin")
    assert "downloading" in shown
    assert "B/s" in shown
    quiet = in_terminal("-C", registry, "pull", "big@1", "-o", tmp_path / "b.bin", "--quiet")
    assert quiet.strip() == str(tmp_path / "b.bin")
    result = run("pull", "big@1", "-o", tmp_path / "c.bin", cwd=registry)  # not a terminal: no bar
    assert (result.stdout, result.stderr) == (f"{tmp_path / 'c.bin'}\n", "")
    small = in_terminal("-C", registry, "register", "small", write_bytes(tmp_path / "s.bin", 1000))
    assert small.strip() == "small@1"  # under a few MB: no bar
