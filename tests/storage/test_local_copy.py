"""The local store's overlapped copy (gitreg.storage.copying): a writer thread with direct I/O while the
next buffer is read and hashed. Whatever the length of the tail, the shape of the reads, a source that
changes meanwhile, a write that fails or a process that is killed: the blob under a digest holds exactly the
bytes that hash to it, or there is no blob."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from gitreg.storage import LocalStore
from gitreg.storage.copying import ALIGN, BUFFER_SIZE, COPIES
from testing import sha256, sha256_file

SUBPROCESS_TIMEOUT = 120


def blob_files(root: Path) -> list[Path]:
    base = root / "sha256"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def tmp_files(root: Path) -> list[str]:
    tmp = root / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def copy_threads() -> list[threading.Thread]:
    """The hashing and writing threads of a copy, if any are left."""
    return [t for t in threading.enumerate() if t.name.startswith("gitreg-blob-")]


def _data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)  # noqa: S311 - test data


@pytest.mark.parametrize(
    "size",
    [
        BUFFER_SIZE - 1,  # written in place: under one buffer
        BUFFER_SIZE,
        BUFFER_SIZE + 1,
        2 * BUFFER_SIZE + 1000,  # the last buffer's tail, unaligned, after two direct writes
        3 * BUFFER_SIZE + ALIGN,  # a short but aligned last buffer
    ],
)
def test_a_file_is_stored_whole_whatever_its_tail(store: LocalStore, tmp_path: Path, size: int) -> None:
    data = _data(size)
    source = tmp_path / "model.bin"
    source.write_bytes(data)
    for _ in range(3):  # the tail raced the end of the copy once: give a regression several chances
        blob = store.put_file(source)
        assert blob.digest == sha256(data)
        assert blob.size == size
        assert store.path(blob.digest).read_bytes() == data
    assert tmp_files(store.root) == []
    assert copy_threads() == []


def test_a_folder_of_large_files_copies_a_few_at_a_time(store: LocalStore, tmp_path: Path) -> None:
    # Memory stays flat in the number of files too: however many a folder has, at most COPIES copies (each
    # a hashing and a writing thread, and their buffers) run at once.
    files = []
    for index in range(3 * COPIES + 2):
        path = tmp_path / f"part-{index}.bin"
        path.write_bytes(_data(2 * BUFFER_SIZE + index, seed=index))
        files.append(path)
    stop = threading.Event()
    most = 0

    def watch() -> None:
        nonlocal most
        while not stop.wait(0.001):
            most = max(most, len(copy_threads()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        blobs = store.put_files(files)
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert [b.digest for b in blobs] == [sha256_file(f) for f in files]
    assert all(sha256_file(store.path(b.digest)) == b.digest for b in blobs)
    assert 0 < most <= 2 * COPIES


class ShortReads:
    """A source whose reads return pieces of uneven, unaligned lengths, as a pipe or a network share does."""

    def __init__(self, data: bytes, lengths: list[int]) -> None:
        self.data = data
        self.lengths = lengths
        self.pos = 0
        self.calls = 0

    def readinto(self, buf: bytearray | memoryview) -> int:
        want = self.lengths[self.calls % len(self.lengths)]
        self.calls += 1
        n = min(len(buf), want, len(self.data) - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def test_unaligned_reads_in_the_middle_are_stored_whole(store: LocalStore) -> None:
    # The first reads are whole aligned buffers (written directly), then one of 5 bytes moves every later
    # offset off the alignment direct writes need: the rest must go through the page cache, in order.
    data = _data(5 * BUFFER_SIZE + 77, seed=1)
    blob = store._write(ShortReads(data, [BUFFER_SIZE, BUFFER_SIZE, 5, BUFFER_SIZE, 65536 + 3]))
    assert blob.digest == sha256(data)
    assert store.path(blob.digest).read_bytes() == data


def test_a_file_changing_during_the_copy_is_stored_under_the_hash_of_the_stored_bytes(
    store: LocalStore, tmp_path: Path
) -> None:
    # Another process rewrites the file while it is stored: the blob may hold old and new bytes, but its
    # name must be the hash of what it holds (the digest is of the bytes read, which are the bytes written).
    size = 8 * BUFFER_SIZE
    source = tmp_path / "model.bin"
    source.write_bytes(_data(size, seed=2))
    stop = threading.Event()
    rewrites = 0

    def rewrite() -> None:
        nonlocal rewrites
        rng = random.Random(3)  # noqa: S311 - test data
        with source.open("r+b", buffering=0) as out:
            while not stop.is_set():
                os.pwrite(out.fileno(), rng.randbytes(65536), rng.randrange(0, size - 65536))
                rewrites += 1

    for _ in range(3):
        stop.clear()
        thread = threading.Thread(target=rewrite)
        thread.start()
        try:
            blob = store.put_file(source)
        finally:
            stop.set()
            thread.join(timeout=30)
        stored = store.path(blob.digest)
        assert sha256_file(stored) == blob.digest
        assert stored.stat().st_size == blob.size == size
    assert rewrites > 0
    assert tmp_files(store.root) == []


class FailingAfter:
    """A source whose reads fail after ``good`` bytes."""

    def __init__(self, data: bytes, good: int, error: BaseException) -> None:
        self.source = ShortReads(data, [BUFFER_SIZE])
        self.good = good
        self.error = error

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self.source.pos >= self.good:
            raise self.error
        return self.source.readinto(buf[: self.good - self.source.pos])


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("connection reset")])
def test_a_read_failing_mid_copy_stores_nothing_and_stops_the_writer(
    store: LocalStore, error: BaseException
) -> None:
    data = _data(4 * BUFFER_SIZE, seed=4)
    with pytest.raises(type(error)):
        store._write(FailingAfter(data, 2 * BUFFER_SIZE + 5, error))
    assert blob_files(store.root) == []
    assert tmp_files(store.root) == []
    assert copy_threads() == []


_STORE_WITH_A_SIZE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from gitreg.errors import StorageError
from gitreg.storage import LocalStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    LocalStore(Path(sys.argv[1])).put_file(Path(sys.argv[2]))
except StorageError as exc:
    print(exc)
    sys.exit(3)
"""


