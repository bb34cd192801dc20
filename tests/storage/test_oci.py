"""OCI registries (issue 16) against a real registry (Debian's docker-registry), checked with an independent
client (skopeo): gitreg's blobs and manifests as the registry stores them, ``export oci`` in both formats,
``pull oci://``, credentials and the bearer handshake, and faults (a refused chunk, a 401, a tampered blob
served by a proxy, a tag that does not exist, hostile file paths in an artifact)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitreg.errors import StorageError, UsageError
from gitreg.storage import open_store
from gitreg.storage.oci.client import MANIFEST, Client
from gitreg.storage.oci.push import push_bytes
from testing import assert_error, run, sha256, write_bytes
from testing.oci_registry import Proxy, Registry, skopeo, start_registry

pytestmark = pytest.mark.remote
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def plain_http(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITREG_OCI_INSECURE", "1")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("GITREG_OCI_USERNAME", raising=False)
    monkeypatch.delenv("GITREG_OCI_PASSWORD", raising=False)


@pytest.fixture
def repo() -> str:
    """A repository of its own for each test."""
    return f"t/r-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def proxy(oci_server: Registry) -> Iterator[Proxy]:
    started = Proxy(oci_server.host).start()
    yield started
    started.stop()


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def registered(registry: Path, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fraud@1: a folder of three files (one executable, one in a subfolder) in the store at ``url``."""
    monkeypatch.setenv("GITREG_STORAGE_URL", url)
    folder = tmp_path / "bundle"
    write_bytes(folder / "model.onnx", 3 * MIB + 5, 1)
    (folder / "README.md").write_text("fraud model\n")
    write_bytes(folder / "bin" / "serve.sh", 100, 2).chmod(0o755)
    assert (
        ok("register", "fraud", folder, "--format", "onnx", "--description", "Card fraud", cwd=registry)
        == "fraud@1\n"
    )
    return folder


def inspect(reference: str) -> dict[str, object]:
    raw: dict[str, object] = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", reference).stdout)
    return raw


# --- the store --------------------------------------------------------------------------------------------


