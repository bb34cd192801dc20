"""Storage URLs users already write: Hadoop's ``s3a://``, Azure's ``abfs://``/``abfss://`` and relative
``file:`` forms work or get one line saying which form to use; and a cloud client that finds no credentials
fails fast with one line (a real local S3 server, credentials removed from the environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing import assert_error, run, servers


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "s3a://bucket/models",
            "storage URL 's3a://bucket/models' uses Hadoop's s3a:// scheme (write s3://bucket/models)",
        ),
        (
            "s3n://bucket/models",
            "storage URL 's3n://bucket/models' uses Hadoop's s3n:// scheme (write s3://bucket/models)",
        ),
        (
            "file:blobs",
            "storage URL 'file:blobs' names no folder (file URLs look like file:///absolute/path)",
        ),
        (
            "file://blobs/x",
            "storage URL 'file://blobs/x' names a host (file URLs look like file:///absolute/path)",
        ),
    ],
)
def test_url_forms_get_one_line_saying_which_form_to_use(tmp_path: Path, url: str, message: str) -> None:
    assert_error(run("init", tmp_path / "reg", "--storage", url), 2, message)
    assert not (tmp_path / "reg").exists()


@pytest.mark.parametrize("scheme", ["abfs", "abfss", "az"])
def test_azure_url_forms_are_accepted(tmp_path: Path, scheme: str) -> None:
    result = run("init", tmp_path / "reg", "--storage", f"{scheme}://container/models")
    assert result.exit_code == 0, result.stderr


def test_no_credentials_fails_fast_with_one_line(tmp_path: Path, s3_server: servers.Server) -> None:
    reg = tmp_path / "reg"
    options = json.dumps(s3_server.options)
    assert run("init", reg, "--storage", s3_server.url("models")).exit_code == 0
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"x" * 10)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "GITREG_STORAGE_OPTIONS": options,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gitreg", "-C", str(reg), "register", "fraud", str(artifact)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "credentials" in done.stderr.lower()
