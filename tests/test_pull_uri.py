"""``gitreg pull URI DEST``: a self-contained URI names the registry's repository and the reference; the pull
reads one commit blob-less and only the files the reference needs, then downloads and verifies the artifact.
Bad URIs, unreachable or hostile repositories: one line, a non-zero exit, nothing at DEST, the registry and
the store as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitreg import uri as uris
from gitreg.credentials import redact
from gitreg.errors import NotFoundError, UsageError
from gitreg.gitlite import LiteRepo
from gitreg.snapshot import CommitSnapshot
from gitreg.storage import LocalStore
from gitreg.storage.artifact import TreeEntry, tree_listing
from testing import Unchanged, assert_error, commit_all, git, run, sha256, sha256_file
from testing.published import files_of, populate, publish, uri
from testing.servers import silent_port


@pytest.fixture
def published(registry: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """The populated registry published as a bare repository; its artifacts by ref."""
    artifacts = populate(registry, tmp_path)
    return publish(registry, tmp_path / "registry.git"), artifacts


def ok(*args: str | Path) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# --- the URI's forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "repo", "branch", "ref"),
    [
        (
            "gitreg+https://git.example.com/ml/registry.git#fraud@production",
            "https://git.example.com/ml/registry.git",
            "main",
            "fraud@production",
        ),
        (
            "gitreg+ssh://git@git.example.com:2222/ml/registry.git@release/2026#fraud@3",
            "ssh://git@git.example.com:2222/ml/registry.git",
            "release/2026",
            "fraud@3",
        ),
        ("gitreg+file:///srv/git/registry.git#fraud", "file:///srv/git/registry.git", "main", "fraud"),
        (
            "gitreg+file:///srv/registry.git#fraud%40latest",
            "file:///srv/registry.git",
            "main",
            "fraud@latest",
        ),
        (
            "GITREG+HTTP://localhost:8080/r.git@dev#a.b-c@staging",
            "http://localhost:8080/r.git",
            "dev",
            "a.b-c@staging",
        ),
    ],
)
def test_uri_forms(text: str, repo: str, branch: str, ref: str) -> None:
    parsed = uris.RegistryURI.parse(text)
    assert (parsed.repo, parsed.branch, str(parsed.ref)) == (repo, branch, ref)
    assert uris.RegistryURI.parse(str(parsed)) == parsed


SCHEMES_HINT = "use gitreg+https://, gitreg+ssh://, gitreg+http://, gitreg+file://"
FORM = "write gitreg+https://HOST/PATH/registry.git[@BRANCH]#MODEL@STAGE (or gitreg+ssh://, gitreg+file://)"
NO_MODEL = "names no model (end it with #MODEL@STAGE or #MODEL@VERSION)"
NOT_MODEL = f"which is not a model name ({FORM})"
NOT_SELECTOR = f"which is not a version, a stage or latest ({FORM})"
NOT_BRANCH = f"which is not a branch name ({FORM})"
BAD_SEGMENT = f"has a path segment that is '.', '..' or starts with '-' ({FORM})"
OPTION = "names a user or host starting with '-', which git would read as an option"
REFUSED_USERINFO = (
    "carries a password, and credentials do not belong in a URI "
    "(give git its credentials through a credential helper, GIT_ASKPASS or an ssh key)"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("s3://bucket/model#fraud", f"has an unknown scheme 's3' ({SCHEMES_HINT})"),
        ("git+https://h/r.git#fraud", f"has an unknown scheme 'git+https' ({SCHEMES_HINT})"),
        ("gitreg+ftp://h/r.git#fraud", f"has an unknown scheme 'gitreg+ftp' ({SCHEMES_HINT})"),
        ("gitreg+ext::sh -c touch% /tmp/pwned#fraud", None),
        ("gitreg+https://h/r.git", NO_MODEL),
        ("gitreg+https://h/r.git#", NO_MODEL),
        ("gitreg+https://h/r.git?ref=main#fraud", f"has a query, which registry URIs do not take ({FORM})"),
        ("gitreg+https://h/r.git#../../etc@passwd", f"names '../../etc', {NOT_MODEL}"),
        ("gitreg+https://h/r.git#fraud@../../x", f"names '../../x', {NOT_SELECTOR}"),
        ("gitreg+https://h/r.git#fraud%2F..%2F..", f"names 'fraud/../..', {NOT_MODEL}"),
        ("gitreg+https://h/r.git#fraud@1@2", f"names '1@2', {NOT_SELECTOR}"),
        ("gitreg+https://h/r.git#fraud@01", f"names '01', {NOT_SELECTOR}"),
        (
            "gitreg+file://--upload-pack=touch%20/tmp/pwned/r.git#fraud",
            f"names a host, which gitreg+file:// URIs cannot ({FORM})",
        ),
        ("gitreg+file:///--upload-pack=touch#fraud", BAD_SEGMENT),
        ("gitreg+ssh://-oProxyCommand=touch%20/tmp/pwned/r.git#fraud", OPTION),
        ("gitreg+ssh://-oProxyCommand=x@h/r.git#fraud", OPTION),  # shown redacted: see below
        ("gitreg+https://h/a/../r.git#fraud", BAD_SEGMENT),
        ("gitreg+https://h/r.git@-x#fraud", f"names the branch '-x', {NOT_BRANCH}"),
        ("gitreg+https://h/r.git@a..b#fraud", f"names the branch 'a..b', {NOT_BRANCH}"),
        ("gitreg+https://h/r.git@x.lock#fraud", f"names the branch 'x.lock', {NOT_BRANCH}"),
        ("gitreg+https://h/r.git@#fraud", f"names the branch '', {NOT_BRANCH}"),
        ("gitreg+https:///r.git#fraud", f"names no host ({FORM})"),
        ("gitreg+https://h#fraud", f"names no repository ({FORM})"),
        ("gitreg+https://h:port/r.git#fraud", None),
        ("gitreg+https://h/r.git#fraud\n--force", None),
        ("gitreg+https://user:s3cret@h/r.git#fraud", REFUSED_USERINFO),
    ],
)
def test_bad_uris(tmp_path: Path, text: str, problem: str | None) -> None:
    """Each refused before git starts: exit 2, one line, nothing at DEST (nor anywhere an injected option
    could have written)."""
    with pytest.raises(UsageError):
        uris.RegistryURI.parse(text)
    dest = tmp_path / "dest"
    result = run("pull", text, dest)
    if problem is None:
        assert result.exit_code == 2, result.stderr
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
    else:
        shown = redact(text)  # the CLI never shows a URL's user-info
        assert_error(result, 2, f"{shown!r} {problem}")
    assert not dest.exists()
    assert not Path("/tmp/pwned").exists()  # noqa: S108 - where the injected commands would write


def test_a_password_is_never_shown(tmp_path: Path) -> None:
    result = run("pull", "gitreg+https://user:s3cret@h/r.git#fraud", tmp_path / "d")
    assert "s3cret" not in result.stderr
    with pytest.raises(UsageError) as info:
        uris.RegistryURI.parse("gitreg+https://user:s3cret@h/r.git#fraud")
    assert "s3cret" not in str(info.value)


def test_every_scheme_reads_as_a_uri() -> None:
    """A reference never holds ``://``, so nothing that was a reference becomes a URI."""
    for scheme in uris.SCHEMES:
        assert uris.is_uri(f"{scheme}://h/r.git#m")
    assert not uris.is_uri("fraud@production")
    assert not uris.is_uri("models:/fraud@production")


