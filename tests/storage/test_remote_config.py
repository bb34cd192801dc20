"""Opening a remote store: URLs, options, missing extras, missing buckets and unreachable servers, each
refused with one exact line, nothing stored."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gitreg.errors import GitregError, StorageError, UsageError
from gitreg.storage import REMOTE_SCHEMES, open_store
from gitreg.storage.remote import RemoteStore
from testing import servers, write_bytes
from testing.servers import Backend

S3_HINT = "use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role"
AZURE_HINT = "use AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT_KEY, or a managed identity"
GCS_HINT = "use GOOGLE_APPLICATION_CREDENTIALS or gcloud's application-default login"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3:///models", "storage URL 's3:///models' names no bucket (write s3://BUCKET/PREFIX)"),
        ("gs://", "storage URL 'gs://' names no bucket (write gs://BUCKET/PREFIX)"),
        ("az:///x", "storage URL 'az:///x' names no container (write az://CONTAINER/PREFIX)"),
    ],
)
def test_a_url_without_a_bucket_is_refused(url: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        open_store(url)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("url", "option", "hint"),
    [
        ("s3://b/p", "secret", S3_HINT),
        ("s3://b/p", "aws_secret_access_key", S3_HINT),
        ("s3://b/p", "key", S3_HINT),
        ("az://c/p", "account_key", AZURE_HINT),
        ("az://c/p", "connection_string", AZURE_HINT),
        ("abfs://c/p", "sas_token", AZURE_HINT),
        ("gs://b/p", "token", GCS_HINT),
    ],
)
def test_credentials_in_the_options_are_refused(url: str, option: str, hint: str) -> None:
    with pytest.raises(UsageError) as info:
        open_store(url, {"endpoint_url": "http://127.0.0.1:1", option: "s3cr3t"})
    assert str(info.value) == (
        f"storage option {option!r} is a credential, and credentials do not belong in registry.yaml "
        f"or GITREG_STORAGE_OPTIONS ({hint})"
    )


def test_naming_a_standard_credential_source_is_not_a_credential() -> None:
    store = open_store("gs://bucket/prefix", {"token": "anon"})
    assert isinstance(store, RemoteStore)
    assert store.url == "gs://bucket/prefix"
    assert store.key("sha256:" + "ab" * 32) == "prefix/sha256/ab/" + "ab" * 31


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [("s3://b/p", "s3fs", "s3"), ("gs://b/p", "gcsfs", "gcs"), ("az://c/p", "adlfs", "azure")],
)
def test_a_missing_extra_is_named(url: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the package were not installed
    monkeypatch.setitem(sys.modules, module, None)
    scheme = url.partition(":")[0]
    monkeypatch.delitem(sys.modules, REMOTE_SCHEMES[scheme].driver, raising=False)
    with pytest.raises(GitregError) as info:
        open_store(url)
    assert str(info.value) == (
        f"storage URL {url!r} needs the {extra} extra, which is not installed "
        f"(pip install 'gitreg-registry[{extra}]')"
    )


def test_opening_a_store_makes_no_request() -> None:
    store = open_store("s3://bucket/prefix", {"endpoint_url": "http://127.0.0.1:1"})
    assert isinstance(store, RemoteStore)
    assert store._driver is None


def test_a_bucket_that_does_not_exist(remote: Backend, tmp_path: Path) -> None:
    assert remote.server is not None
    url = remote.url.replace(servers.BUCKET, "no-such-bucket")
    store = open_store(url, remote.options)
    src = write_bytes(tmp_path / "model.bin", 100)
    word = "container" if remote.name == "azure" else "bucket"
    with pytest.raises(StorageError) as info:
        store.put_file(src)
    missing = f"the {word} 'no-such-bucket' does not exist (create it, or fix storage.url)"
    assert str(info.value) == f"cannot upload {src} to {url}: {missing}"
    with pytest.raises(StorageError) as info:
        list(store.digests())
    assert str(info.value) == f"cannot list the blob store at {url}: {missing}"
    assert isinstance(store, RemoteStore)
    assert store.cache.path.exists() is False


def test_a_server_that_does_not_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gitreg.storage.remote.retry.BACKOFF", 0.01)
    for key, value in servers.s3_env().items():
        monkeypatch.setenv(key, value)
    port = servers.free_port()  # nobody listens there
    store = open_store("s3://bucket/p", {"endpoint_url": f"http://127.0.0.1:{port}"})
    digest = "sha256:" + "0" * 64
    with pytest.raises(StorageError) as info:
        store.size(digest)
    assert str(info.value).startswith(f"cannot check blob {digest} in s3://bucket/p: ")
    assert "127.0.0.1" in str(info.value)
