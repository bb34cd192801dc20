"""gc racing a register (issue #9): a sweep running while a registration stores and commits never takes a
blob that registration commits. Real processes, run concurrently at many relative offsets; no hooks."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from gitreg.ops import gc
from gitreg.registry import Registry
from gitreg.storage import LocalStore, file_digests
from testing import git, run, write_bytes

ITERATIONS = 12
OLD = time.time() - 3 * 86400


def gitreg(registry: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitreg", "-C", str(registry), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = process.communicate(timeout=120)
    return process.returncode, err.decode()


def age_every_blob(blobs: Path) -> None:
    for path in (blobs / "sha256").rglob("*"):
        if path.is_file():
            os.utime(path, (OLD, OLD))


def test_gc_racing_register_never_deletes_what_the_register_commits(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    # a folder: one file large enough for the "stored before" hint, stored by a version that is gone
    # (its blobs unreferenced and days old), and many small files whose writes (each one fsynced) keep
    # the registration busy between finding the large blob and committing
    folder = tmp_path / "bundle"
    big = folder / "weights.bin"
    big.parent.mkdir(parents=True)
    big.write_bytes(random.Random(1).randbytes(file_digests.MIN_SIZE + 10))  # noqa: S311 - test data
    for i in range(60):
        write_bytes(folder / "shards" / f"{i}.bin", 100 + i, i)
    assert run("register", "m", folder, cwd=registry).exit_code == 0
    git(registry, "reset", "--quiet", "--hard", "HEAD~1")
    store = LocalStore(blobs)
    rng = random.Random(7)  # noqa: S311 - test offsets
    for i in range(ITERATIONS):
        age_every_blob(blobs)
        offset = rng.uniform(0.0, 0.6) if i else 0.2
        register = gitreg(registry, "register", "m", str(folder))
        time.sleep(offset)
        gc = gitreg(registry, "gc", "--yes", "--grace", "1h")
        (reg_code, reg_err), (gc_code, gc_err) = finish(register), finish(gc)
        assert (reg_code, reg_err) == (0, ""), f"iteration {i}"
        assert (gc_code, gc_err) == (0, ""), f"iteration {i}"
        verified = run("verify", "--all", cwd=registry)
        assert verified.exit_code == 0, f"iteration {i} (gc {offset:.2f}s after register): {verified.stdout}"
        assert store.size("sha256:" + _sha(big)) == big.stat().st_size
        git(registry, "reset", "--quiet", "--hard", "HEAD~1")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_gc_reads_the_references_again_before_deleting(registry: Path, blobs: Path, tmp_path: Path) -> None:
    """A version committed between gc's listing and its deletions keeps its blob."""
    source = write_bytes(tmp_path / "art" / "model.bin", 500, 1)
    assert run("register", "m", source, cwd=registry).exit_code == 0
    git(registry, "reset", "--quiet", "--hard", "HEAD~1")
    age_every_blob(blobs)
    todo = gc.plan(Registry.open(registry), 3600)
    assert len(todo.blobs) == 1
    # the register commits now (its blob was found present), after gc listed the store
    assert run("register", "m", source, cwd=registry).exit_code == 0
    age_every_blob(blobs)  # even if the blob looks old: it is referenced now
    gc.sweep(LocalStore(blobs), todo, registry=Registry.open(registry))
    assert todo.blobs == []
    assert run("verify", "--all", cwd=registry).exit_code == 0


def test_gc_keeps_a_blob_touched_after_it_listed_the_store(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    source = write_bytes(tmp_path / "art" / "model.bin", 500, 1)
    assert run("register", "m", source, cwd=registry).exit_code == 0
    git(registry, "reset", "--quiet", "--hard", "HEAD~1")
    age_every_blob(blobs)
    todo = gc.plan(Registry.open(registry), 3600)
    (blob,) = todo.blobs
    LocalStore(blobs).touch(blob.digest)  # what a register does when it finds the blob stored
    gc.sweep(LocalStore(blobs), todo, registry=Registry.open(registry))
    assert todo.blobs == [] and todo.young == [blob]
    assert LocalStore(blobs).size(blob.digest) == 500
    assert list((blobs / "tmp").iterdir()) == []
