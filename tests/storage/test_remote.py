"""The backend test suite: the same behaviour from the local store and from each server (moto, Azurite,
fake-gcs-server). Damage and interruptions are made on the client side (a reader that flips a byte or stops
mid-stream, a killed process) or by writing over a stored object, never by mocking a server."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from gitreg.errors import IntegrityError, StorageError
from gitreg.storage import Blob, LocalStore, VerifyingReader, open_store
from gitreg.storage import artifact as artifacts
from gitreg.storage.protocol import put_files
from gitreg.storage.remote import RemoteStore
from testing import sha256, write_bytes
from testing.servers import Backend

#: Also through RemoteStore over a driver that is not fsspec (conftest.py).
FOLDER_DRIVER = True
MIB = 1024 * 1024
MISSING_HINT = "register the artifact again, or point GITREG_STORAGE_URL at the store that has it"
CORRUPT_HINT = "the store copy was altered; run `gitreg verify` and re-register the artifact from its source"
CHANGED_HINT = "register it again once whatever writes it is done"


def read_back(store: Any, digest: str) -> bytes:
    with store.open(digest) as stream:
        return VerifyingReader(stream, digest).read_all()


def small_parts(store: Any) -> Any:
    """Parts of 5 MiB (S3's minimum; a multiple of GCS's 256 KiB), so a 12 MiB file takes three."""
    if isinstance(store, RemoteStore):
        store.part_size = 5 * MIB
    return store


def blob_keys(backend: Backend) -> list[str]:
    return sorted(k for k in backend.objects() if k.startswith("sha256/"))


# --- the same behaviour from every backend ----------------------------------------------------------------


def test_a_file_is_stored_under_its_digest_and_reads_back(backend: Backend, tmp_path: Path) -> None:
    data = b"model weights\n" * 100
    src = tmp_path / "model.bin"
    src.write_bytes(data)
    store = backend.store()
    blob = store.put_file(src)
    assert blob == Blob(sha256(data), len(data))
    hexdigest = blob.digest.removeprefix("sha256:")
    assert blob_keys(backend) == [f"sha256/{hexdigest[:2]}/{hexdigest[2:]}"]
    assert store.size(blob.digest) == len(data)
    assert store.size(sha256(b"other")) is None
    assert read_back(store, blob.digest) == data


def test_a_large_file_goes_in_parts_and_reads_back_whole(backend: Backend, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "big.bin", 12 * MIB + 5, seed=1)
    data = src.read_bytes()
    store = small_parts(backend.store())
    blob = store.put_file(src)
    assert blob == Blob(sha256(data), len(data))
    assert read_back(store, blob.digest) == data
    assert backend.objects()[f"sha256/{blob.digest[7:9]}/{blob.digest[9:]}"] == data
    assert [u for u in getattr(store, "incomplete", list)()] == []


def test_storing_the_same_bytes_again_keeps_one_copy(backend: Backend, tmp_path: Path) -> None:
    a = write_bytes(tmp_path / "a.bin", 1000, seed=2)
    b = tmp_path / "b.bin"
    b.write_bytes(a.read_bytes())
    store = backend.store()
    assert store.put_file(a) == store.put_file(b) == store.put_file(a)
    assert store.put_bytes(b"listing") == store.put_bytes(b"listing")
    assert len(blob_keys(backend)) == 2


def test_concurrent_stores_of_the_same_bytes_all_succeed(backend: Backend, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "big.bin", 11 * MIB, seed=3)
    data = src.read_bytes()
    results: list[Blob] = []
    errors: list[BaseException] = []

    def put() -> None:
        try:
            results.append(small_parts(backend.store()).put_file(src))  # a store each, as processes would
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [Blob(sha256(data), len(data))] * 3
    assert len(blob_keys(backend)) == 1
    assert read_back(backend.store(), sha256(data)) == data


def test_a_folder_is_stored_as_its_files_then_its_listing(backend: Backend, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    for i in range(40):
        write_bytes(src / f"part-{i % 4}" / f"f{i}.bin", 100 + i % 10, seed=i % 10)  # duplicates
    stored = artifacts.upload(backend.store(), src)
    entries = artifacts.tree_entries(backend.store(), stored.digest)
    assert [e.path for e in entries] == sorted(f"part-{i % 4}/f{i}.bin" for i in range(40))
    assert len(blob_keys(backend)) == 10 + 1
    out = artifacts.download(backend.store(), stored.digest, "tree", tmp_path / "out")
    for entry in entries:
        assert (out / entry.path).read_bytes() == (src / entry.path).read_bytes()


def test_a_damaged_blob_is_refused_on_download_and_nothing_is_left(backend: Backend, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.bin", 3 * MIB, seed=4)
    store = backend.store()
    blob = store.put_file(src)
    damaged = bytearray(src.read_bytes())
    damaged[MIB] ^= 0x01
    backend.write(blob.digest, bytes(damaged))
    dest = tmp_path / "out" / "model.bin"
    with pytest.raises(IntegrityError) as info:
        artifacts.download(backend.store(), blob.digest, "file", dest)
    assert (
        str(info.value)
        == f"blob {blob.digest} is corrupt: its content hashes to {sha256(bytes(damaged))} ({CORRUPT_HINT})"
    )
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(IntegrityError):
        read_back(backend.store(), blob.digest)


def test_a_missing_blob_is_reported_with_the_store_url(backend: Backend, tmp_path: Path) -> None:
    store = backend.store()
    digest = sha256(b"never stored")
    where = backend.root if backend.name == "local" else backend.url
    with pytest.raises(StorageError) as info, store.open(digest):
        pass
    assert str(info.value) == f"blob {digest} is missing from the store at {where} ({MISSING_HINT})"
    assert not (tmp_path / "out").exists()


def test_listing_and_deleting_blobs(backend: Backend, tmp_path: Path) -> None:
    store = backend.store()
    before = time.time()
    blobs = [store.put_file(write_bytes(tmp_path / f"f{i}", 10 + i, seed=i)) for i in range(3)]
    listed = sorted(store.digests(), key=lambda b: b.digest)
    assert listed == sorted(blobs, key=lambda b: b.digest)
    for blob in listed:
        assert blob.modified is not None and blob.modified > before - 120
    store.delete(blobs[0].digest)
    store.delete(blobs[0].digest)  # deleting what is gone is not an error
    assert {b.digest for b in store.digests()} == {b.digest for b in blobs[1:]}
    assert store.size(blobs[0].digest) is None


def test_sizes_of_many_digests_at_once(backend: Backend, tmp_path: Path) -> None:
    store = backend.store()
    files = [write_bytes(tmp_path / f"f{i}", 50 + i, seed=i) for i in range(20)]
    blobs = put_files(store, files)
    absent = [sha256(str(i).encode()) for i in range(5)]
    found = getattr(store, "sizes")([b.digest for b in blobs] + absent)  # noqa: B009
    assert found == {**{b.digest: b.size for b in blobs}, **dict.fromkeys(absent)}


# --- what only the remote stores do ------------------------------------------------------------------------


class FlippingReader(io.RawIOBase):
    """A file that flips one byte at ``at`` as it is read: the file changed between the two passes."""

    def __init__(self, path: Path, at: int) -> None:
        super().__init__()
        self.inner = path.open("rb")
        self.pos = 0
        self.at = at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.inner.readinto(buffer)
        if self.pos <= self.at < self.pos + n:
            buffer[self.at - self.pos] ^= 0x01
        self.pos += n
        return n

    def close(self) -> None:
        self.inner.close()
        super().close()


class StoppingReader(FlippingReader):
    """A file whose reads fail after ``at`` bytes (a disk error, an unmounted share)."""

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.at:
            raise OSError(5, "Input/output error")
        n = self.inner.readinto(memoryview(buffer)[: self.at - self.pos])
        self.pos += n
        return n


def with_opener(store: Any, make: Callable[[Path], io.RawIOBase]) -> RemoteStore:
    assert isinstance(store, RemoteStore)
    store.opener = lambda path: cast(BinaryIO, io.BufferedReader(make(path)))
    return store


@pytest.mark.parametrize("size", [1000, 12 * MIB + 3])
def test_a_file_that_changes_during_upload_is_refused(remote: Backend, tmp_path: Path, size: int) -> None:
    src = write_bytes(tmp_path / "model.bin", size, seed=5)
    store = with_opener(small_parts(remote.store()), lambda p: FlippingReader(p, size - 2))
    with pytest.raises(StorageError) as info:
        store.put_file(src)
    assert str(info.value) == f"{src} changed while it was being uploaded ({CHANGED_HINT})"
    assert remote.objects() == {}
    assert store.incomplete() == []


@pytest.mark.parametrize("size", [1000, 12 * MIB + 3])
def test_a_read_error_mid_upload_stores_nothing(remote: Backend, tmp_path: Path, size: int) -> None:
    src = write_bytes(tmp_path / "model.bin", size, seed=6)
    store = with_opener(small_parts(remote.store()), lambda p: StoppingReader(p, size // 2))
    with pytest.raises(StorageError) as info:
        store.put_file(src)
    assert str(info.value) == f"cannot read {src}: Input/output error"
    assert remote.objects() == {}
    assert store.incomplete() == []


KILLED_UPLOAD = """
import io, json, sys, time
from pathlib import Path
from gitreg.storage import open_store

