"""A register never commits a version whose blob in the store does not match (issue #9): a blob the
store "already has" is checked before it is trusted, and a damaged one is rewritten atomically."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from gitreg.storage import LocalStore, file_digests
from testing import run, sha256


def _big(path: Path, seed: int) -> Path:
    """A file large enough for the local store's "stored before" hint."""
    path.write_bytes(random.Random(seed).randbytes(file_digests.MIN_SIZE + 1000))  # noqa: S311 - test data
    return path


def _damage(blob: Path, data: bytes) -> None:
    """Replace a stored blob's bytes in place, as a disk or an operator could."""
    blob.chmod(0o644)
    blob.write_bytes(data)
    blob.chmod(0o444)


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


@pytest.mark.parametrize(
    "damage",
    [_flip_last_byte, lambda d: d[:-1], lambda d: d + b"x", lambda d: b""],
    ids=["same-size", "truncated", "longer", "empty"],
)
def test_registering_an_unchanged_large_file_again_repairs_its_damaged_blob(
    registry: Path, blobs: Path, tmp_path: Path, damage: object
) -> None:
    source = _big(tmp_path / "model.bin", 1)
    data = source.read_bytes()
    assert run("register", "m", source, cwd=registry).exit_code == 0
    store = LocalStore(blobs)
    blob = store.path(sha256(data))
    _damage(blob, damage(data))  # type: ignore[operator]
    result = run("register", "m", source, cwd=registry)
    assert result.exit_code == 0, result.stderr
    assert blob.read_bytes() == data
    assert blob.stat().st_mode & 0o777 == 0o444
    assert list((blobs / "tmp").iterdir()) == []
    verified = run("verify", "--all", cwd=registry)
    assert verified.exit_code == 0, verified.stdout + verified.stderr


def test_put_file_never_returns_a_damaged_blob_it_found_by_the_hint(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = _big(tmp_path / "model.bin", 2)
    data = source.read_bytes()
    first = store.put_file(source)
    _damage(store.path(first.digest), bytes(len(data)))  # same size, all zeros
    again = store.put_file(source)
    assert again == first
    assert store.path(first.digest).read_bytes() == data


def test_a_blob_found_by_the_hint_is_touched_so_gc_sees_it_young(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = _big(tmp_path / "model.bin", 3)
    first = store.put_file(source)
    blob = store.path(first.digest)
    os.utime(blob, (1_000_000, 1_000_000))
    store.put_file(source)
    assert blob.stat().st_mtime > 1_000_000
