"""Artifacts in a blob store: a single file, or a directory stored as its files plus a tree listing.

The tree listing is canonical JSON (sorted keys, no spaces, UTF-8) of every regular file below the
directory, sorted by relative POSIX path, each with size, digest and executable bit. Its SHA-256 is the
artifact's digest. It is stored only after every file it lists is stored, so a listing in the store means
the whole artifact is there. Empty directories are not recorded (as in git)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from gitreg.errors import (
    DestinationExistsError,
    GitregError,
    IntegrityError,
    StorageError,
    UnsafePathError,
)
from gitreg.filesystem import displayed, name_problem, path_problem, paths_problem, shown
from gitreg.layout import DIGEST, MAX_SIZE
from gitreg.storage import placing, progress, staging
from gitreg.storage.protocol import BlobStore, VerifyingReader, put_files
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

TREE_KIND = "gitreg-tree/v1"
DOWNLOAD_WORKERS = 8
LISTING_HINT = "the tree listing is not one gitreg wrote"
RENAME_HINT = "rename it: gitreg stores only names that are valid on Linux, macOS and Windows"


class TreeEntry(Frozen):
    __match_args__ = ("path", "size", "digest", "executable")
    __slots__ = __match_args__
    path: str
    size: int
    digest: str
    executable: bool

    def __init__(self, path: str, size: int, digest: str, executable: bool) -> None:
        set_fields(self, path, size, digest, executable)


class StoredArtifact(Frozen):
    __match_args__ = ("digest", "size", "type", "name")
    __slots__ = __match_args__
    digest: str
    size: int
    type: str  # "file" | "tree"
    name: str

    def __init__(self, digest: str, size: int, type: str, name: str) -> None:
        set_fields(self, digest, size, type, name)


def tree_listing(entries: list[TreeEntry]) -> bytes:
    """The canonical bytes of a tree listing."""
    doc = {
        "kind": TREE_KIND,
        "entries": [
            {"path": e.path, "size": e.size, "digest": e.digest, "executable": e.executable}
            for e in sorted(entries, key=lambda e: e.path)
        ],
    }
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def parse_tree_listing(data: bytes, digest: str) -> list[TreeEntry]:
    """Entries of a listing, refusing one that is not canonical: paths sorted and unique, each a portable
    relative path (gitreg.filesystem's rule), no file that is also a folder, no names that a
    case-insensitive file system would merge. Whatever reads a listing reads it through here."""
    try:
        doc: Any = json.loads(data)
        if doc.get("kind") != TREE_KIND:
            raise ValueError("not a gitreg tree listing")
        entries = [
            TreeEntry(str(e["path"]), _size(e["size"]), str(e["digest"]), bool(e["executable"]))
            for e in doc["entries"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StorageError(f"blob {digest} is not a valid tree listing: {exc}") from None
    problem = paths_problem(e.path for e in entries)
    if problem is not None:
        raise StorageError(f"blob {digest} is not a valid tree listing: {problem}", LISTING_HINT)
    for entry in entries:
        if not DIGEST.fullmatch(entry.digest) or entry.size < 0:
            raise StorageError(f"blob {digest} is not a valid tree listing: bad entry for {entry.path!r}")
    return entries


def _size(value: Any) -> int:
    """A size as a listing holds it: a JSON integer from 0 to 2**63 - 1 (not 1e400, 1.5, true or "10")."""
    if type(value) is not int or not 0 <= value <= MAX_SIZE:
        raise ValueError(f"size {str(value)[:30]!r} is not a whole number of bytes below 2**63")
    return value


def check_relative_path(path: str) -> PurePosixPath:
    """A relative path that stays inside its parent folder and is portable, or StorageError: checked again
    where a file is written, whatever was checked before."""
    problem = path_problem(path)
    if problem is not None:
        raise StorageError(f"cannot write {problem}", LISTING_HINT)
    return PurePosixPath(path)


def walk_tree(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, file path) of every regular file below ``root``.

    Symlinks are followed when they point inside ``root`` (the file's bytes are stored) and refused when
    they point outside it; device files, sockets and FIFOs are refused; so are unreadable files."""
    real_root = Path(os.path.realpath(root))
    yield from _walk(real_root, root, "", {str(real_root)})


def _walk(real_root: Path, folder: Path, prefix: str, visiting: set[str]) -> Iterator[tuple[str, Path]]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise StorageError(f"cannot read folder {folder}: {exc.strerror}") from None
    for entry in entries:
        rel = prefix + entry.name
        path = Path(entry.path)
        if entry.is_symlink():
            target = os.path.realpath(path)
            if not target.startswith(str(real_root) + os.sep):
                raise StorageError(
                    f"{path} is a symlink to {target}, outside the artifact", "copy the file in instead"
                )
        try:
            st = path.stat()
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            real = os.path.realpath(path)
            if real in visiting:
                raise StorageError(f"{path} is a symlink loop")
            yield from _walk(real_root, path, rel + "/", visiting | {real})
        elif stat.S_ISREG(st.st_mode):
            if not os.access(path, os.R_OK):
                raise StorageError(f"cannot read {path}: permission denied")
            yield rel, path
        else:
            raise StorageError(
                f"{path} is not a regular file or folder (a device, socket or FIFO)",
                "remove it from the artifact",
            )


def upload(store: BlobStore, path: Path) -> StoredArtifact:
    """Store a file or a directory; return what a manifest records about it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise GitregError(f"{path} does not exist") from None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None
    name = Path(os.path.abspath(path)).name  # noqa: PTH100 - the name given, not a symlink's target
    problem = name_problem(name)
    if problem is not None:
        raise UnsafePathError(
            f"cannot register {displayed(path)}: its name {shown(name)} {problem}", RENAME_HINT
        )
    if stat.S_ISREG(st.st_mode):
        blob = store.put_file(path)
        return StoredArtifact(blob.digest, blob.size, "file", name)
    if not stat.S_ISDIR(st.st_mode):
        raise StorageError(f"{path} is not a regular file or folder (a device, socket or FIFO)")
    files = sorted(walk_tree(path))  # refuse a bad tree before anything is stored
    if not files:
        raise GitregError(f"folder {path} has no files to register")
    problem = paths_problem(rel for rel, _ in files)  # what a listing may hold, so pull can write it
    if problem is not None:
        raise UnsafePathError(f"cannot register {displayed(path)}: {problem}", RENAME_HINT)
    # every file is confirmed stored (present, or uploaded) before the listing that names it
    blobs = put_files(store, [file_path for _, file_path in files])
    entries = [
        TreeEntry(rel, blob.size, blob.digest, bool(file_path.stat().st_mode & 0o111))
        for (rel, file_path), blob in zip(files, blobs, strict=True)
    ]
    listing = tree_listing(entries)
    blob = store.put_bytes(listing)
    return StoredArtifact(blob.digest, sum(e.size for e in entries), "tree", name)


def read_blob(store: BlobStore, digest: str) -> bytes:
    """A small blob (a tree listing), verified."""
    with store.open(digest) as stream:
        return VerifyingReader(stream, digest).read_all()


def tree_entries(store: BlobStore, digest: str) -> list[TreeEntry]:
    return parse_tree_listing(read_blob(store, digest), digest)


def download(
    store: BlobStore, digest: str, kind: str, dest: Path, force: bool = False, inside: str | None = None
) -> Path:
    """Write the artifact to ``dest``, verifying every byte.

    If ``dest`` already holds exactly the artifact (every byte hashed), nothing is downloaded and the store
    is not read. If it holds something else: DestinationExistsError, unless ``force``; an empty folder is
    filled with a folder artifact's files (a volume's mount point, as KServe gives). Everything is written
    below a temporary sibling of ``dest`` (inside it, for an empty folder) and put in place only when
    complete and verified (see gitreg.storage.placing); on any failure ``dest`` is as it was.

    With ``inside`` (a file artifact), ``dest`` is a folder that is to hold that one file under that name,
    and nothing else: it is checked, filled and replaced as a whole, as a folder artifact is. Returns the
    artifact's path."""
    staging.clear_leftovers(dest, within=kind == "tree" or inside is not None)
    existing = dest.exists() or dest.is_symlink()
    filling = False
    result = dest / inside if inside is not None else dest
    if existing:
        if placing.holds(dest, digest, kind, inside):
            return result
        filling = (kind == "tree" or inside is not None) and placing.is_empty_folder(dest)
        if not (filling or force):
            raise DestinationExistsError(str(dest))
    parent = dest if filling else dest.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = staging.Staging(parent, dest)
    except OSError as exc:
        raise StorageError(f"cannot write to {parent}: {exc.strerror}") from None
    tmp = stage.folder
    try:
        staged = _stage(store, digest, kind, tmp)
        if inside is not None:  # the folder that holds the file, put in place as a whole
            (tmp / "folder").mkdir()
            staged.rename(tmp / "folder" / inside)
            staged = tmp / "folder"
        if filling:
            placing.fill(staged, dest)
        elif existing:
            placing.replace(staged, dest, tmp / "replaced")
        else:
            staged.rename(dest)
    except OSError as exc:
        raise StorageError(f"cannot write to {dest}: {exc.strerror}") from None
    finally:
        stage.close()
    return result