class Slow(io.RawIOBase):
    def __init__(self, path):
        self.inner = path.open("rb")
        self.pos = 0
    def readable(self):
        return True
    def readinto(self, buffer):
        if self.pos >= 6 * 1024 * 1024:
            Path(sys.argv[3]).touch()  # two parts are on their way: kill me now
            time.sleep(600)
        n = self.inner.readinto(buffer)
        self.pos += n
        return n

if sys.argv[1].startswith("folder://"):
    from testing.folder_driver import open_folder_store
    store = open_folder_store(sys.argv[1], Path(json.loads(sys.argv[2])["root"]))
else:
    store = open_store(sys.argv[1], json.loads(sys.argv[2]))
store.part_size = 5 * 1024 * 1024
store.opener = lambda p: io.BufferedReader(Slow(p))
store.put_file(Path(sys.argv[4]))
"""


def test_a_killed_upload_leaves_nothing_under_the_digest(remote: Backend, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.bin", 16 * MIB, seed=7)
    marker = tmp_path / "reading"
    options = {"root": str(remote.root)} if remote.name == "folder" else remote.options
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_UPLOAD, remote.url, json.dumps(options), str(marker), str(src)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the upload ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # let the first part land
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    store = remote.store()
    digest = sha256(src.read_bytes())
    assert store.size(digest) is None
    assert blob_keys(remote) == []
    assert isinstance(store, RemoteStore)
    if remote.name in ("s3", "folder"):  # an unfinished multipart upload, for gc to abort
        [upload] = store.incomplete()
        assert upload.name.startswith(f"{remote.prefix}/sha256/{digest[7:9]}/{digest[9:]}?uploadId=")
        store.discard(upload)
    assert store.incomplete() == []
    assert store.put_file(src) == Blob(digest, 16 * MIB)  # a retried register starts cleanly


def test_a_stored_blob_of_the_wrong_size_is_replaced(remote: Backend, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.bin", 1000, seed=8)
    store = remote.store()
    blob = store.put_file(src)
    remote.write(blob.digest, b"truncated")
    assert remote.store().put_file(src) == blob
    key = f"sha256/{blob.digest[7:9]}/{blob.digest[9:]}"
    assert remote.objects() == {key: src.read_bytes()}


class Counting:
    """Counts a driver's calls and how many were in flight at once."""

    def __init__(self, store: RemoteStore, method: str, fail_first: int = 0) -> None:
        self.calls = 0
        self.in_flight = 0
        self.most = 0
        self.fail_first = fail_first
        driver = store.driver
        inner = getattr(driver, method)

        async def wrapper(*args: Any) -> Any:
            self.calls += 1
            if self.calls <= self.fail_first:
                raise ConnectionResetError(104, "Connection reset by peer")
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            try:
                return await inner(*args)
            finally:
                self.in_flight -= 1

        setattr(driver, method, wrapper)