def test_blobs_registered_are_read_back_by_skopeo_with_the_same_digests(
    oci_server: Registry, registry: Path, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = registered(registry, tmp_path, oci_server.url(repo), monkeypatch)
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{oci_server.host}/{repo}").stdout)
    [version_tag] = [t for t in tags["Tags"] if t.startswith("fraud-v1-")]
    manifest = inspect(f"docker://{oci_server.host}/{repo}:{version_tag}")
    assert manifest["artifactType"] == "application/vnd.gitreg.blobs.v1+json"
    layers = {layer["digest"]: layer["size"] for layer in manifest["layers"]}  # type: ignore[attr-defined]
    files = {sha256(p.read_bytes()): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    assert set(files.items()) <= set(layers.items())
    assert len(layers) == len(files) + 1  # and the tree listing
    copied = tmp_path / "copied"
    skopeo(
        "copy", "--src-tls-verify=false", f"docker://{oci_server.host}/{repo}:{version_tag}", f"dir:{copied}"
    )
    for digest in files:  # skopeo's dir: layout names each blob by its hex digest
        assert sha256((copied / digest.removeprefix("sha256:")).read_bytes()) == digest


def test_a_refused_chunk_fails_the_upload_in_one_line_and_stores_nothing(
    oci_server: Registry, proxy: Proxy, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gitreg.storage.remote.retry.BACKOFF", 0.01)
    src = write_bytes(tmp_path / "model.bin", 12 * MIB, 3)
    proxy.refuse_chunk = 2
    store = open_store(proxy.url(repo))
    store.part_size = 5 * MIB  # type: ignore[attr-defined]
    with pytest.raises(StorageError) as info:
        store.put_file(src)
    assert str(info.value).startswith(
        f"cannot upload {src} to {proxy.url(repo)}: PATCH {proxy.host}/v2/{repo}/"
    )
    assert str(info.value).endswith(": HTTP 500 (UNKNOWN: chunk refused)")
    assert open_store(oci_server.url(repo)).size(sha256(src.read_bytes())) is None
    assert oci_server.layer_links(repo) == {}


def test_a_blob_still_being_linked_by_a_concurrent_upload_is_asked_again(
    oci_server: Registry, proxy: Proxy, tmp_path: Path, repo: str
) -> None:
    """distribution answers MANIFEST_BLOB_UNKNOWN for a blob another client's upload of the same bytes is
    linking at that moment (seen in the shared suite's concurrent-stores test under load): a short wait and
    a second PUT see it. A blob that stays unknown is still an error, in one line."""
    src = write_bytes(tmp_path / "model.bin", 1000, 4)
    proxy.blob_unknown = 2
    blob = open_store(proxy.url(repo)).put_file(src)
    assert proxy.manifest_puts == 3
    assert open_store(oci_server.url(repo)).size(blob.digest) == 1000

    proxy.blob_unknown, proxy.manifest_puts = 100, 0
    with pytest.raises(StorageError) as info:
        open_store(proxy.url(repo)).put_file(write_bytes(tmp_path / "other.bin", 1000, 5))
    assert "MANIFEST_BLOB_UNKNOWN: blob unknown to registry" in str(info.value)
    assert "\n" not in str(info.value)


def test_plain_http_is_refused_for_another_host() -> None:
    with pytest.raises(UsageError) as info:
        open_store("oci://registry.example.com/team/models", {"insecure": True})
    assert str(info.value) == (
        "plain HTTP is only allowed for a registry on this machine, not registry.example.com "
        "(drop --insecure (GITREG_OCI_INSECURE) and use the registry's HTTPS address)"
    )


def test_without_insecure_a_local_registry_is_spoken_to_over_https_only(
    oci_server: Registry, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITREG_OCI_INSECURE")
    with pytest.raises(StorageError) as info:
        open_store(oci_server.url(repo)).put_file(write_bytes(tmp_path / "model.bin", 100, 8))
    assert "SSL" in str(info.value)  # a TLS handshake with a plain-HTTP server: no fallback to HTTP
    assert oci_server.layer_links(repo) == {}


@pytest.mark.parametrize(
    "url",
    ["oci://127.0.0.1:5000", "oci://127.0.0.1:5000/Upper/case", "oci://user:s3cret@127.0.0.1:5000/x"],
)
def test_bad_storage_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError) as info:
        open_store(url)
    assert "s3cret" not in str(info.value)


def test_deleting_from_a_registry_without_deletes_says_how_to_enable_them(
    oci_server: Registry, tmp_path: Path
) -> None:
    registry = start_registry(tmp_path / "no-delete", delete=False)
    try:
        store = open_store(registry.url("team/blobs"))
        blob = store.put_file(write_bytes(tmp_path / "model.bin", 100, 7))
        with pytest.raises(StorageError) as info:
            store.delete(blob.digest)
        assert str(info.value) == (
            f"the registry {registry.host} does not allow deletes (enable them (distribution: "
            "storage.delete.enabled: true), or leave gc to the registry)"
        )
        assert store.size(blob.digest) == 100
    finally:
        registry.stop()


# --- credentials -------------------------------------------------------------------------------------------


def test_a_401_without_credentials_is_one_line_naming_where_to_log_in(
    proxy: Proxy, registry: Path, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.bearer, proxy.users = True, {"alice": "s3cret"}
    monkeypatch.setenv("GITREG_STORAGE_URL", proxy.url(repo))
    src = write_bytes(tmp_path / "model.bin", 100, 4)
    assert_error(
        run("register", "fraud", src, cwd=registry),
        3,
        f"the registry {proxy.host} refused "
        f"access to {repo} without credentials (HTTP 401) (log in with `docker login HOST`, or set "
        "GITREG_OCI_USERNAME and GITREG_OCI_PASSWORD)",
    )
    monkeypatch.setenv("GITREG_OCI_USERNAME", "alice")
    monkeypatch.setenv("GITREG_OCI_PASSWORD", "wrong")
    result = run("register", "fraud", src, cwd=registry)
    assert result.exit_code == 3
    assert "with the credentials from GITREG_OCI_USERNAME/GITREG_OCI_PASSWORD (HTTP 401)" in result.stderr


def test_the_bearer_handshake_with_credentials_from_the_environment(
    proxy: Proxy, registry: Path, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.bearer, proxy.users = True, {"alice": "s3cret"}
    monkeypatch.setenv("GITREG_OCI_USERNAME", "alice")
    monkeypatch.setenv("GITREG_OCI_PASSWORD", "s3cret")
    folder = registered(registry, tmp_path, proxy.url(repo), monkeypatch)
    assert proxy.tokens  # tokens were issued and used
    out = tmp_path / "out"
    ok("pull", "fraud@1", "-o", out, cwd=registry)
    assert (out / "model.onnx").read_bytes() == (folder / "model.onnx").read_bytes()


def test_basic_authentication(
    proxy: Proxy, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.basic, proxy.users = True, {"alice": "s3cret"}
    src = write_bytes(tmp_path / "model.bin", 100, 6)
    with pytest.raises(StorageError) as info:
        open_store(proxy.url(repo)).put_file(src)
    assert "refused access to" in str(info.value) and "without credentials (HTTP 401)" in str(info.value)
    monkeypatch.setenv("GITREG_OCI_USERNAME", "alice")
    monkeypatch.setenv("GITREG_OCI_PASSWORD", "s3cret")
    blob = open_store(proxy.url(repo)).put_file(src)
    with open_store(proxy.url(repo)).open(blob.digest) as stream:
        assert stream.read() == src.read_bytes()


def test_an_identity_token_is_exchanged_for_an_access_token(proxy: Proxy, tmp_path: Path, repo: str) -> None:
    proxy.bearer, proxy.refresh_tokens = True, {"refresh-me"}
    config = tmp_path / "docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"auths": {proxy.host: {"auth": "", "identitytoken": "refresh-me"}}}))
    src = write_bytes(tmp_path / "model.bin", 100, 11)
    assert open_store(proxy.url(repo)).put_file(src).size == 100
    assert proxy.tokens
    config.write_text(json.dumps({"auths": {proxy.host: {"identitytoken": "revoked"}}}))
    with pytest.raises(StorageError) as info:
        open_store(proxy.url(repo)).size(sha256(src.read_bytes()))
    assert f"with the credentials from {config} (HTTP 401)" in str(info.value)


def test_credentials_from_docker_config_auths_and_from_a_credential_helper(
    proxy: Proxy, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64  # noqa: PLC0415

    proxy.bearer, proxy.users = True, {"alice": "s3cret", "bob": "helper-pw"}
    config = tmp_path / "docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(b"alice:s3cret").decode()
    config.write_text(json.dumps({"auths": {proxy.host: {"auth": auth}}}))
    src = write_bytes(tmp_path / "model.bin", 100, 5)
    assert open_store(proxy.url(repo)).put_file(src).size == 100
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-gitregtest"
    helper.write_text(
        "#!/bin/sh\nread host\n"
        f'[ "$host" = "{proxy.host}" ] || exit 1\n'
        'echo \'{"ServerURL":"x","Username":"bob","Secret":"helper-pw"}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{helper_dir}{os.pathsep}{os.environ['PATH']}")
    config.write_text(json.dumps({"auths": {}, "credHelpers": {proxy.host: "gitregtest"}}))
    proxy.tokens.clear()
    assert open_store(proxy.url(repo)).size(sha256(src.read_bytes())) == 100
    assert proxy.tokens


# --- export and pull ---------------------------------------------------------------------------------------


def test_export_modelpack_is_read_back_by_skopeo_and_pulled(
    oci_server: Registry, registry: Path, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = registered(registry, tmp_path, oci_server.url(repo), monkeypatch)
    target = f"oci://{oci_server.host}/{repo}-export:v1"
    out = json.loads(ok("export", "oci", "fraud@1", target, "--json", cwd=registry))
    assert out["uploaded"] == 0  # every file mounted from the store's repository, none sent again
    manifest = inspect(f"docker://{oci_server.host}/{repo}-export:v1")
    assert manifest["artifactType"] == "application/vnd.cncf.model.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.model.config.v1+json"  # type: ignore[index]
    layers = {layer["annotations"]["org.cncf.model.filepath"]: layer for layer in manifest["layers"]}  # type: ignore[attr-defined]
    assert sorted(layers) == ["README.md", "bin/serve.sh", "model.onnx"]
    assert layers["model.onnx"]["mediaType"] == "application/vnd.cncf.model.weight.v1.raw"
    assert layers["README.md"]["mediaType"] == "application/vnd.cncf.model.doc.v1.raw"
    assert layers["model.onnx"]["digest"] == sha256((folder / "model.onnx").read_bytes())
    annotations = manifest["annotations"]
    assert annotations["org.opencontainers.image.version"] == "1"  # type: ignore[index]
    assert "artifact:" in annotations["dev.gitreg.manifest"]  # type: ignore[index]
    config = json.loads(
        skopeo(
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            f"docker://{oci_server.host}/{repo}-export:v1",
        ).stdout
    )
    assert config["descriptor"]["name"] == "fraud"
    assert config["descriptor"]["version"] == "1"
    assert config["config"]["format"] == "onnx"
    assert config["modelfs"]["diff_ids"] == [layers[p]["digest"] for p in sorted(layers)]
    again = json.loads(ok("export", "oci", "fraud@1", target, "--json", cwd=registry))
    assert again == out  # the same manifest, nothing sent

    for ref in (target, f"oci://{oci_server.host}/{repo}-export@{out['digest']}"):
        dest = tmp_path / f"pulled-{len(ref)}"
        assert ok("pull", ref, "-o", dest, cwd=registry) == f"{dest}\n"
        assert (dest / "model.onnx").read_bytes() == (folder / "model.onnx").read_bytes()
        assert (dest / "bin" / "serve.sh").stat().st_mode & stat.S_IXUSR


def test_export_modelcar_puts_the_files_under_models(
    oci_server: Registry, registry: Path, tmp_path: Path, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = registered(registry, tmp_path, oci_server.url(repo), monkeypatch)
    target = f"oci://{oci_server.host}/{repo}-car:v1"
    digest = ok("export", "oci", "fraud@1", target, "--format", "modelcar", cwd=registry).strip()
    copied = tmp_path / "image"
    skopeo("copy", "--src-tls-verify=false", f"docker://{oci_server.host}/{repo}-car:v1", f"dir:{copied}")
    assert sha256((copied / "manifest.json").read_bytes()) == digest
    manifest = json.loads((copied / "manifest.json").read_text())
    [layer] = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    with tarfile.open(copied / layer["digest"].removeprefix("sha256:")) as tar:
        names = tar.getnames()
        assert tar.extractfile("models/model.onnx").read() == (folder / "model.onnx").read_bytes()  # type: ignore[union-attr]
    assert names == ["models", "models/bin", "models/README.md", "models/bin/serve.sh", "models/model.onnx"]
    dest = tmp_path / "pulled"
    ok("pull", target, "-o", dest, cwd=registry)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "README.md",
        "bin/serve.sh",
        "model.onnx",
    ]


def test_a_tampered_blob_from_a_proxy_is_refused_and_nothing_is_left(
    oci_server: Registry,
    proxy: Proxy,
    registry: Path,
    tmp_path: Path,
    repo: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered(registry, tmp_path, oci_server.url(repo), monkeypatch)
    ok("export", "oci", "fraud@1", f"oci://{oci_server.host}/{repo}:v1", cwd=registry)
    proxy.flip = True
    dest = tmp_path / "pulled"
    result = run("pull", f"oci://{proxy.host}/{repo}:v1", "-o", dest, cwd=registry)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: blob sha256:") and result.stderr.count("\n") == 1
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pulled")] == []
    monkeypatch.setenv("GITREG_STORAGE_URL", proxy.url(repo))  # the store itself, read through the proxy
    result = run("pull", "fraud@1", "-o", tmp_path / "again", cwd=registry)
    assert result.exit_code == 3 and "blob sha256:" in result.stderr
    assert not (tmp_path / "again").exists()


def test_a_tag_that_does_not_exist(oci_server: Registry, registry: Path, tmp_path: Path, repo: str) -> None:
    ref = f"oci://{oci_server.host}/{repo}:nope"
    assert_error(
        run("pull", ref, "-o", tmp_path / "x", cwd=registry),
        3,
        f"{ref} does not exist (check the repository and tag (skopeo list-tags lists them))",
    )
    assert not (tmp_path / "x").exists()


def push_artifact(client: Client, files: dict[str, bytes]) -> None:
    """A ModelPack-looking manifest whose layers carry the given file-path annotations."""
    layers = []
    for path, data in files.items():
        layers.append(
            {
                "mediaType": "application/vnd.cncf.model.weight.v1.raw",
                "digest": push_bytes(client, data),
                "size": len(data),
                "annotations": {"org.cncf.model.filepath": path},
            }
        )
    config = push_bytes(client, b"{}")
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": "application/vnd.cncf.model.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.model.config.v1+json", "digest": config, "size": 2},
        "layers": layers,
    }
    client.put_manifest("hostile", json.dumps(manifest).encode())


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../escape.bin", "'..'"),
        ("/etc/escape.bin", "is an absolute path"),
        ("a/../../escape.bin", "'..'"),
        ("a\\..\\escape.bin", "\\"),
    ],
)
def test_hostile_file_paths_in_an_artifact_are_refused(
    oci_server: Registry, registry: Path, tmp_path: Path, repo: str, path: str, problem: str
) -> None:
    client = Client(oci_server.host, repo, insecure=True)
    push_artifact(client, {"ok.bin": b"fine", path: b"hostile"})
    dest = tmp_path / "work" / "dest"
    result = run("pull", f"oci://{oci_server.host}/{repo}:hostile", "-o", dest, cwd=registry)
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith(f"error: cannot pull oci://{oci_server.host}/{repo}:hostile: ")
    assert problem in result.stderr
    assert not (tmp_path / "work").exists() or list((tmp_path / "work").iterdir()) == []
    assert not (tmp_path / "escape.bin").exists()


def test_a_modelcar_layer_with_a_link_or_an_escape_is_refused(
    oci_server: Registry, registry: Path, tmp_path: Path, repo: str
) -> None:
    client = Client(oci_server.host, repo, insecure=True)
    for name, kind in (("models/../escape", tarfile.REGTYPE), ("models/link", tarfile.SYMTYPE)):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            tar.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
        data = buffer.getvalue()
        config = push_bytes(
            client, b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 79},
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": push_bytes(client, data),
                    "size": len(data),
                }
            ],
        }
        client.put_manifest("car", json.dumps(manifest).encode())
        dest = tmp_path / "dest"
        result = run("pull", f"oci://{oci_server.host}/{repo}:car", "-o", dest, cwd=registry)
        assert result.exit_code == 3, result.stderr
        assert "cannot pull" in result.stderr or "cannot write" in result.stderr
        assert not dest.exists()
        assert not (tmp_path / "escape").exists()


def push_base(client: Client) -> str:
    """A one-layer base image in Docker's media types (gzipped tar with a stand-in ``bin/sh``)."""
    import gzip  # noqa: PLC0415

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("bin/sh")
        info.size, info.mode = 3, 0o755
        tar.addfile(info, io.BytesIO(b"#!\n"))
    layer = gzip.compress(buffer.getvalue())
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha256(buffer.getvalue())]},
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": push_bytes(client, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "digest": push_bytes(client, layer),
                "size": len(layer),
            }
        ],
    }
    client.put_manifest("1", json.dumps(manifest).encode(), manifest["mediaType"])  # type: ignore[arg-type]
    return sha256(layer)


