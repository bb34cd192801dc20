"""gitreg.storage.artifact: storing a file or a folder (files plus a canonical tree listing, stored last),
downloading it verified and atomically, and re-hashing it."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

import pytest

from gitreg.errors import ConflictError, GitregError, IntegrityError, StorageError
from gitreg.storage import Blob, LocalStore
from gitreg.storage.artifact import (
    StoredArtifact,
    TreeEntry,
    download,
    parse_tree_listing,
    read_blob,
    tree_entries,
    tree_listing,
    upload,
)
from testing import sha256, tree_state, write_bytes

MISSING_HINT = "register the artifact again, or point GITREG_STORAGE_URL at the store that has it"
CORRUPT_HINT = "the store copy was altered; run `gitreg verify` and re-register the artifact from its source"
LISTING_HINT = "the tree listing is not one gitreg wrote"


class RecordingStore:
    """A LocalStore that records its writes in order, and which blobs were present when each was made."""

    def __init__(self, inner: LocalStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.calls: list[tuple[str, str]] = []
        self.present_at_put: dict[str, set[str]] = {}

    def size(self, digest: str) -> int | None:
        return self.inner.size(digest)

    def put_file(self, path: Path) -> Blob:
        return self._record("put_file", self.inner.put_file(path))

    def put_bytes(self, data: bytes) -> Blob:
        present = {b.digest for b in self.inner.digests()}
        blob = self._record("put_bytes", self.inner.put_bytes(data))
        self.present_at_put[blob.digest] = present
        return blob

    def _record(self, call: str, blob: Blob) -> Blob:
        self.calls.append((call, blob.digest))
        return blob

    def open(self, digest: str) -> AbstractContextManager[BinaryIO]:
        return self.inner.open(digest)

    def delete(self, digest: str) -> None:
        self.inner.delete(digest)

    def digests(self) -> Iterator[Blob]:
        return self.inner.digests()


def tamper(store: LocalStore, digest: str) -> bytes:
    """Flip the first byte of a stored blob (making it writable first); return the new content."""
    path = store.path(digest)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    return bytes(data)


def make_tree(folder: Path) -> dict[str, bytes]:
    """A model folder with nested files, an executable, a symlink to a file and one to a folder inside it,
    and an empty folder; return the files a download must reproduce, by relative path."""
    write_bytes(folder / "model.onnx", 3000, seed=1)
    (folder / "config.json").write_text('{"layers": 3}\n')
    write_bytes(folder / "nested" / "deep" / "weights.bin", 2000, seed=2)
    (folder / "nested.txt").write_text("sorts before nested/ in the listing\n")
    (folder / "bin").mkdir()
    (folder / "bin" / "run.sh").write_text("#!/bin/sh\necho run\n")
    (folder / "bin" / "run.sh").chmod(0o755)
    (folder / "mod\u00e8le.txt").write_text("unicode name\n")
    (folder / "link-to-config").symlink_to("config.json")
    (folder / "linkdir").symlink_to("nested")
    (folder / "empty-dir").mkdir()
    files = {
        "bin/run.sh": b"#!/bin/sh\necho run\n",
        "config.json": b'{"layers": 3}\n',
        "link-to-config": b'{"layers": 3}\n',
        "linkdir/deep/weights.bin": (folder / "nested" / "deep" / "weights.bin").read_bytes(),
        "model.onnx": (folder / "model.onnx").read_bytes(),
        "mod\u00e8le.txt": b"unicode name\n",
        "nested.txt": b"sorts before nested/ in the listing\n",
        "nested/deep/weights.bin": (folder / "nested" / "deep" / "weights.bin").read_bytes(),
    }
    return files


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def files_below(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def put_listing(store: LocalStore, entries: list[dict[str, object]]) -> str:
    """Store a hand-made tree listing (as a tampered or foreign store could hold) and return its digest."""
    doc = {"kind": "gitreg-tree/v1", "entries": entries}
    return store.put_bytes(json.dumps(doc).encode()).digest


# --- upload: files ---------------------------------------------------------------------------------------


def test_upload_of_a_file(store: LocalStore, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.onnx", 5000)
    data = src.read_bytes()
    assert upload(store, src) == StoredArtifact(sha256(data), 5000, "file", "model.onnx")
    assert list(store.digests()) == [Blob(sha256(data), 5000)]


def test_upload_of_a_file_through_a_symlink_keeps_the_name_given(store: LocalStore, tmp_path: Path) -> None:
    # Caches (Hugging Face, DVC, git-annex) link a readable name to a blob named by its hash: the artifact
    # is registered under the name the user gave, not the cache's internal one.
    blob = write_bytes(tmp_path / "cache" / "blobs" / "9f86d081884c7d65", 100)
    link = tmp_path / "snapshot" / "model.safetensors"
    link.parent.mkdir()
    link.symlink_to(blob)
    assert upload(store, link) == StoredArtifact(sha256(blob.read_bytes()), 100, "file", "model.safetensors")


def test_upload_of_a_missing_path(store: LocalStore, root: Path, tmp_path: Path) -> None:
    with pytest.raises(GitregError) as info:
        upload(store, tmp_path / "nope.onnx")
    assert str(info.value) == f"{tmp_path / 'nope.onnx'} does not exist"
    assert not root.exists()


def test_upload_of_a_fifo(store: LocalStore, root: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(StorageError) as info:
        upload(store, fifo)
    assert str(info.value) == f"{fifo} is not a regular file or folder (a device, socket or FIFO)"
    assert not root.exists()


# --- upload: folders -------------------------------------------------------------------------------------


def test_upload_of_a_folder_stores_every_file_and_a_canonical_listing(
    store: LocalStore, tmp_path: Path
) -> None:
    src = tmp_path / "bundle"
    files = make_tree(src)
    stored = upload(store, src)

    entries = [(path, len(data), sha256(data), path == "bin/run.sh") for path, data in sorted(files.items())]
    expected = (
        '{"entries":['
        + ",".join(
            f'{{"digest":"{digest}","executable":{"true" if exe else "false"},"path":"{path}","size":{size}}}'
            for path, size, digest, exe in entries
        )
        + '],"kind":"gitreg-tree/v1"}\n'
    ).encode()
    listing = read_blob(store, stored.digest)
    assert listing == expected
    assert "mod\u00e8le.txt".encode() in listing  # UTF-8, not \u escapes
    assert stored == StoredArtifact(sha256(expected), sum(len(d) for d in files.values()), "tree", "bundle")
    assert tree_entries(store, stored.digest) == [TreeEntry(*e) for e in entries]
    stored_digests = {b.digest for b in store.digests()}
    assert stored_digests == {sha256(d) for d in files.values()} | {stored.digest}


def test_listing_is_stored_last_after_every_file_it_lists(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    files = make_tree(src)
    recording = RecordingStore(store)
    stored = upload(recording, src)
    assert recording.calls[-1] == ("put_bytes", stored.digest)
    assert all(call == "put_file" for call, _ in recording.calls[:-1])
    assert {d for _, d in recording.calls[:-1]} == {sha256(d) for d in files.values()}
    assert recording.present_at_put[stored.digest] >= {sha256(d) for d in files.values()}


def test_tree_listing_is_sorted_compact_and_newline_terminated() -> None:
    d = sha256(b"x")
    listing = tree_listing(
        [TreeEntry("b/c", 1, d, False), TreeEntry("a/z", 2, d, True), TreeEntry("a.txt", 3, d, False)]
    )
    assert (
        listing
        == (
            '{"entries":['
            f'{{"digest":"{d}","executable":false,"path":"a.txt","size":3}},'
            f'{{"digest":"{d}","executable":true,"path":"a/z","size":2}},'
            f'{{"digest":"{d}","executable":false,"path":"b/c","size":1}}'
            '],"kind":"gitreg-tree/v1"}\n'
        ).encode()
    )
    assert parse_tree_listing(listing, sha256(listing)) == [
        TreeEntry("a.txt", 3, d, False),
        TreeEntry("a/z", 2, d, True),
        TreeEntry("b/c", 1, d, False),
    ]


def test_the_same_folder_uploads_to_the_same_digest(store: LocalStore, tmp_path: Path) -> None:
    make_tree(tmp_path / "one")
    make_tree(tmp_path / "two")
    first = upload(store, tmp_path / "one")
    before = tree_state(store.root)
    second = upload(store, tmp_path / "two")
    assert (first.digest, first.size) == (second.digest, second.size)
    assert second.name == "two"
    assert tree_state(store.root) == before


def test_identical_files_in_a_folder_are_stored_once(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    src.mkdir()
    (src / "a.bin").write_bytes(b"same")
    (src / "b.bin").write_bytes(b"same")
    stored = upload(store, src)
    assert stored.size == 8
    assert {b.digest for b in store.digests()} == {sha256(b"same"), stored.digest}


def test_upload_of_the_current_folder_is_named_after_it(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "bundle"
    make_tree(src)
    monkeypatch.chdir(src)
    assert upload(store, Path()).name == "bundle"


def test_executable_bit_is_any_execute_permission(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    src.mkdir()
    for name, mode in [("user", 0o744), ("group", 0o654), ("other", 0o645), ("none", 0o644)]:
        (src / name).write_bytes(name.encode())
        (src / name).chmod(mode)
    stored = upload(store, src)
    assert {e.path: e.executable for e in tree_entries(store, stored.digest)} == {
        "group": True,
        "none": False,
        "other": True,
        "user": True,
    }


# --- upload: bad folders store nothing -------------------------------------------------------------------


@pytest.fixture
def prefilled(store: LocalStore) -> dict[str, str]:
    """The store with one blob in it already, as tree_state before the operation under test."""
    store.put_bytes(b"already there")
    return tree_state(store.root)


def good_files(folder: Path) -> None:
    """Files that sort before the bad entry, so a store-as-you-walk upload would have stored them."""
    write_bytes(folder / "a-weights.bin", 1000)
    (folder / "b-config.json").write_text("{}\n")


def test_symlink_pointing_outside_is_refused(
    store: LocalStore, prefilled: dict[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of the model\n")
    src = tmp_path / "bundle"
    good_files(src)
    (src / "z-link").symlink_to(secret)
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == (
        f"{src / 'z-link'} is a symlink to {os.path.realpath(secret)}, outside the artifact "
        "(copy the file in instead)"
    )
    assert tree_state(store.root) == prefilled


def test_relative_symlink_climbing_out_is_refused(
    store: LocalStore, prefilled: dict[str, str], tmp_path: Path
) -> None:
    # A sibling folder whose name starts with the artifact's: a prefix test on strings would let it in.
    outside = tmp_path / "bundle-other" / "data.bin"
    write_bytes(outside, 10)
    src = tmp_path / "bundle"
    good_files(src)
    (src / "sub").mkdir()
    (src / "sub" / "z-link").symlink_to("../../bundle-other/data.bin")
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == (
        f"{src / 'sub' / 'z-link'} is a symlink to {os.path.realpath(outside)}, outside the artifact "
        "(copy the file in instead)"
    )
    assert tree_state(store.root) == prefilled


def test_fifo_in_a_folder_is_refused(store: LocalStore, prefilled: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    good_files(src)
    os.mkfifo(src / "z-pipe")
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == (
        f"{src / 'z-pipe'} is not a regular file or folder (a device, socket or FIFO) "
        "(remove it from the artifact)"
    )
    assert tree_state(store.root) == prefilled


def test_symlink_loop_through_a_folder_is_refused(
    store: LocalStore, prefilled: dict[str, str], tmp_path: Path
) -> None:
    src = tmp_path / "bundle"
    good_files(src)
    (src / "sub").mkdir()
    (src / "sub" / "file").write_text("x")
    (src / "sub" / "z-loop").symlink_to("../sub")
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == f"{src / 'sub' / 'z-loop'} is a symlink loop"
    assert tree_state(store.root) == prefilled


def test_symlink_to_itself_is_refused(store: LocalStore, prefilled: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    good_files(src)
    (src / "z-self").symlink_to("z-self")
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == f"cannot read {src / 'z-self'}: Too many levels of symbolic links"
    assert tree_state(store.root) == prefilled


def test_dangling_symlink_is_refused(store: LocalStore, prefilled: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    good_files(src)
    (src / "z-gone").symlink_to("missing.bin")
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == f"cannot read {src / 'z-gone'}: No such file or directory"
    assert tree_state(store.root) == prefilled


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file, so an unreadable file cannot be made")
def test_unreadable_file_in_a_folder_is_refused(
    store: LocalStore, prefilled: dict[str, str], tmp_path: Path
) -> None:
    src = tmp_path / "bundle"
    good_files(src)
    (src / "z-secret").write_text("x")
    (src / "z-secret").chmod(0)
    with pytest.raises(StorageError) as info:
        upload(store, src)
    assert str(info.value) == f"cannot read {src / 'z-secret'}: permission denied"
    assert tree_state(store.root) == prefilled


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any folder, so an unreadable one cannot be made")
def test_unreadable_subfolder_is_refused(
    store: LocalStore, prefilled: dict[str, str], tmp_path: Path
) -> None:
    src = tmp_path / "bundle"
    good_files(src)
    (src / "z-locked").mkdir()
    (src / "z-locked").chmod(0)
    try:
        with pytest.raises(StorageError) as info:
            upload(store, src)
    finally:
        (src / "z-locked").chmod(0o755)
    assert str(info.value) == f"cannot read folder {src / 'z-locked'}: Permission denied"
    assert tree_state(store.root) == prefilled


@pytest.mark.parametrize("subfolders", [[], ["a"], ["a/b", "c"]])
def test_folder_without_files_is_refused(
    store: LocalStore, prefilled: dict[str, str], tmp_path: Path, subfolders: list[str]
) -> None:
    src = tmp_path / "bundle"
    src.mkdir()
    for sub in subfolders:
        (src / sub).mkdir(parents=True)
    with pytest.raises(GitregError) as info:
        upload(store, src)
    assert str(info.value) == f"folder {src} has no files to register"
    assert tree_state(store.root) == prefilled


# --- download --------------------------------------------------------------------------------------------


def test_download_of_a_file(store: LocalStore, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.onnx", 4000)
    stored = upload(store, src)
    out = tmp_path / "out"
    out.mkdir()
    assert download(store, stored.digest, "file", out / "model.onnx") == out / "model.onnx"
    assert (out / "model.onnx").read_bytes() == src.read_bytes()
    assert names(out) == ["model.onnx"]


def test_download_of_a_tree_reproduces_bytes_and_executable_bits(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    files = make_tree(src)
    stored = upload(store, src)
    dest = tmp_path / "out" / "deeper" / "bundle"
    assert download(store, stored.digest, "tree", dest) == dest
    assert files_below(dest) == files
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    assert not (dest / "empty-dir").exists()
    assert stat.S_IMODE((dest / "bin" / "run.sh").stat().st_mode) & 0o111 == 0o111
    for path in files:
        if path != "bin/run.sh":
            assert stat.S_IMODE((dest / path).stat().st_mode) & 0o111 == 0, path
    assert names(dest.parent) == ["bundle"]


def test_download_round_trips_to_the_same_digest(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    make_tree(src)
    stored = upload(store, src)
    download(store, stored.digest, "tree", tmp_path / "copy")
    again = upload(store, tmp_path / "copy")
    assert (again.digest, again.size, again.type) == (stored.digest, stored.size, "tree")


@pytest.mark.parametrize("existing", ["file", "folder", "dangling-symlink"])
def test_download_to_an_existing_destination(store: LocalStore, tmp_path: Path, existing: str) -> None:
    stored = upload(store, write_bytes(tmp_path / "model.onnx", 100))
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "dest"
    if existing == "file":
        dest.write_text("mine")
    elif existing == "folder":
        dest.mkdir()
        (dest / "keep").write_text("mine")
    else:
        dest.symlink_to("nowhere")
    before = tree_state(out)
    with pytest.raises(ConflictError) as info:
        download(store, stored.digest, "file", dest)
    assert str(info.value) == (
        f"{dest} already exists and holds something else (remove it, or pass force=True to replace it)"
    )
    assert tree_state(out) == before


def test_download_of_a_tampered_file(store: LocalStore, tmp_path: Path) -> None:
    stored = upload(store, write_bytes(tmp_path / "model.onnx", 3 * 1024 * 1024))
    tampered = tamper(store, stored.digest)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError) as info:
        download(store, stored.digest, "file", out / "model.onnx")
    assert str(info.value) == (
        f"blob {stored.digest} is corrupt: its content hashes to {sha256(tampered)} ({CORRUPT_HINT})"
    )
    assert names(out) == []


def test_download_of_a_tree_with_a_tampered_file(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    files = make_tree(src)
    stored = upload(store, src)
    bad = sha256(files["nested/deep/weights.bin"])
    tampered = tamper(store, bad)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError) as info:
        download(store, stored.digest, "tree", out / "bundle")
    assert (
        str(info.value) == f"blob {bad} is corrupt: its content hashes to {sha256(tampered)} ({CORRUPT_HINT})"
    )
    assert names(out) == []


def test_download_of_a_tree_with_a_tampered_listing(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    make_tree(src)
    stored = upload(store, src)
    tampered = tamper(store, stored.digest)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError) as info:
        download(store, stored.digest, "tree", out / "bundle")
    assert str(info.value) == (
        f"blob {stored.digest} is corrupt: its content hashes to {sha256(tampered)} ({CORRUPT_HINT})"
    )
    assert names(out) == []


def test_download_of_a_tree_with_a_missing_file(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    files = make_tree(src)
    stored = upload(store, src)
    missing = sha256(files["nested.txt"])
    store.delete(missing)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(store, stored.digest, "tree", out / "bundle")
    assert str(info.value) == f"blob {missing} is missing from the store at {store.root} ({MISSING_HINT})"
    assert names(out) == []


@pytest.mark.parametrize("kind", ["file", "tree"])
def test_download_of_a_missing_artifact(store: LocalStore, tmp_path: Path, kind: str) -> None:
    digest = sha256(b"never stored")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(store, digest, kind, out / "dest")
    assert str(info.value) == f"blob {digest} is missing from the store at {store.root} ({MISSING_HINT})"
    assert names(out) == []


def test_download_where_the_parent_cannot_be_made(store: LocalStore, tmp_path: Path) -> None:
    stored = upload(store, write_bytes(tmp_path / "model.onnx", 10))
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(StorageError) as info:
        download(store, stored.digest, "file", blocker / "dest")
    assert str(info.value) == f"cannot write to {blocker}: File exists"
    assert blocker.read_text() == "a file, not a folder"


# --- listings from elsewhere -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["../x", "/abs", "a//b", "a/./b", "a/../../x", "", ".", "..", "a/", "a\\..\\x", "./a"]
)
def test_listing_with_a_path_outside_the_artifact_is_refused(
    store: LocalStore, tmp_path: Path, path: str
) -> None:
    blob = store.put_bytes(b"payload")
    listing = put_listing(store, [{"path": path, "size": 7, "digest": blob.digest, "executable": False}])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(store, listing, "tree", out / "dest")
    message = str(info.value)  # the reason in each case: tests/test_hostile_paths.py
    assert message.startswith(f"blob {listing} is not a valid tree listing: {path!r}")
    assert message.endswith(f" ({LISTING_HINT})")
    assert names(out) == []
    assert names(tmp_path) == ["out", "store"]
    with pytest.raises(StorageError):
        tree_entries(store, listing)


def test_listing_with_a_nul_in_a_path_is_refused(store: LocalStore, tmp_path: Path) -> None:
    blob = store.put_bytes(b"payload")
    listing = put_listing(store, [{"path": "a\x00b", "size": 7, "digest": blob.digest, "executable": False}])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(store, listing, "tree", out / "dest")
    assert str(info.value) == (
        f"blob {listing} is not a valid tree listing: 'a\\x00b' contains a control character ({LISTING_HINT})"
    )
    assert names(out) == []


def test_listing_with_a_malformed_entry_digest_is_a_storage_error(store: LocalStore, tmp_path: Path) -> None:
    # A bad listing in the store is the store's problem (exit 3), not a usage error of the caller.
    listing = put_listing(store, [{"path": "a", "size": 1, "digest": "sha256:zz", "executable": False}])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(store, listing, "tree", out / "dest")
    assert str(info.value).startswith(f"blob {listing} is not a valid tree listing: ")
    assert names(out) == []
    with pytest.raises(StorageError):
        tree_entries(store, listing)


@pytest.mark.parametrize(("size", "detail"), [(3, "more bytes than recorded"), (10, "7 bytes instead of 10")])
def test_listing_with_a_wrong_size_is_refused(
    store: LocalStore, tmp_path: Path, size: int, detail: str
) -> None:
    blob = store.put_bytes(b"payload")
    listing = put_listing(store, [{"path": "a", "size": size, "digest": blob.digest, "executable": False}])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError) as info:
        download(store, listing, "tree", out / "dest")
    assert (
        str(info.value) == f"blob {blob.digest} is corrupt: its content hashes to {detail} ({CORRUPT_HINT})"
    )
    assert names(out) == []


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"not json", "Expecting value: line 1 column 1 (char 0)"),
        (b'{"kind": "something-else", "entries": []}', "not a gitreg tree listing"),
        (b'{"kind": "gitreg-tree/v1"}', "'entries'"),
        (b'{"kind": "gitreg-tree/v1", "entries": [{"path": "a"}]}', "'size'"),
    ],
)
def test_parse_tree_listing_refuses_what_is_not_a_listing(data: bytes, detail: str) -> None:
    digest = sha256(data)
    with pytest.raises(StorageError) as info:
        parse_tree_listing(data, digest)
    assert str(info.value) == f"blob {digest} is not a valid tree listing: {detail}"


@pytest.mark.parametrize("data", [b"[1, 2]", b'"text"', b'{"kind": "gitreg-tree/v1", "entries": 5}'])
def test_parse_tree_listing_refuses_other_json(data: bytes) -> None:
    digest = sha256(data)
    with pytest.raises(StorageError) as info:
        parse_tree_listing(data, digest)
    assert str(info.value).startswith(f"blob {digest} is not a valid tree listing: ")


def test_download_of_a_file_blob_as_a_tree(store: LocalStore, tmp_path: Path) -> None:
    stored = upload(store, write_bytes(tmp_path / "model.onnx", 100))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StorageError) as info:
        download(store, stored.digest, "tree", out / "dest")
    assert str(info.value).startswith(f"blob {stored.digest} is not a valid tree listing: ")
    assert names(out) == []


def test_read_blob_verifies(store: LocalStore) -> None:
    blob = store.put_bytes(b"small listing")
    assert read_blob(store, blob.digest) == b"small listing"
    tampered = tamper(store, blob.digest)
    with pytest.raises(IntegrityError) as info:
        read_blob(store, blob.digest)
    assert str(info.value) == (
        f"blob {blob.digest} is corrupt: its content hashes to {sha256(tampered)} ({CORRUPT_HINT})"
    )
