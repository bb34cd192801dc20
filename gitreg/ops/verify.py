"""Re-hashing stored blobs: every blob of one version (a file, or a tree's listing and files), or of every
version in the registry, read back from the store and hashed as it streams, a few blobs at a time."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from gitreg.errors import IntegrityError, StorageError
from gitreg.manifest import ModelVersion
from gitreg.storage import BlobStore, LocalStore, VerifyingReader
from gitreg.storage import artifact as artifacts

WORKERS = 8


@dataclass(frozen=True)
class BlobCheck:
    """One blob of one version, and what re-hashing it found: ok, missing, corrupt or unreadable."""

    ref: str  # MODEL@VERSION
    path: str  # the artifact's name, or name/relative path for a tree's file
    digest: str
    size: int | None
    state: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_store(store: BlobStore) -> None:
    """Raise StorageError if the store itself is not there to be read: verify then says the store is
    misconfigured (exit 3) rather than report every blob of a mistyped path missing (exit 1)."""
    if isinstance(store, LocalStore):
        if store.root.is_dir():
            return
        if store.root.exists():
            raise StorageError(f"cannot read the blob store at {store.root}: it is not a folder", _HINT)
        raise StorageError(f"the blob store folder {store.root} does not exist", _HINT)


_HINT = "check storage.url in registry.yaml, or GITREG_STORAGE_URL"


def verify_versions(
    store: BlobStore, versions: list[ModelVersion], on_check: Callable[[BlobCheck], None] | None = None
) -> list[BlobCheck]:
    """Check every blob of ``versions``; each distinct digest is read once. Results in version order.
    A blob that could not be read at all (as opposed to missing or corrupt) is ``unreadable``."""
    check_store(store)
    wanted: list[tuple[str, str, str, int | None]] = []  # ref, path, digest, size
    listing_checks: list[BlobCheck] = []
    for version in versions:
        art = version.artifact
        if art.type != "tree":
            wanted.append((version.ref, art.name, art.digest, art.size))
            continue
        try:
            entries = artifacts.tree_entries(store, art.digest)
        except StorageError as exc:
            state, detail = _state(store, art.digest, exc)
            listing_checks.append(BlobCheck(version.ref, f"{art.name}/", art.digest, None, state, detail))
            continue
        wanted.append((version.ref, f"{art.name}/", art.digest, None))
        wanted += [(version.ref, f"{art.name}/{e.path}", e.digest, e.size) for e in entries]
    digests = list(dict.fromkeys(d for _, _, d, _ in wanted))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        states = dict(zip(digests, pool.map(lambda d: _check(store, d), digests), strict=True))
    results = list(listing_checks)
    for ref, path, digest, size in wanted:
        state, detail = states[digest]
        check = BlobCheck(ref, path, digest, size, state, detail)
        results.append(check)
        if on_check:
            on_check(check)
    return results


def _check(store: BlobStore, digest: str) -> tuple[str, str]:
    try:
        with store.open(digest) as stream:
            for _ in VerifyingReader(stream, digest).chunks():
                pass
    except StorageError as exc:
        return _state(store, digest, exc)
    return "ok", ""


def _state(store: BlobStore, digest: str, exc: StorageError) -> tuple[str, str]:
    if isinstance(exc, IntegrityError):
        return "corrupt", f"its content hashes to {exc.actual}"
    try:
        if store.size(digest) is None:
            return "missing", ""
    except StorageError:
        pass
    return "unreadable", exc.message


__all__ = ["BlobCheck", "check_store", "verify_versions"]
