"""gitreg.ops.gc: durations, and which digests count as referenced."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.errors import UsageError
from gitreg.ops.gc import parse_duration, plan, referenced_digests
from gitreg.registry import Registry
from gitreg.storage import LocalStore
from testing import git, run, sha256, write_bytes


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("45s", 45), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600), (" 90 ", 90)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "1.5d", "7 d", "-1d", "7y", "1e3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert str(info.value) == f"--grace {text!r} is not a duration (write e.g. 7d, 12h, 30m, 45s or 0)"


def test_a_manifest_gitreg_cannot_read_still_keeps_what_it_mentions(
    registry: Path, blobs: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "bundle"
    inside = write_bytes(folder / "a.bin", 100, 1)
    assert run("register", "m", folder, cwd=registry).exit_code == 0
    version = registry / "models" / "m" / "versions" / "1.yaml"
    listing_digest = next(
        line.split()[-1] for line in version.read_text().splitlines() if line.strip().startswith("digest:")
    )
    version.write_text(f"this: is: not yaml\n{listing_digest}\n")
    git(registry, "commit", "--quiet", "-am", "break the manifest")
    marked = referenced_digests(Registry.open(registry), LocalStore(blobs))
    assert marked == {listing_digest, sha256(inside.read_bytes())}


def test_a_missing_tree_has_no_files_to_keep(registry: Path, blobs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    write_bytes(folder / "a.bin", 100, 1)
    assert run("register", "m", folder, cwd=registry).exit_code == 0
    store = LocalStore(blobs)
    listing = next(b for b in store.digests() if b.size > 100)
    store.delete(listing.digest)
    todo = plan(Registry.open(registry), 0)
    assert [b.size for b in todo.blobs] == [100]  # the orphaned file
    assert todo.kept == 0


def test_an_empty_store(registry: Path) -> None:
    todo = plan(Registry.open(registry), 0)
    assert (todo.blobs, todo.uploads, todo.kept, todo.bytes) == ([], [], 0, 0)