@pytest.mark.parametrize("limit", [BUFFER_SIZE + ALIGN, 3 * BUFFER_SIZE])
def test_a_write_failing_mid_copy_is_reported_and_stores_nothing(tmp_path: Path, limit: int) -> None:
    # A real write error in the writer thread: the process may not make files larger than ``limit``.
    root = tmp_path / "store"
    source = tmp_path / "model.bin"
    source.write_bytes(_data(5 * BUFFER_SIZE, seed=5))
    done = subprocess.run(
        [sys.executable, "-c", _STORE_WITH_A_SIZE_LIMIT, str(root), str(source), str(limit)],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stderr) == (3, "")
    assert done.stdout == f"cannot write to the blob store at {root}: File too large\n"
    assert blob_files(root) == []
    assert tmp_files(root) == []


_STORE_FROM_STDIN = """
import sys
from pathlib import Path
from gitreg.storage import LocalStore
LocalStore(Path(sys.argv[1]))._write(sys.stdin.buffer)
"""


def test_a_store_killed_mid_copy_leaves_no_blob_under_the_digest(tmp_path: Path) -> None:
    # The source is a pipe fed a few buffers at a time, so the kill lands while the copy is under way.
    root = tmp_path / "store"
    data = _data(6 * BUFFER_SIZE, seed=6)
    process = subprocess.Popen(
        [sys.executable, "-c", _STORE_FROM_STDIN, str(root)], stdin=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    try:
        process.stdin.write(data[: 3 * BUFFER_SIZE])
        process.stdin.flush()
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT
        while not any(p.stat().st_size >= 2 * BUFFER_SIZE for p in (root / "tmp").glob("upload-*")):
            assert time.monotonic() < deadline, "the store never wrote its temporary file"
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=SUBPROCESS_TIMEOUT)
        process.stdin.close()
        if process.stderr is not None:
            process.stderr.close()
    assert blob_files(root) == []
    assert [u.name for u in LocalStore(root).incomplete()] == [f"tmp/{n}" for n in tmp_files(root)]
    # and the same bytes, stored again, are whole
    again = LocalStore(root).put_bytes(data)
    assert again.digest == sha256(data)
    assert LocalStore(root).path(again.digest).read_bytes() == data


SHM = Path("/dev/shm")  # noqa: S108 - a private folder is made inside it


@pytest.mark.skipif(not SHM.is_dir(), reason="needs a tmpfs at /dev/shm")
def test_a_store_on_tmpfs_stores_large_files_whole(tmp_path: Path) -> None:
    # tmpfs takes no direct writes on many kernels: the copy goes through the page cache there.
    data = _data(2 * BUFFER_SIZE + 123, seed=7)
    source = tmp_path / "model.bin"
    source.write_bytes(data)
    with tempfile.TemporaryDirectory(dir=SHM) as shm:
        store = LocalStore(Path(shm) / "store")
        blob = store.put_file(source)
        assert blob.digest == sha256(data)
        assert store.path(blob.digest).read_bytes() == data