def _stage(store: BlobStore, digest: str, kind: str, tmp: Path) -> Path:
    """The artifact written and verified below the folder ``tmp``; its path there."""
    if kind == "file":
        staged = tmp / "artifact"
        # the size is only needed for a progress bar; the digest alone verifies the bytes
        fetch_file(store, digest, staged, store.size(digest) if progress.active() else None)
        return staged
    staged = tmp / "tree"
    staged.mkdir()
    targets = []
    for entry in tree_entries(store, digest):
        target = staged / check_relative_path(entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        targets.append((entry, target))

    def fetch(item: tuple[TreeEntry, Path]) -> None:
        entry, target = item
        fetch_file(store, entry.digest, target, entry.size)
        if entry.executable:
            target.chmod(target.stat().st_mode | 0o111)

    # a few files at a time (a remote store answers each request after a round trip); the first failure in
    # listing order is the one reported, and every fetch ends before ``tmp`` is removed
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - it loads logging: trees only

    with ThreadPoolExecutor(max_workers=DOWNLOAD_WORKERS) as pool:
        list(pool.map(fetch, targets))
    return staged


def fetch_file(store: BlobStore, digest: str, target: Path, size: int | None) -> None:
    """Copy one blob to ``target``, verified as it streams; IntegrityError (and no file) on mismatch."""
    try:
        with (
            store.open(digest) as stream,
            target.open("wb") as out,
            progress.meter(size or 0, f"downloading {target.name}") as update,
        ):
            reader = VerifyingReader(stream, digest, size)
            for chunk in reader.chunks():
                out.write(chunk)
                update(len(chunk))
            if size is not None and reader.size != size:
                raise IntegrityError(digest, f"{reader.size} bytes instead of {size}")
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise


__all__ = [
    "StoredArtifact",
    "TreeEntry",
    "download",
    "parse_tree_listing",
    "tree_entries",
    "tree_listing",
    "upload",
]