def test_existence_checks_of_a_folder_are_concurrent_and_cached(remote: Backend, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    files = [write_bytes(src / f"f{i:03}.bin", 64, seed=i) for i in range(120)]
    store = remote.store()
    assert isinstance(store, RemoteStore)
    put_files(store, files[:100])  # most of the folder is stored already (and cached)
    store.cache.path.unlink()  # ... but this machine has not seen it
    again = remote.store()
    assert isinstance(again, RemoteStore)
    heads, puts = Counting(again, "head"), Counting(again, "put")
    artifacts.upload(again, src)
    assert heads.calls == 120 + 1  # every file's digest, and the listing's
    assert heads.most > 8  # in flight together, not one after another
    assert puts.calls == 20 + 1  # only the missing files, and the listing
    third = remote.store()
    assert isinstance(third, RemoteStore)
    heads = Counting(third, "head")
    artifacts.upload(third, src)
    assert heads.calls == 1  # the files are known present from the cache; the listing is checked


def test_transient_errors_are_retried(
    remote: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gitreg.storage.remote.retry.BACKOFF", 0.01)
    src = write_bytes(tmp_path / "model.bin", 1000, seed=9)
    store = remote.store()
    assert isinstance(store, RemoteStore)
    Counting(store, "put", fail_first=2)
    Counting(store, "head", fail_first=1)
    blob = store.put_file(src)
    assert read_back(remote.store(), blob.digest) == src.read_bytes()


def test_an_error_that_lasts_is_reported_after_the_retries(
    remote: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gitreg.storage.remote.retry.BACKOFF", 0.01)
    src = write_bytes(tmp_path / "model.bin", 1000, seed=10)
    store = remote.store()
    assert isinstance(store, RemoteStore)
    counter = Counting(store, "put", fail_first=100)
    with pytest.raises(StorageError) as info:
        store.put_file(src)
    assert str(info.value) == f"cannot upload {src} to {remote.url}: [Errno 104] Connection reset by peer"
    assert counter.calls == 5
    assert remote.objects() == {}


def test_a_download_cut_mid_stream_resumes_where_it_stopped(remote: Backend, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "model.bin", 6 * MIB, seed=11)
    store = remote.store()
    blob = store.put_file(src)
    assert isinstance(store, RemoteStore)
    driver = store.driver
    inner_open = driver.open
    opened: list[int] = []

    async def cutting_open(key: str, offset: int) -> Any:
        opened.append(offset)
        reader = await inner_open(key, offset)
        if len(opened) > 1:
            return reader
        inner_read = reader.read
        served = 0

        async def read(n: int) -> bytes:
            nonlocal served
            if served >= 2 * MIB:
                raise ConnectionResetError(104, "Connection reset by peer")
            data: bytes = await inner_read(min(n, 2 * MIB - served))
            served += len(data)
            return data

        setattr(reader, "read", read)  # noqa: B010 - the reader is the server's; only its reads are cut
        return reader

    setattr(driver, "open", cutting_open)  # noqa: B010
    artifacts.fetch_file(store, blob.digest, tmp_path / "out.bin", blob.size)
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
    assert opened == [0, 2 * MIB]


def test_a_local_store_is_not_remote(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path / "blobs")), LocalStore)