def test_a_modelcar_on_a_base_image(
    oci_server: Registry,
    proxy: Proxy,
    registry: Path,
    tmp_path: Path,
    repo: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = registered(registry, tmp_path, oci_server.url(repo), monkeypatch)
    base_layer = push_base(Client(oci_server.host, f"{repo}-base", insecure=True))
    # the base on the same registry (mounted), then through another address (copied, verified)
    for n, host in enumerate((oci_server.host, proxy.host)):
        target = f"oci://{oci_server.host}/{repo}-car{n}:v1"
        base = f"oci://{host}/{repo}-base:1"
        ok("export", "oci", "fraud@1", target, "--format", "modelcar", "--base", base, cwd=registry)
        manifest = inspect(f"docker://{oci_server.host}/{repo}-car{n}:v1")
        layers = manifest["layers"]
        assert [layer["mediaType"] for layer in layers] == [  # type: ignore[attr-defined]
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar",
        ]
        assert layers[0]["digest"] == base_layer  # type: ignore[index]
        config = json.loads(
            skopeo(
                "inspect",
                "--config",
                "--raw",
                "--tls-verify=false",
                f"docker://{oci_server.host}/{repo}-car{n}:v1",
            ).stdout
        )
        assert len(config["rootfs"]["diff_ids"]) == 2
        assert config["rootfs"]["diff_ids"][1] == layers[1]["digest"]  # type: ignore[index]
        dest = tmp_path / f"pulled{n}"
        ok("pull", target, "-o", dest, cwd=registry)
        assert (dest / "model.onnx").read_bytes() == (folder / "model.onnx").read_bytes()
        assert not (dest / "bin" / "sh").exists()
    result = run(
        "export", "oci", "fraud@1", f"oci://{oci_server.host}/{repo}:x", "--base", "oci://h/b:1", cwd=registry
    )
    assert_error(result, 2, "--base is for --format modelcar only (drop --base, or add --format modelcar)")


def test_export_from_a_local_store_streams_each_file_verified(
    oci_server: Registry, registry: Path, blobs: Path, tmp_path: Path, repo: str
) -> None:
    folder = tmp_path / "bundle"
    write_bytes(folder / "model.onnx", 20 * MIB + 3, 9)  # more than one 16 MiB chunk
    (folder / "config.json").write_text("{}\n")
    assert ok("register", "fraud", folder, cwd=registry) == "fraud@1\n"
    target = f"oci://{oci_server.host}/{repo}:v1"
    out = json.loads(ok("export", "oci", "fraud@1", target, "--json", cwd=registry))
    assert out["uploaded"] == 2
    manifest = inspect(f"docker://{oci_server.host}/{repo}:v1")
    assert [layer["digest"] for layer in manifest["layers"]] == [  # type: ignore[attr-defined]
        sha256((folder / name).read_bytes()) for name in ("config.json", "model.onnx")
    ]
    assert manifest["layers"][0]["mediaType"] == "application/vnd.cncf.model.weight.config.v1.raw"  # type: ignore[index]
    # a blob damaged in the local store: the export stops at it, and tags nothing
    digest = sha256((folder / "model.onnx").read_bytes())
    stored = blobs / "sha256" / digest[7:9] / digest[9:]
    stored.chmod(0o644)
    data = bytearray(stored.read_bytes())
    data[-1] ^= 1
    stored.write_bytes(bytes(data))
    result = run("export", "oci", "fraud@1", f"oci://{oci_server.host}/{repo}-bad:v1", cwd=registry)
    assert result.exit_code == 3 and result.stderr.startswith(f"error: blob {digest} ")
    assert result.stderr.count("\n") == 1
    with pytest.raises(subprocess.CalledProcessError):
        inspect(f"docker://{oci_server.host}/{repo}-bad:v1")
    assert open_store(oci_server.url(f"{repo}-bad")).size(digest) is None


def test_the_oci_store_loads_no_fsspec_and_no_cloud_client() -> None:
    code = (
        "import sys\nfrom gitreg.storage import open_store\n"
        "open_store('oci://127.0.0.1:1/a/b', {'insecure': True}).driver\n"
        "import gitreg.ops.export_oci, gitreg.ops.pull_oci\n"
        "names = ('fsspec', 's3fs', 'gcsfs', 'adlfs', 'urllib3')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in names))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
