"""Content-addressed blob storage: pick a backend from a URL.

``REMOTE_SCHEMES`` is the one table of remote backends: a URL scheme, the module whose ``make(bucket,
options)`` builds its driver (loaded only when a store of that kind is opened), and the extra that installs
the driver's client. Credentials never come through ``storage.options`` (``credentials.SECRET_NAME``):
they come from each service's standard sources, environment variables, profiles, instance identity."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from gitreg.credentials import is_secret_name, redact_url
from gitreg.distribution import install_hint
from gitreg.errors import GitregError, UsageError
from gitreg.storage.local import LocalStore
from gitreg.storage.protocol import Blob, BlobStore, Incomplete, VerifyingReader
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

if TYPE_CHECKING:
    from typing import Any

    from gitreg.storage.remote import RemoteStore
    from gitreg.storage.remote.driver import Driver


class RemoteKind(Frozen):
    """A kind of remote store: its driver's module, the extra to install, and words for messages."""

    __match_args__ = ("driver", "extra", "word", "credential_hint", "credential_sources")
    __slots__ = __match_args__
    driver: str  # module with ``make(bucket, options) -> Driver``
    extra: str
    word: str  # what the first part of the URL names: "bucket" or "container"
    credential_hint: str  # where credentials come from instead of storage.options
    credential_sources: frozenset[str]  # ``token`` values that name a source, not a secret

    def __init__(
        self,
        driver: str,
        extra: str,
        word: str,
        credential_hint: str,
        credential_sources: frozenset[str] = frozenset(),
    ) -> None:
        set_fields(self, driver, extra, word, credential_hint, credential_sources)


_S3 = RemoteKind(
    "gitreg.storage.remote.s3",
    "s3",
    "bucket",
    "use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role",
)
_GCS = RemoteKind(
    "gitreg.storage.remote.gcs",
    "gcs",
    "bucket",
    "use GOOGLE_APPLICATION_CREDENTIALS or gcloud's application-default login",
    frozenset({"anon", "google_default", "cloud", "cache"}),  # gcsfs's ``token`` may name a source
)
_AZURE = RemoteKind(
    "gitreg.storage.remote.azure",
    "azure",
    "container",
    "use AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT_KEY, or a managed identity",
)
#: URL scheme -> kind of remote store. The first scheme of each kind is the one messages suggest.
REMOTE_SCHEMES: dict[str, RemoteKind] = {
    "s3": _S3,
    "gs": _GCS,
    "gcs": _GCS,
    "az": _AZURE,
    "abfs": _AZURE,
    "abfss": _AZURE,  # Azure's TLS form of abfs://, as Spark and Databricks users write it
}
#: Hadoop's names for S3 (s3a://, and the retired s3n://): the same bucket and key, written s3://.
HADOOP_S3 = ("s3a", "s3n")


def _schemes_hint() -> str:
    first: dict[RemoteKind, str] = {}
    for scheme, kind in REMOTE_SCHEMES.items():
        first.setdefault(kind, f"{scheme}://")
    firsts = list(first.values())
    return "use " + ", ".join(["file://", *firsts[:-1]]) + f" or {firsts[-1]}"


def default_store_url() -> str:
    """Where ``gitreg init`` puts blobs without ``--storage``: one folder per user, shared by every
    registry and clone on this machine (the store is content-addressed, so sharing is safe and dedups)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(data_home) / "gitreg" / "blobs").as_uri()


def open_store(url: str, options: dict[str, Any] | None = None, base: Path | None = None) -> BlobStore:
    """The blob store at ``url``: ``file://`` URL, absolute, ``~`` or relative path (relative to ``base``,
    the registry's working tree), or a remote URL."""
    file_hint = "file URLs look like file:///absolute/path"
    shown = redact_url(url)  # how every message shows the URL: never its credentials
    if "\0" in url:
        raise UsageError(f"storage path {shown!r} contains a NUL character", file_hint)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise UsageError(f"storage URL {shown!r} names a host", file_hint)
        folder = unquote(parsed.path)
        if "\0" in folder:
            raise UsageError(f"storage URL {shown!r} contains a NUL character", file_hint)
        if not folder.startswith("/"):
            raise UsageError(f"storage URL {shown!r} names no folder", file_hint)
        return LocalStore(Path(folder))
    if parsed.scheme in REMOTE_SCHEMES:
        return open_remote(url, dict(options or {}))
    if parsed.scheme == "oci":  # an OCI registry: its own driver, no extra to install
        from gitreg.storage.oci import open_oci  # noqa: PLC0415 - loaded only for an oci:// store

        return open_oci(url, dict(options or {}))
    if parsed.scheme in HADOOP_S3:
        raise UsageError(
            f"storage URL {shown!r} uses Hadoop's {parsed.scheme}:// scheme",
            "write " + redact_url("s3" + url[len(parsed.scheme) :]),
        )
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise UsageError(f"storage URL {shown!r} has an unknown scheme {parsed.scheme!r}", _schemes_hint())
    path = Path(url).expanduser()
    if not path.is_absolute():
        if base is None:
            raise GitregError(
                f"storage path {shown!r} is relative and there is no working tree to resolve it against",
                "set GITREG_STORAGE_URL to an absolute path or URL",
            )
        path = base / path
    return LocalStore(path)


def open_remote(url: str, options: dict[str, Any]) -> RemoteStore:
    """The store at ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``az://container/prefix`` (any scheme
    of ``REMOTE_SCHEMES``). Makes no request: the driver is built on first use."""
    parsed = urlparse(url)
    shown = redact_url(url)
    kind = REMOTE_SCHEMES[parsed.scheme]
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    userinfo, at, host = bucket.rpartition("@")
    if at and not (kind is _AZURE and ":" not in userinfo):  # abfs://container@account... is no secret
        if kind is not _S3:
            raise UsageError(
                f"storage URL {shown!r} carries credentials, which {parsed.scheme}:// URLs cannot",
                kind.credential_hint,
            )
        bucket = host
    if not bucket:
        raise UsageError(
            f"storage URL {shown!r} names no {kind.word}",
            f"write {parsed.scheme}://{kind.word.upper()}/PREFIX",
        )
    for name, value in options.items():
        if is_secret_name(name) and not (
            name == "token" and isinstance(value, str) and value in kind.credential_sources
        ):
            raise UsageError(
                f"storage option {name!r} is a credential, and credentials do not belong in registry.yaml "
                "or GITREG_STORAGE_OPTIONS",
                kind.credential_hint,
            )
    if at and kind is _S3:  # s3://KEY:SECRET@bucket, as CI may set GITREG_STORAGE_URL: used, never shown
        key, _, secret = userinfo.partition(":")
        options = {**options, "key": unquote(key), "secret": unquote(secret)}
    try:
        module = importlib.import_module(kind.driver)
    except ImportError as exc:
        if (exc.name or "").startswith("gitreg"):
            raise
        raise GitregError(
            f"storage URL {shown!r} needs the {kind.extra} extra, which is not installed",
            install_hint(kind.extra),
        ) from None
    from gitreg.storage.remote import RemoteStore  # noqa: PLC0415 - the local store's users never load it

    make: Callable[[str, dict[str, Any]], Driver] = module.make
    return RemoteStore(url, lambda: make(bucket, options), prefix)


__all__ = [
    "Blob",
    "BlobStore",
    "Incomplete",
    "LocalStore",
    "VerifyingReader",
    "default_store_url",
    "open_remote",
    "open_store",
]