# --- pulling by URI -------------------------------------------------------------------------------------


def test_pull_a_file_by_stage(published: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    bare, arts = published
    dest = tmp_path / "mnt" / "models"
    assert ok("pull", uri(bare, "fraud@production"), dest) == f"{dest / 'model.bin'}\n"
    assert [p.name for p in dest.iterdir()] == ["model.bin"]
    assert (dest / "model.bin").read_bytes() == arts["fraud@1"].read_bytes()


def test_pull_a_folder_by_version_into_a_mount_point(
    published: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    """KServe's /mnt/models exists, empty (a volume's mount point): the folder artifact's files go in it."""
    bare, arts = published
    dest = tmp_path / "models"
    dest.mkdir()
    assert ok("pull", uri(bare, "fraud@2"), dest) == f"{dest}\n"
    assert files_of(dest) == files_of(arts["fraud@2"])
    assert files_of(dest)["serve.sh"][1] is True


def test_pull_latest_and_a_model_alone(published: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    bare, arts = published
    assert ok("pull", uri(bare, "fraud@latest"), tmp_path / "a") == f"{tmp_path / 'a'}\n"
    assert files_of(tmp_path / "a") == files_of(arts["fraud@2"])
    ok("pull", uri(bare, "churn"), tmp_path / "b")
    assert (tmp_path / "b" / "churn.pkl").read_bytes() == arts["churn@1"].read_bytes()


def test_pull_json_and_the_dash_o_form(published: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    bare, arts = published
    dest = tmp_path / "m.bin"
    out = json.loads(ok("pull", uri(bare, "fraud@production"), "-o", dest, "--json"))
    assert out == {"ref": "fraud@1", "path": str(dest), "digest": sha256_file(arts["fraud@1"]), "size": 5000}
    assert dest.read_bytes() == arts["fraud@1"].read_bytes()


def test_pull_from_another_branch(
    registry: Path, published: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    bare, arts = published
    git(registry, "switch", "--quiet", "-c", "release/1")
    (registry / "stages" / "production.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Promote fraud@2 on the release branch")
    git(registry, "push", "--quiet", str(bare), "release/1")
    ok("pull", uri(bare, "fraud@production", branch="release/1"), tmp_path / "rel")
    assert files_of(tmp_path / "rel") == files_of(arts["fraud@2"])
    ok("pull", uri(bare, "fraud@production"), tmp_path / "main")
    assert (tmp_path / "main" / "model.bin").read_bytes() == arts["fraud@1"].read_bytes()


def test_python_pull_by_uri(published: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    bare, arts = published
    path = uris.pull(uri(bare, "fraud@production"), tmp_path / "f.bin")
    assert path == tmp_path / "f.bin"
    assert path.read_bytes() == arts["fraud@1"].read_bytes()


def test_reads_one_commit_and_only_the_files_it_needs(
    published: tuple[Path, dict[str, Path]], registry: Path
) -> None:
    """The throwaway repository holds the tip commit, its trees, and exactly the blobs of registry.yaml,
    model.yaml, the stage file and the version's manifest: not the big file, not other models', not the
    other stage, not the other versions."""
    bare, _ = published
    wanted = [
        "registry.yaml",
        "models/fraud/model.yaml",
        "stages/staging.yaml",
        "models/fraud/versions/2.yaml",
    ]
    expected = {git(registry, "rev-parse", f"HEAD:{p}").strip() for p in wanted}
    with uris.opened(uri(bare, "fraud@staging")) as found:
        assert found.version.ref == "fraud@2"
        snapshot = found.registry.snapshot
        assert isinstance(snapshot, CommitSnapshot)
        assert isinstance(snapshot.repo, LiteRepo)
        git_dir = snapshot.repo.git_dir
        listed = git(git_dir, "cat-file", "--batch-all-objects", "--batch-check")
        kinds: dict[str, set[str]] = {}
        for line in listed.splitlines():
            sha, kind, _ = line.split()
            kinds.setdefault(kind, set()).add(sha)
        assert kinds["blob"] == expected
        assert len(kinds["commit"]) == 1
        assert (git_dir / "shallow").read_text().split() == [snapshot.commit]
        # a read of a file not fetched finds nothing: it does not fetch it behind the deadline's back
        assert snapshot.repo.read_path(snapshot.commit, "docs/big.bin") is None
        assert git(git_dir, "cat-file", "--batch-all-objects", "--batch-check") == listed
    assert not git_dir.exists()  # removed on leaving


def test_a_server_that_cannot_filter(published: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    """It sends every blob of the commit: slower, and the same result."""
    bare, arts = published
    git(bare, "config", "uploadpack.allowFilter", "false")
    ok("pull", uri(bare, "fraud@staging"), tmp_path / "d")
    assert files_of(tmp_path / "d") == files_of(arts["fraud@2"])


# --- what the registry says -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("nope@production", "model 'nope' is not in the registry (known: churn, fraud)"),
        ("frau@production", "model 'frau' is not in the registry (did you mean 'fraud'?)"),
        ("churn@production", "churn has no version in stage 'production'"),
        ("fraud@qa", "stage 'qa' is not declared in registry.yaml (known: staging, production)"),
        ("fraud@7", "fraud has no version 7 (it has versions 1..2)"),
    ],
)
def test_unknown_model_stage_or_version(
    published: tuple[Path, dict[str, Path]], tmp_path: Path, blobs: Path, fragment: str, message: str
) -> None:
    bare, _ = published
    unchanged = Unchanged(bare, blobs)
    assert_error(run("pull", uri(bare, fragment), tmp_path / "dest"), 3, message)
    assert not (tmp_path / "dest").exists()
    unchanged.check()
    with pytest.raises(NotFoundError):
        uris.pull(uri(bare, fragment), tmp_path / "dest")


def test_unknown_branch_and_not_a_registry(published: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    bare, _ = published
    result = run("pull", uri(bare, "fraud", branch="nope"), tmp_path / "d")
    assert_error(
        result, 3, "git fetch of branch 'nope' failed: fatal: couldn't find remote ref refs/heads/nope"
    )
    plain = tmp_path / "plain"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(plain))
    (plain / "README").write_text("hi\n")
    commit_all(plain, "Not a registry")
    bare_plain = publish(plain, tmp_path / "plain.git")
    assert_error(
        run("pull", uri(bare_plain, "fraud"), tmp_path / "d"),
        3,
        f"file://{bare_plain} is not a gitreg registry (no registry.yaml on branch main) "
        "(check the repository and branch the URI names)",
    )
    assert not (tmp_path / "d").exists()


def test_unreachable_repository(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.git"
    result = run("pull", uri(missing, "fraud@production"), tmp_path / "d")
    assert_error(
        result,
        3,
        f"git fetch of branch 'main' failed: fatal: '{missing}' does not appear to be a git repository",
    )
    assert not (tmp_path / "d").exists()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a registry host that hangs."""
    with silent_port() as port:
        yield port


def test_a_hanging_registry_host_fails_after_the_timeout(silent_server: int, tmp_path: Path) -> None:
    """git is ended when GITREG_GIT_TIMEOUT passes: the pull fails instead of hanging (the subprocess's
    own timeout turns a regression into a failure, not a hung suite)."""
    done = subprocess.run(
        [sys.executable, "-m", "gitreg", "pull", f"gitreg+http://127.0.0.1:{silent_server}/r.git#fraud", "d"],
        cwd=tmp_path,
        env={**os.environ, "GITREG_GIT_TIMEOUT": "2"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert done.stderr == (
        "error: git fetch of branch 'main' failed: no answer in 2 seconds "
        "(check that the repository is reachable, or raise GITREG_GIT_TIMEOUT)\n"
    )
    assert not (tmp_path / "d").exists()


# --- the store ------------------------------------------------------------------------------------------


def test_missing_blob(published: tuple[Path, dict[str, Path]], tmp_path: Path, blobs: Path) -> None:
    bare, arts = published
    digest = sha256_file(arts["fraud@1"])
    LocalStore(blobs).path(digest).unlink()
    unchanged = Unchanged(bare, blobs)
    result = run("pull", uri(bare, "fraud@1"), tmp_path / "d")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: blob {digest} ") and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "d").exists()
    unchanged.check()


def test_tampered_blob(published: tuple[Path, dict[str, Path]], tmp_path: Path, blobs: Path) -> None:
    bare, arts = published
    digest = sha256_file(arts["fraud@2"] / "weights.bin")
    stored = LocalStore(blobs).path(digest)
    stored.chmod(0o644)
    stored.write_bytes(b"evil" + stored.read_bytes()[4:])
    unchanged = Unchanged(bare, blobs)
    dest = tmp_path / "models"
    dest.mkdir()
    result = run("pull", uri(bare, "fraud@2"), dest)
    assert_error(
        result,
        3,
        f"blob {digest} is corrupt: its content hashes to {sha256_file(stored)} (the store copy was altered; "
        "run `gitreg verify` and re-register the artifact from its source)",
    )
    assert list(dest.iterdir()) == []  # nothing half-written, not even the temporary folder
    unchanged.check()


def test_storage_url_from_the_environment(
    published: tuple[Path, dict[str, Path]], tmp_path: Path, blobs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GITREG_STORAGE_URL names the init container's own mirror of the store."""
    bare, arts = published
    mirror = tmp_path / "mirror"
    blobs.rename(mirror)
    monkeypatch.setenv("GITREG_STORAGE_URL", mirror.as_uri())
    ok("pull", uri(bare, "fraud@1"), tmp_path / "d")
    assert (tmp_path / "d" / "model.bin").read_bytes() == arts["fraud@1"].read_bytes()


# --- a hostile repository -------------------------------------------------------------------------------


def _craft_version(registry: Path, number: int, artifact: dict[str, object]) -> None:
    """Rewrite version ``number``'s artifact block by hand, as a hostile committer would."""
    path = registry / "models" / "fraud" / "versions" / f"{number}.yaml"
    lines = path.read_text().splitlines()
    start = lines.index("artifact:")
    end = start + 1
    while lines[end].startswith("  "):
        end += 1
    block = ["artifact:"] + [f"  {k}: {json.dumps(v)}" for k, v in artifact.items()]
    path.write_text("\n".join(lines[:start] + block + lines[end:]) + "\n")


@pytest.mark.parametrize("name", ["../../escape.bin", "/tmp/escape.bin", "..", "a/b.bin"])  # noqa: S108
def test_an_artifact_name_that_escapes(
    registry: Path, published: tuple[Path, dict[str, Path]], tmp_path: Path, name: str
) -> None:
    """A manifest committed by hand (no validator ran) whose artifact name would land outside DEST."""
    bare, arts = published
    digest = sha256_file(arts["fraud@1"])
    _craft_version(registry, 1, {"digest": digest, "size": 5000, "type": "file", "name": name})
    commit_all(registry, "Hostile name")
    publish(registry, bare)
    dest = tmp_path / "deep" / "er" / "dest"
    for option in ([], ["-o"]):
        result = run("pull", uri(bare, "fraud@1"), *option, dest)
        assert result.exit_code == 3, result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "deep").exists()
    assert not (tmp_path / "escape.bin").exists() and not Path("/tmp/escape.bin").exists()  # noqa: S108


def test_a_tree_listing_that_escapes(
    registry: Path, published: tuple[Path, dict[str, Path]], tmp_path: Path, blobs: Path
) -> None:
    """A tree artifact whose stored listing (its digest genuine) names paths outside the folder."""
    bare, _ = published
    store = LocalStore(blobs)
    inner = store.put_bytes(b"pwned\n")
    listing = tree_listing([TreeEntry("../../escaped.txt", inner.size, inner.digest, False)])
    stored = store.put_bytes(listing)
    assert stored.digest == sha256(listing)
    _craft_version(
        registry, 1, {"digest": stored.digest, "size": inner.size, "type": "tree", "name": "model"}
    )
    commit_all(registry, "Hostile listing")
    publish(registry, bare)
    dest = tmp_path / "a" / "b" / "models"
    dest.mkdir(parents=True)
    result = run("pull", uri(bare, "fraud@1"), dest)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: blob {stored.digest} is not a valid tree listing: ")
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "a" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
