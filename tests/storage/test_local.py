"""gitreg.storage.local (the filesystem blob store), gitreg.storage.protocol (digests, verifying reads) and
gitreg.storage.open_store (picking a backend from a URL)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import random
import stat
from pathlib import Path

import pytest

from gitreg.errors import GitregError, IntegrityError, StorageError, UsageError
from gitreg.storage import Blob, LocalStore, VerifyingReader, default_store_url, file_digests, open_store
from gitreg.storage.protocol import CHUNK_SIZE, check_digest
from testing import sha256, tree_state, write_bytes

MISSING_HINT = "register the artifact again, or point GITREG_STORAGE_URL at the store that has it"
DIGEST_HINT = "digests look like sha256:<64 hex digits>"
CORRUPT_HINT = "the store copy was altered; run `gitreg verify` and re-register the artifact from its source"


def blob_files(root: Path) -> list[str]:
    """Relative paths of the blobs under ``root/sha256``."""
    base = root / "sha256"
    return (
        sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file())
        if base.exists()
        else []
    )


def tmp_files(root: Path) -> list[str]:
    tmp = root / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def tamper(store: LocalStore, digest: str) -> bytes:
    """Flip the first byte of a stored blob (making it writable first); return the new content."""
    path = store.path(digest)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    return bytes(data)


class FailingSource:
    """A source whose reads fail after ``good`` bytes, as a dying disk or a dropped network share does."""

    def __init__(self, data: bytes, good: int, error: BaseException) -> None:
        self.data = data
        self.good = good
        self.error = error
        self.pos = 0

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self.pos >= self.good:
            raise self.error
        n = min(len(buf), self.good - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


# --- writing ---------------------------------------------------------------------------------------------


def test_put_bytes_returns_the_sha256_digest_and_size(store: LocalStore) -> None:
    data = b"hello gitreg\n"
    blob = store.put_bytes(data)
    assert blob == Blob(sha256(data), len(data))
    assert blob.digest == sha256(data)


def test_put_file_hashes_a_multi_chunk_file(store: LocalStore, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.bin", CHUNK_SIZE * 2 + 12345, seed=7)
    data = src.read_bytes()
    blob = store.put_file(src)
    assert blob == Blob(sha256(data), len(data))
    with store.open(blob.digest) as stream:
        assert stream.read() == data


def test_blob_is_stored_read_only_under_its_digest(store: LocalStore, root: Path) -> None:
    data = b"weights"
    hexdigest = hashlib.sha256(data).hexdigest()
    blob = store.put_bytes(data)
    path = root / "sha256" / hexdigest[:2] / hexdigest[2:]
    assert store.path(blob.digest) == path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert blob_files(root) == [f"sha256/{hexdigest[:2]}/{hexdigest[2:]}"]


def test_empty_blob(store: LocalStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    blob = store.put_file(empty)
    assert blob == Blob("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0)
    assert store.size(blob.digest) == 0


def test_no_temporary_file_is_left_after_a_write(store: LocalStore, root: Path, tmp_path: Path) -> None:
    store.put_bytes(b"a")
    store.put_file(write_bytes(tmp_path / "f", 5000))
    store.put_bytes(b"a")  # a deduplicated write, too
    assert tmp_files(root) == []
    assert (root / "tmp").is_dir()


def test_same_bytes_are_stored_once(store: LocalStore, root: Path, tmp_path: Path) -> None:
    data = b"x" * 1000
    first = store.put_bytes(data)
    before = tree_state(root)
    src = tmp_path / "copy.bin"
    src.write_bytes(data)
    assert store.put_file(src) == first
    assert store.put_bytes(data) == first
    assert tree_state(root) == before
    assert len(blob_files(root)) == 1


def test_putting_the_same_bytes_again_repairs_a_corrupt_copy(store: LocalStore) -> None:
    # IntegrityError's advice is to "re-register the artifact from its source": that must fix the store.
    data = b"the real model bytes"
    blob = store.put_bytes(data)
    tamper(store, blob.digest)
    assert store.put_bytes(data) == blob
    with store.open(blob.digest) as stream:
        assert VerifyingReader(stream, blob.digest).read_all() == data
    assert stat.S_IMODE(store.path(blob.digest).stat().st_mode) == 0o444


@pytest.mark.parametrize("good", [0, 10, CHUNK_SIZE, CHUNK_SIZE + 10])
def test_interrupted_source_stores_nothing(store: LocalStore, root: Path, good: int) -> None:
    existing = store.put_bytes(b"already there")
    before = tree_state(root)
    data = os.urandom(CHUNK_SIZE * 2)
    error = RuntimeError("connection reset while reading the model")
    with pytest.raises(RuntimeError) as info:
        # The public API reads from a path; the failure is injected through the source it reads.
        store._write(FailingSource(data, good, error))
    assert info.value is error
    assert tree_state(root) == before
    assert tmp_files(root) == []
    assert list(store.digests()) == [existing]


def test_keyboard_interrupt_during_a_write_stores_nothing(store: LocalStore, root: Path) -> None:
    store.put_bytes(b"already there")
    before = tree_state(root)
    with pytest.raises(KeyboardInterrupt):
        store._write(FailingSource(b"y" * (CHUNK_SIZE + 1), CHUNK_SIZE, KeyboardInterrupt()))
    assert tree_state(root) == before
    assert tmp_files(root) == []


def test_os_error_from_the_source_stores_nothing(store: LocalStore, root: Path) -> None:
    # The message for a source that cannot be read is asserted with a real file below.
    store.put_bytes(b"already there")
    before = tree_state(root)
    with pytest.raises(StorageError):
        store._write(FailingSource(b"z" * 100, 50, OSError(errno.EIO, "Input/output error")))
    assert tree_state(root) == before
    assert tmp_files(root) == []


@pytest.mark.skipif(
    not Path("/proc/self/mem").exists(), reason="needs Linux's /proc/self/mem, whose reads fail"
)
def test_read_error_of_the_source_names_the_source_not_the_store(store: LocalStore, root: Path) -> None:
    # Reading /proc/self/mem from offset 0 fails with EIO: a real source that opens but cannot be read.
    store.put_bytes(b"already there")
    before = tree_state(root)
    with pytest.raises(StorageError) as info:
        store.put_file(Path("/proc/self/mem"))
    assert str(info.value) == "cannot read /proc/self/mem: Input/output error"
    assert tree_state(root) == before


def test_put_file_of_a_missing_file(store: LocalStore, root: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        store.put_file(tmp_path / "nope.bin")
    assert str(info.value) == f"cannot read {tmp_path / 'nope.bin'}: No such file or directory"
    assert not root.exists()


def test_put_file_of_a_directory(store: LocalStore, root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(StorageError) as info:
        store.put_file(folder)
    assert str(info.value) == f"cannot read {folder}: Is a directory"
    assert not root.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file, so an unreadable file cannot be made")
def test_put_file_of_an_unreadable_file(store: LocalStore, root: Path, tmp_path: Path) -> None:
    src = tmp_path / "secret.bin"
    src.write_bytes(b"x")
    src.chmod(0)
    with pytest.raises(StorageError) as info:
        store.put_file(src)
    assert str(info.value) == f"cannot read {src}: Permission denied"
    assert not root.exists()


def test_store_root_that_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "not-a-folder"
    root.write_text("oops")
    with pytest.raises(StorageError) as info:
        LocalStore(root).put_bytes(b"x")
    assert str(info.value) == f"cannot write to the blob store at {root}: Not a directory"
    assert root.read_text() == "oops"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere, so a read-only store cannot be made")
def test_read_only_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    root.chmod(0o555)
    try:
        with pytest.raises(StorageError) as info:
            LocalStore(root).put_bytes(b"x")
        assert str(info.value) == f"cannot write to the blob store at {root}: Permission denied"
    finally:
        root.chmod(0o755)
    assert list(root.iterdir()) == []


# --- reading, listing, deleting --------------------------------------------------------------------------


def test_size_of_present_and_absent_blobs(store: LocalStore) -> None:
    blob = store.put_bytes(b"12345")
    assert store.size(blob.digest) == 5
    assert store.size(sha256(b"not stored")) is None


def test_size_in_a_store_that_does_not_exist_yet(store: LocalStore, root: Path) -> None:
    assert store.size(sha256(b"x")) is None
    assert not root.exists()


def test_open_reads_the_stored_bytes(store: LocalStore) -> None:
    blob = store.put_bytes(b"payload")
    with store.open(blob.digest) as stream:
        assert stream.read() == b"payload"
    assert stream.closed


def test_open_of_a_missing_blob(store: LocalStore, root: Path) -> None:
    digest = sha256(b"never stored")
    with pytest.raises(StorageError) as info, store.open(digest):
        pass
    assert str(info.value) == f"blob {digest} is missing from the store at {root} ({MISSING_HINT})"
    assert info.value.exit_code == 3


def test_digests_lists_every_blob_in_digest_order(store: LocalStore) -> None:
    assert list(store.digests()) == []
    blobs = [store.put_bytes(bytes([i]) * (i + 1)) for i in range(20)]
    assert list(store.digests()) == sorted(blobs, key=lambda b: b.digest)


def test_delete_removes_one_blob(store: LocalStore) -> None:
    keep = store.put_bytes(b"keep")
    drop = store.put_bytes(b"drop")
    store.delete(drop.digest)
    assert store.size(drop.digest) is None
    assert store.size(keep.digest) == 4
    assert list(store.digests()) == [keep]


def test_delete_of_a_missing_blob_is_not_an_error(store: LocalStore, root: Path) -> None:
    store.put_bytes(b"keep")
    before = tree_state(root)
    store.delete(sha256(b"absent"))
    assert tree_state(root) == before


def test_url_and_repr(root: Path) -> None:
    store = LocalStore(root)
    assert store.url == root.as_uri()
    assert repr(store) == f"LocalStore({str(root)!r})"


# --- digests and verifying reads (storage.protocol) -------------------------------------------------------

BAD_DIGESTS = [
    "",
    "sha256:",
    "sha256:abc",
    "sha256:" + "A" * 64,
    "sha256:" + "g" * 64,
    "sha256:" + "a" * 63,
    "sha256:" + "a" * 65,
    "sha1:" + "a" * 40,
    "a" * 64,
    "SHA256:" + "a" * 64,
    "sha256:" + "a" * 64 + "\n",
    "sha256:../../" + "a" * 58,
]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_check_digest_refuses_malformed_digests(digest: str) -> None:
    with pytest.raises(UsageError) as info:
        check_digest(digest)
    assert str(info.value) == f"{digest!r} is not a digest ({DIGEST_HINT})"
    assert info.value.exit_code == 2


@pytest.mark.parametrize("digest", BAD_DIGESTS[:4])
def test_store_operations_refuse_malformed_digests(store: LocalStore, root: Path, digest: str) -> None:
    store.put_bytes(b"x")
    before = tree_state(root)
    expected = f"{digest!r} is not a digest ({DIGEST_HINT})"
    with pytest.raises(UsageError) as info:
        store.size(digest)
    assert str(info.value) == expected
    with pytest.raises(UsageError) as info, store.open(digest):
        pass
    assert str(info.value) == expected
    with pytest.raises(UsageError) as info:
        store.delete(digest)
    assert str(info.value) == expected
    assert tree_state(root) == before


def test_check_digest_returns_a_good_digest() -> None:
    digest = sha256(b"x")
    assert check_digest(digest) == digest


def test_verifying_reader_passes_good_bytes_in_chunks() -> None:
    data = os.urandom(1000)
    reader = VerifyingReader(io.BytesIO(data), sha256(data), len(data))
    chunks = list(reader.chunks(chunk_size=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert b"".join(chunks) == data
    assert reader.size == 1000


def test_verifying_reader_refuses_other_bytes() -> None:
    expected = sha256(b"original")
    with pytest.raises(IntegrityError) as info:
        VerifyingReader(io.BytesIO(b"tampered"), expected).read_all()
    assert str(info.value) == (
        f"blob {expected} is corrupt: its content hashes to {sha256(b'tampered')} ({CORRUPT_HINT})"
    )
    assert info.value.expected == expected
    assert info.value.actual == sha256(b"tampered")
    assert info.value.exit_code == 3


def test_verifying_reader_stops_at_more_bytes_than_recorded() -> None:
    data = b"a" * 100
    reader = VerifyingReader(io.BytesIO(data), sha256(data), expected_size=10)
    with pytest.raises(IntegrityError) as info:
        reader.read_all()
    assert str(info.value) == (
        f"blob {sha256(data)} is corrupt: its content hashes to more bytes than recorded ({CORRUPT_HINT})"
    )
    assert reader.size <= CHUNK_SIZE


# --- open_store ------------------------------------------------------------------------------------------


def local_root(url: str, base: Path | None = None) -> Path:
    store = open_store(url, base=base)
    assert isinstance(store, LocalStore)
    return store.root


def test_open_store_file_url(tmp_path: Path) -> None:
    assert local_root((tmp_path / "blobs").as_uri()) == tmp_path / "blobs"
    assert local_root(f"file://localhost{tmp_path}/blobs") == tmp_path / "blobs"
    assert local_root(f"file://{tmp_path}/my%20blobs") == tmp_path / "my blobs"
    assert not (tmp_path / "blobs").exists()


def test_open_store_absolute_path_ignores_the_base(tmp_path: Path) -> None:
    assert local_root(str(tmp_path / "blobs"), base=tmp_path / "repo") == tmp_path / "blobs"


def test_open_store_home_path() -> None:
    assert local_root("~/blobs") == Path(os.environ["HOME"]) / "blobs"


def test_open_store_relative_path_is_relative_to_the_base(tmp_path: Path) -> None:
    assert local_root("blobs", base=tmp_path) == tmp_path / "blobs"
    assert local_root("../shared/blobs", base=tmp_path / "repo") == tmp_path / "repo" / "../shared/blobs"


def test_open_store_relative_path_without_a_base() -> None:
    with pytest.raises(GitregError) as info:
        open_store("blobs")
    assert str(info.value) == (
        "storage path 'blobs' is relative and there is no working tree to resolve it against "
        "(set GITREG_STORAGE_URL to an absolute path or URL)"
    )
    assert info.value.exit_code == 3


@pytest.mark.parametrize(("url", "scheme"), [("ftp://host/blobs", "ftp"), ("https://example.com/b", "https")])
def test_open_store_unknown_scheme(url: str, scheme: str) -> None:
    with pytest.raises(UsageError) as info:
        open_store(url)
    assert str(info.value) == (
        f"storage URL {url!r} has an unknown scheme {scheme!r} (use file://, s3://, gs:// or az://)"
    )
    assert info.value.exit_code == 2


def test_open_store_file_url_with_a_host() -> None:
    with pytest.raises(UsageError) as info:
        open_store("file://fileserver/srv/blobs")
    assert str(info.value) == (
        "storage URL 'file://fileserver/srv/blobs' names a host (file URLs look like file:///absolute/path)"
    )
    assert info.value.exit_code == 2


def test_default_store_url_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert default_store_url() == (data_home / "gitreg" / "blobs").as_uri()
    monkeypatch.delenv("XDG_DATA_HOME")
    assert (
        default_store_url() == (Path(os.environ["HOME"]) / ".local" / "share" / "gitreg" / "blobs").as_uri()
    )


# --- storing a large file again ----------------------------------------------------------------------------


def _big(path: Path, seed: int) -> Path:
    path.write_bytes(random.Random(seed).randbytes(file_digests.MIN_SIZE + 1000))  # noqa: S311 - test data
    return path


def test_storing_the_same_large_file_again_writes_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = _big(tmp_path / "model.bin", 1)
    first = store.put_file(source)
    inode = store.path(first.digest).stat().st_ino
    again = store.put_file(source)
    assert again == first
    # not even replaced by an identical copy: the blob file is the one the first store wrote
    assert store.path(first.digest).stat().st_ino == inode
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_a_changed_file_is_stored_again_even_with_its_old_times(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = _big(tmp_path / "model.bin", 1)
    first = store.put_file(source)
    before = source.stat()
    data = bytearray(source.read_bytes())
    data[-1] ^= 0xFF
    source.write_bytes(bytes(data))
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size and mtime (ctime moves)
    second = store.put_file(source)
    assert second.digest == "sha256:" + hashlib.sha256(bytes(data)).hexdigest()
    assert second.digest != first.digest


def test_a_wrong_hint_costs_a_pass_never_a_wrong_digest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    other = store.put_file(_big(tmp_path / "other.bin", 2))
    source = _big(tmp_path / "model.bin", 1)
    file_digests.record(source, source.stat(), other.digest)  # a stale or corrupted entry naming another blob
    stored = store.put_file(source)
    assert stored.digest == "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    assert store.size(stored.digest) == source.stat().st_size
