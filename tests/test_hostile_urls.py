"""URLs that carry credentials (issue #9): gitreg never prints their user-info or secret query parameters
(errors end up in CI logs), refuses them in registry.yaml as a validator finding, and takes them from
GITREG_STORAGE_URL, where CI puts secrets, without ever showing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitreg.credentials import redact, redact_url, url_secrets
from gitreg.snapshot import MemorySnapshot
from gitreg.validate import View, validate
from testing import git, run, tree_state, write_bytes

SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"  # noqa: S105 - made up, for the tests to look for
TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"  # noqa: S105 - made up too

REGISTRY = """\
apiVersion: gitreg/v1
kind: Registry
storage:
  url: {url}
stages:
  - name: staging
"""


# --- the redaction ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"s3://AKIAIOSFODNN7EXAMPLE:{SECRET}@bucket/models", "s3://***@bucket/models"),
        (f"https://x-access-token:{TOKEN}@github.com/o/r.git", "https://***@github.com/o/r.git"),
        (f"https://{TOKEN}@github.com/o/r.git", "https://***@github.com/o/r.git"),
        (f"az://container/p?sv=2022-11-02&sig={SECRET}", "az://container/p?sv=2022-11-02&sig=***"),
        (f"https://h/x?X-Amz-Signature={SECRET}&a=1", "https://h/x?X-Amz-Signature=***&a=1"),
        (f"https://h/x?token={TOKEN}", "https://h/x?token=***"),
        ("https://user:p%40ss@h:8443/x", "https://***@h:8443/x"),
        ("https://[::1/x", "https://***"),  # not a URL Python can read: shown without its body
        # Nothing to redact: kept as they are.
        ("s3://bucket/models", "s3://bucket/models"),
        (
            "abfs://container@account.dfs.core.windows.net/p",
            "abfs://container@account.dfs.core.windows.net/p",
        ),
        ("/srv/blobs", "/srv/blobs"),
        ("https://h/x?signature_version=s3v4", "https://h/x?signature_version=s3v4"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact(f"cannot read blob from {url}: gone") == f"cannot read blob from {shown}: gone"
    assert redact(f"storage URL {url!r} names no bucket") == f"storage URL {shown!r} names no bucket"


def test_redact_runs_in_linear_time_on_any_text() -> None:
    # A mebibyte of what its URL pattern would rescan from every letter if it were unanchored (it would
    # take minutes); the subprocess-free check is that it returns, the suite's timeout being the bound.
    for text in ("a" * 1024 * 1024, "a:" * 512 * 1024, "a://" + "b" * 1024 * 1024):
        assert redact(text) == text


# --- registry.yaml: refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "what"),
    [
        (f"s3://AKIAIOSFODNN7EXAMPLE:{SECRET}@bucket/m", "a user name and password"),
        (f"gs://{TOKEN}@bucket/m", "a user name or token"),
        (f"az://container/m?sig={SECRET}", "the query parameter 'sig'"),
        (f"s3://bucket/m?X-Amz-Security-Token={SECRET}", "the query parameter 'X-Amz-Security-Token'"),
    ],
)
def test_credentials_in_the_registry_storage_url_are_a_finding(url: str, what: str) -> None:
    files = {"registry.yaml": REGISTRY.format(url=url).encode(), "models/.gitkeep": b""}
    findings = [str(f) for f in validate(View(MemorySnapshot(files))).findings if "storage.url" in f.message]
    assert findings == [
        f"registry.yaml:4:3: credential: storage.url carries {what}: give credentials through the backend's "
        "environment variables or profiles (or GITREG_STORAGE_URL), never in the repository"
    ]


def test_a_plain_or_azure_account_storage_url_is_no_finding() -> None:
    for url in ("s3://bucket/m", "abfs://container@account.dfs.core.windows.net/m", "file:///srv/b"):
        files = {"registry.yaml": REGISTRY.format(url=url).encode(), "models/.gitkeep": b""}
        assert validate(View(MemorySnapshot(files))).findings == [], url


def test_the_one_list_of_secret_names_covers_options_and_query_parameters() -> None:
    assert url_secrets("s3://b/p?key=x&access_key=y&region=eu") == [
        "the query parameter 'key'",
        "the query parameter 'access_key'",
    ]


def test_validate_exits_1_on_a_registry_url_with_credentials(registry: Path) -> None:
    config = registry / "registry.yaml"
    config.write_text(config.read_text().replace("url: 'file://", f"url: 'file://alice:{SECRET}@"))
    result = run("validate", cwd=registry)
    assert result.exit_code == 1, result.stderr
    assert "registry.yaml:13:3: credential: storage.url carries a user name and password" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_init_refuses_a_storage_url_with_credentials(tmp_path: Path) -> None:
    result = run("init", tmp_path / "new", "--storage", f"s3://AKIAIOSFODNN7EXAMPLE:{SECRET}@bucket/m")
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (
        "error: storage URL 's3://***@bucket/m' carries a user name and password, which registry.yaml "
        "would publish to everyone who can read the repository (give credentials through the backend's "
        "environment variables or profiles, or GITREG_STORAGE_URL)\n"
    )
    assert not (tmp_path / "new").exists()


# --- printed: never ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"file://alice:{SECRET}@/srv/b", "storage URL 'file://***@/srv/b' names a host"),
        (f"ftp://alice:{SECRET}@h/b", "storage URL 'ftp://***@h/b' has an unknown scheme 'ftp'"),
        (f"gs://alice:{SECRET}@bucket/b", "storage URL 'gs://***@bucket/b' carries credentials"),
        (f"az://alice:{SECRET}@container/b", "storage URL 'az://***@container/b' carries credentials"),
        (f"s3://AKIA:{SECRET}@/b", "storage URL 's3://***@/b' names no bucket"),
    ],
)
def test_errors_about_a_storage_url_never_show_its_credentials(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    art = write_bytes(tmp_path / "art.bin", 10)
    before = tree_state(registry)
    monkeypatch.setenv("GITREG_STORAGE_URL", url)
    result = run("register", "fraud", art, cwd=registry)
    assert result.exit_code == 2, result.stderr  # every one is a storage URL that cannot mean anything
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert tree_state(registry) == before


def test_show_and_diff_never_show_credentials_in_manifest_urls(registry: Path, tmp_path: Path) -> None:
    """A manifest that leaked a token into lineage (the validator flags it) is still shown without it."""
    art = write_bytes(tmp_path / "art.bin", 10)
    leaky = f"https://x-access-token:{TOKEN}@git.example.com/risk/train"
    for _ in range(2):
        result = run("register", "fraud", art, "--code-repo", leaky, cwd=registry)
        assert result.exit_code == 0, result.stderr
    version = registry / "models" / "fraud" / "versions" / "1.yaml"
    version.write_text(version.read_text().replace(leaky, "https://git.example.com/risk/train"))
    git(registry, "commit", "--quiet", "-am", "fix fraud@1")
    for argv in (["show", "fraud@2"], ["show", "fraud@2", "--json"], ["diff", "fraud@1", "fraud@2"]):
        result = run(*argv, cwd=registry)
        assert result.exit_code == 0, result.stderr
        assert TOKEN not in result.stdout, argv
        assert "https://***@git.example.com/risk/train" in result.stdout, argv
    shown = json.loads(run("show", "fraud@2", "--json", cwd=registry).stdout)
    assert shown["lineage"]["code"]["repo"] == "https://***@git.example.com/risk/train"


def test_a_controller_never_shows_the_token_in_its_repository_url(tmp_path: Path, registry: Path) -> None:
    """The controller's status (file and `controller status`) and its log name the repository without the
    token a CI system put in its URL (git takes file://USER:TOKEN@/path as it would an https one)."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(registry), str(bare))
    target = tmp_path / "target"
    for repo in (
        f"file://x-access-token:{TOKEN}@{bare}",
        f"file://x-access-token:{TOKEN}@{tmp_path}/none.git",
    ):
        result = run("controller", "--repo", repo, "--stage", "staging", "--target", target, "--once")
        assert TOKEN not in result.stdout + result.stderr
    status = (target / ".gitreg" / "status.json").read_text()
    assert TOKEN not in status
    assert json.loads(status)["spec"]["repo"] == f"file://***@{bare}"
    shown = run("controller", "status", "--target", target)
    assert shown.exit_code == 0, shown.stderr
    assert f"file://***@{bare}" in shown.stdout
    assert TOKEN not in shown.stdout + shown.stderr
