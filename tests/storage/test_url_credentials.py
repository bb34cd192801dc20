"""An S3 key and secret in GITREG_STORAGE_URL (where CI puts secrets) are used, and never shown: not in
errors, not in the store's URL (issue #9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing import run, servers, write_bytes

SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"  # noqa: S105 - made up, for the tests to look for


@pytest.fixture
def s3_registry(
    registry: Path, s3_server: servers.Server, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, servers.Server]:
    """The registry, with the S3 server's endpoint in GITREG_STORAGE_OPTIONS and no AWS_* variables: the
    only credentials are the ones in the URL."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(registry.parent / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(registry.parent / "no-aws-credentials"))
    monkeypatch.setenv("GITREG_STORAGE_OPTIONS", json.dumps(s3_server.options))
    return registry, s3_server


def test_s3_credentials_in_the_environment_url_are_used(
    s3_registry: tuple[Path, servers.Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, _server = s3_registry
    monkeypatch.setenv("GITREG_STORAGE_URL", f"s3://AKIAIOSFODNN7EXAMPLE:{SECRET}@{servers.BUCKET}/creds")
    result = run("register", "fraud", write_bytes(tmp_path / "m.bin", 100), cwd=registry)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    pulled = run("pull", "fraud@1", "-o", tmp_path / "out.bin", cwd=registry)
    assert pulled.exit_code == 0, pulled.stderr
    assert (tmp_path / "out.bin").read_bytes() == (tmp_path / "m.bin").read_bytes()


def test_an_error_about_that_url_never_shows_the_secret(
    s3_registry: tuple[Path, servers.Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, _server = s3_registry
    monkeypatch.setenv("GITREG_STORAGE_URL", f"s3://AKIAIOSFODNN7EXAMPLE:{SECRET}@no-such-bucket/creds")
    result = run("register", "fraud", write_bytes(tmp_path / "m.bin", 100), cwd=registry)
    assert result.exit_code == 3, result.stderr
    assert "s3://***@no-such-bucket/creds" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert "AKIAIOSFODNN7EXAMPLE" not in result.stderr + result.stdout
