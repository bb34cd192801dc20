"""What ``gitreg audit`` and ``gitreg history`` print never shows a URL's credentials, by either path (the
entry point's and click's): a commit's author name or message may hold one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testing import git
from testing.synthetic import make_registry, model_names, registry_files, stage_manifest

MODELS = model_names(2, width=1)
SECRETS = ("hunter2", "s3cret")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """A direct push (flagged in the audit) by an author whose name, and whose message, hold passwords."""
    root = tmp_path / "registry"
    make_registry(root, tmp_path / "blobs", registry_files(MODELS, 1))
    (root / "stages" / "staging.yaml").write_text(stage_manifest(dict.fromkeys(MODELS, 1)))
    git(root, "add", "--all")
    git(
        root,
        "-c",
        "user.name=Eve https://eve:hunter2@evil.example",
        "-c",
        "user.email=eve@example.com",
        "commit",
        "--quiet",
        "-m",
        "promote, see https://bob:s3cret@git.example/ml/x",
    )
    return root


@pytest.mark.parametrize(
    "args",
    [
        ("audit",),
        ("audit", "--format", "json"),
        ("history", MODELS[0]),
        ("history", MODELS[0], "--json"),
        ("audit", "--format=md"),  # click's path
        ("history", MODELS[0], "--stage=staging"),  # click's path
    ],
)
def test_no_credential_is_printed(registry: Path, args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gitreg", "-C", str(registry), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "***" in done.stdout  # the names and the message were there, redacted
    assert not [secret for secret in SECRETS if secret in done.stdout + done.stderr]
