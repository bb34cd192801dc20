"""gitreg copy never commits a version whose blobs in the destination are damaged (issue #9): a blob the
destination "has" is trusted only with the right size, and with --verify only once its bytes hash right."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.storage import LocalStore
from testing import git, run, sha256, write_bytes


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture
def company(tmp_path: Path) -> tuple[Path, Path]:
    """Another registry, with its own store: (registry, blobs)."""
    registry = tmp_path / "company"
    store = tmp_path / "company-blobs"
    ok("init", registry, "--storage", store.as_uri(), cwd=tmp_path)
    return registry, store


def _damage(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


def _altered(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


@pytest.mark.parametrize("kind", ["file", "tree"])
@pytest.mark.parametrize(
    ("damage", "flags"),
    [
        (lambda d: d[: len(d) // 2], ()),  # truncated: the size alone shows it
        (lambda d: d + b"!", ()),  # longer
        (lambda d: b"", ()),  # empty
        (_altered, ("--verify",)),  # same size: only a re-hash shows it
    ],
    ids=["truncated", "longer", "empty", "same-size-verify"],
)
def test_copy_repairs_a_damaged_blob_the_destination_has(
    registry: Path,
    company: tuple[Path, Path],
    tmp_path: Path,
    kind: str,
    damage: object,
    flags: tuple[str, ...],
) -> None:
    dest, dest_blobs = company
    if kind == "file":
        source = write_bytes(tmp_path / "art" / "model.bin", 3000, 1)
        victim = source.read_bytes()
    else:
        source = tmp_path / "bundle"
        write_bytes(source / "weights.bin", 3000, 1)
        write_bytes(source / "config.json", 40, 2)
        victim = (source / "weights.bin").read_bytes()
    ok("register", "fraud", source, cwd=registry)
    ok("copy", "fraud@1", "--to-registry", dest, cwd=registry)
    git(dest, "branch", "-D", "gitreg/copy/fraud-1")  # the blobs stay in the destination's store
    blob = LocalStore(dest_blobs).path(sha256(victim))
    _damage(blob, damage(victim))  # type: ignore[operator]

    out = ok("copy", "fraud@1", "--to-registry", dest, *flags, cwd=registry)
    assert "(1 blob copied, 2.9 KiB)" in out
    assert blob.read_bytes() == victim
    git(dest, "merge", "--quiet", "gitreg/copy/fraud-1")
    verified = run("verify", "--all", cwd=dest)
    assert verified.exit_code == 0, verified.stdout
    assert ok("pull", "fraud@1", "-o", tmp_path / "got", cwd=dest) == f"{tmp_path / 'got'}\n"


def test_copy_verify_skips_intact_blobs(registry: Path, company: tuple[Path, Path], tmp_path: Path) -> None:
    dest, _ = company
    ok("register", "fraud", write_bytes(tmp_path / "art" / "model.bin", 3000, 1), cwd=registry)
    ok("copy", "fraud@1", "--to-registry", dest, cwd=registry)
    git(dest, "branch", "-D", "gitreg/copy/fraud-1")
    out = ok("copy", "fraud@1", "--to-registry", dest, "--verify", cwd=registry)
    assert "(0 blobs copied, 0 B)" in out
