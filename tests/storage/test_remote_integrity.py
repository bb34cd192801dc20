"""Remote stores (issue #9): a blob present with the wrong size is uploaded again, a blob found present is
touched so that gc's grace period covers the registration using it, and copy repairs a damaged blob."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import yaml

from gitreg.storage.protocol import Blob, put_files
from testing import git, run, servers, sha256, write_bytes
from testing.servers import Backend


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def set_storage(registry: Path, url: str, options: dict[str, object]) -> None:
    config = registry / "registry.yaml"
    doc = yaml.safe_load(config.read_text())
    doc["storage"] = {"url": url, "options": options}
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    git(registry, "commit", "--quiet", "-am", "Blobs in a bucket")


def _key(digest: str) -> str:
    return f"sha256/{digest[7:9]}/{digest[9:]}"


@pytest.mark.parametrize("wrong", [b"short", b"x" * 5000, b""], ids=["shorter", "longer", "empty"])
def test_a_remote_blob_present_with_the_wrong_size_is_uploaded_again(
    remote: Backend, tmp_path: Path, wrong: bytes
) -> None:
    data = random.Random(4).randbytes(3000)  # noqa: S311 - test data
    source = tmp_path / "model.bin"
    source.write_bytes(data)
    remote.write(sha256(data), wrong)
    blob = remote.store().put_file(source)
    assert blob == Blob(sha256(data), 3000)
    assert remote.objects()[_key(blob.digest)] == data


def test_a_tree_file_present_with_the_wrong_size_is_uploaded_again(remote: Backend, tmp_path: Path) -> None:
    files = [write_bytes(tmp_path / "t" / f"{i}.bin", 2000 + i, i) for i in range(3)]
    remote.write(sha256(files[1].read_bytes()), b"cut")
    store = remote.store()
    put_files(store, files)
    for f in files:
        assert remote.objects()[_key(sha256(f.read_bytes()))] == f.read_bytes()


def test_a_remote_tree_listing_present_with_the_wrong_size_is_uploaded_again(remote: Backend) -> None:
    listing = b'{"entries":[],"kind":"gitreg-tree/v1"}\n'
    remote.write(sha256(listing), b"{}")
    blob = remote.store().put_bytes(listing)
    assert remote.objects()[_key(blob.digest)] == listing


def test_a_blob_found_present_is_touched(remote: Backend, tmp_path: Path) -> None:
    """A later last-modified time than the listing showed: what gc's grace period reads."""
    source = write_bytes(tmp_path / "model.bin", 3000, 5)
    store = remote.store()
    blob = store.put_file(source)
    before = {b.digest: b.modified for b in store.digests()}[blob.digest]
    assert before is not None
    time.sleep(1.1)  # the stores' timestamps have a resolution of one second
    store.put_file(source)
    after = {b.digest: b.modified for b in store.digests()}[blob.digest]
    assert after is not None and after > before
    assert remote.objects()[_key(blob.digest)] == source.read_bytes()


def test_a_blob_deleted_after_the_check_is_uploaded_again(remote: Backend, tmp_path: Path) -> None:
    """The cache says a tree's file is present; gc deleted it since: the touch finds it gone."""
    files = [write_bytes(tmp_path / "t" / f"{i}.bin", 2000 + i, 10 + i) for i in range(2)]
    store = remote.store()
    put_files(store, files)
    remote.remove(sha256(files[0].read_bytes()))
    put_files(remote.store(), files)  # a new process: the cache on disk still lists it
    assert remote.objects()[_key(sha256(files[0].read_bytes()))] == files[0].read_bytes()


def _altered(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def test_copy_to_a_remote_store_repairs_a_damaged_blob(
    s3_server: servers.Server, registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    dest = tmp_path / "company"
    prefix = f"company-{time.time_ns()}"
    ok("init", dest, "--storage", s3_server.url(prefix), cwd=tmp_path)
    set_storage(dest, s3_server.url(prefix), s3_server.options)
    source = write_bytes(tmp_path / "art" / "model.bin", 3000, 1)
    data = source.read_bytes()
    ok("register", "fraud", source, cwd=registry)
    ok("copy", "fraud@1", "--to-registry", dest, cwd=registry)
    git(dest, "branch", "-D", "gitreg/copy/fraud-1")
    fs = s3_server.filesystem()
    key = f"{servers.BUCKET}/{prefix}/{_key(sha256(data))}"
    for damaged, flags in ((data[:100], ()), (_altered(data), ("--verify",))):
        fs.pipe_file(key, damaged)
        out = ok("copy", "fraud@1", "--to-registry", dest, *flags, cwd=registry)
        assert "(1 blob copied, 2.9 KiB)" in out
        assert fs.cat_file(key) == data
        git(dest, "branch", "-D", "gitreg/copy/fraud-1")
