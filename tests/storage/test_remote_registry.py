"""A registry whose blobs live in a bucket: register, pull, verify, gc and copy through the command line
against each server, with the store chosen by registry.yaml or by GITREG_STORAGE_URL/OPTIONS."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from gitreg.storage import open_store
from gitreg.storage.remote import RemoteStore
from testing import git, run, servers, write_bytes
from testing.servers import Backend

MIB = 1024 * 1024


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def set_storage(registry: Path, url: str, options: dict[str, object]) -> None:
    config = registry / "registry.yaml"
    doc = yaml.safe_load(config.read_text())
    doc["storage"] = {"url": url, "options": options}
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    git(registry, "commit", "--quiet", "-am", "Blobs in a bucket")


def test_register_pull_and_verify_through_the_environment(
    remote: Backend, registry: Path, blobs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_STORAGE_URL", remote.url)
    monkeypatch.setenv("GITREG_STORAGE_OPTIONS", json.dumps(remote.options))
    big = write_bytes(tmp_path / "art" / "model.onnx", 9 * MIB, 1)
    folder = tmp_path / "bundle"
    for i in range(12):
        write_bytes(folder / f"shard-{i}.bin", 1000 + i, i)
    assert ok("register", "fraud", big, "--quiet", cwd=registry) == "fraud@1\n"
    assert ok("register", "fraud", folder, cwd=registry) == "fraud@2\n"
    assert not blobs.exists()  # nothing went to the registry's own (local) store
    assert len([k for k in remote.objects() if k.startswith("sha256/")]) == 1 + 12 + 1
    out = tmp_path / "out"
    assert ok("pull", "fraud@1", "-o", f"{out}/", "--quiet", cwd=registry) == f"{out / 'model.onnx'}\n"
    assert (out / "model.onnx").read_bytes() == big.read_bytes()
    assert ok("pull", "fraud@2", "-o", f"{out}/", cwd=registry) == f"{out / 'bundle'}\n"
    assert sorted(p.name for p in (out / "bundle").iterdir()) == sorted(f"shard-{i}.bin" for i in range(12))
    assert ok("verify", "--all", cwd=registry) == "ok: 14 blobs of 2 versions, 9.0 MiB\n"


def test_register_and_pull_with_the_store_in_registry_yaml(
    remote: Backend, registry: Path, tmp_path: Path
) -> None:
    set_storage(registry, remote.url, remote.options)
    art = write_bytes(tmp_path / "model.bin", 5000, 2)
    assert ok("register", "churn", art, cwd=registry) == "churn@1\n"
    assert ok("pull", "churn@1", "-o", tmp_path / "got.bin", cwd=registry) == f"{tmp_path / 'got.bin'}\n"
    assert (tmp_path / "got.bin").read_bytes() == art.read_bytes()


def test_a_damaged_blob_fails_pull_and_verify(remote: Backend, registry: Path, tmp_path: Path) -> None:
    set_storage(registry, remote.url, remote.options)
    art = write_bytes(tmp_path / "model.bin", 5000, 3)
    ok("register", "churn", art, cwd=registry)
    digest = "sha256:" + hashlib.sha256(art.read_bytes()).hexdigest()
    remote.write(digest, b"not the model")
    result = run("pull", "churn@1", "-o", tmp_path / "got.bin", cwd=registry)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: blob {digest} is corrupt: its content hashes to sha256:")
    assert not (tmp_path / "got.bin").exists()
    result = run("verify", "churn@1", cwd=registry)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"corrupt {digest} churn@1 model.bin: its content hashes to sha256:")


def test_gc_sweeps_a_bucket(remote: Backend, registry: Path, tmp_path: Path) -> None:
    set_storage(registry, remote.url, remote.options)
    ok("register", "kept", write_bytes(tmp_path / "k.bin", 100, 4), cwd=registry)
    ok("register", "gone", write_bytes(tmp_path / "g.bin", 200, 5), "--branch", "side", cwd=registry)
    git(registry, "branch", "-D", "side")
    store = open_store(remote.url, remote.options)
    assert isinstance(store, RemoteStore)
    started = ""
    if remote.name == "s3":  # an upload that a killed register left behind
        fs = remote.fs
        response = fs.call_s3(
            "create_multipart_upload", Bucket=servers.BUCKET, Key=f"{remote.prefix}/sha256/ab/cd"
        )
        started = f"{remote.prefix}/sha256/ab/cd?uploadId={response['UploadId']}"
    out = ok("gc", "--grace", "0", "--yes", cwd=registry)
    lines = out.splitlines()
    gone = "sha256:" + hashlib.sha256(write_bytes(tmp_path / "g2.bin", 200, 5).read_bytes()).hexdigest()
    if started:
        assert lines[0].startswith(f"deleted unfinished upload {started} (started ")
        lines = lines[1:]
    assert lines[0].startswith(f"deleted {gone} (200 B, ")
    assert (
        lines[1]
        == "deleted 1 blob" + (" and 1 unfinished upload" if started else "") + ", 200 B; kept 1 referenced"
    )
    assert len([k for k in remote.objects() if k.startswith("sha256/")]) == 1
    assert store.incomplete() == []


def test_copy_from_an_s3_registry_to_an_azure_one(
    s3_server: servers.Server,
    azure_server: servers.Server,
    registry: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for server in (s3_server, azure_server):
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
    set_storage(registry, s3_server.url("team"), s3_server.options)
    dest = tmp_path / "company"
    ok("init", dest, "--storage", azure_server.url("company"), cwd=tmp_path)
    set_storage(dest, azure_server.url("company"), azure_server.options)
    folder = tmp_path / "bundle"
    for i in range(3):
        write_bytes(folder / f"f{i}.bin", 3000 + i, 10 + i)
    ok("register", "fraud", folder, cwd=registry)
    out = ok("copy", "fraud@1", "--to-registry", dest, cwd=registry)
    assert out.startswith(f"fraud@1 -> fraud@1 on branch gitreg/copy/fraud-1 of {dest} (4 blobs copied, ")
    git(dest, "merge", "--quiet", "gitreg/copy/fraud-1")
    assert ok("verify", "--all", cwd=dest) == "ok: 4 blobs of 1 version, 8.8 KiB\n"
    assert ok("pull", "fraud@1", "-o", tmp_path / "got", cwd=dest) == f"{tmp_path / 'got'}\n"
    assert sorted(p.read_bytes() for p in (tmp_path / "got").iterdir()) == sorted(
        p.read_bytes() for p in folder.iterdir()
    )
