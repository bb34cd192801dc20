"""The three remote backends, each over its fsspec file system and that file system's native client: s3fs
(aiobotocore), gcsfs, adlfs (azure-storage-blob). Each is an optional extra; ``open_remote`` names the extra
to install when one is missing, and refuses credentials in ``storage.options`` (they come from each cloud's
standard sources: environment variables, profiles, instance identity)."""

from __future__ import annotations

import asyncio
import base64
import collections
import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlparse

from gitreg.credentials import is_secret_name, redact_url
from gitreg.errors import GitregError, UsageError
from gitreg.storage.remote import Driver, RemoteStore

#: URL scheme -> (extra, module that must import).
EXTRAS = {
    "s3": ("s3", "s3fs"),
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
    "az": ("azure", "adlfs"),
    "abfs": ("azure", "adlfs"),
}
#: gcsfs's ``token`` may name a standard source instead of holding a secret.
_GCS_TOKEN_SOURCES = {"anon", "google_default", "cloud", "cache"}
_CREDENTIAL_HINTS = {
    "s3": "use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role",
    "gcs": "use GOOGLE_APPLICATION_CREDENTIALS or gcloud's application-default login",
    "azure": "use AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT_KEY, or a managed identity",
}


def open_remote(url: str, options: dict[str, Any]) -> RemoteStore:
    """The store at ``s3://bucket/prefix``, ``gs://bucket/prefix`` or ``az://container/prefix``.

    An S3 URL may carry an access key and secret (``s3://KEY:SECRET@bucket/prefix``, as CI may put in
    GITREG_STORAGE_URL); every message shows the URL with them redacted. registry.yaml may not carry them:
    the validator refuses them there."""
    parsed = urlparse(url)
    shown = redact_url(url)
    extra, module = EXTRAS[parsed.scheme]
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    word = "container" if extra == "azure" else "bucket"
    userinfo, at, host = bucket.rpartition("@")
    if at and not (extra == "azure" and ":" not in userinfo):  # abfs://container@account... is no secret
        if extra != "s3":
            raise UsageError(
                f"storage URL {shown!r} carries credentials, which {parsed.scheme}:// URLs cannot",
                _CREDENTIAL_HINTS[extra],
            )
        bucket = host
    if not bucket:
        raise UsageError(
            f"storage URL {shown!r} names no {word}", f"write {parsed.scheme}://{word.upper()}/PREFIX"
        )
    for name, value in options.items():
        if is_secret_name(name) and not (
            extra == "gcs" and name == "token" and isinstance(value, str) and value in _GCS_TOKEN_SOURCES
        ):
            raise UsageError(
                f"storage option {name!r} is a credential, and credentials do not belong in registry.yaml "
                "or GITREG_STORAGE_OPTIONS",
                _CREDENTIAL_HINTS[extra],
            )
    if at and extra == "s3":
        key, _, secret = userinfo.partition(":")
        options = {**options, "key": unquote(key), "secret": unquote(secret)}
    try:
        backend = importlib.import_module(f"gitreg.storage.{extra}")
    except ImportError as exc:
        if not (exc.name or "").startswith((module, "azure", "gcsfs", "s3fs", "aiobotocore")):
            raise
        raise GitregError(
            f"storage URL {shown!r} needs the {extra} extra, which is not installed",
            f"pip install 'gitreg[{extra}]'",
        ) from None
    fs_options = {"skip_instance_cache": True, "use_listings_cache": False, **options}
    if extra == "azure" and "@" in bucket:  # abfs://container@account.dfs.core.windows.net/prefix
        bucket, _, host = bucket.partition("@")
        fs_options.setdefault("account_name", host.partition(".")[0])
    make: Callable[[dict[str, Any], str], Driver] = backend.make
    return RemoteStore(url, lambda: make(fs_options, bucket), prefix)


async def maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Ranges:
    """``read(n)`` over ranged GETs of ``WINDOW`` bytes, ``AHEAD`` of them in flight: for a service whose
    single streamed GET is slow (Azure's SDK fetches a blob in sequential chunks). Memory: AHEAD windows."""

    WINDOW = 8 * 1024 * 1024
    AHEAD = 4

    def __init__(self, fetch: Callable[[int, int], Awaitable[bytes]], offset: int, size: int) -> None:
        self.fetch = fetch
        self.next = offset
        self.size = size
        self.pending: collections.deque[asyncio.Task[bytes]] = collections.deque()
        self.buffer = memoryview(b"")

    async def read(self, n: int) -> bytes:
        if not self.buffer:
            while len(self.pending) < self.AHEAD and self.next < self.size:
                length = min(self.WINDOW, self.size - self.next)
                self.pending.append(asyncio.ensure_future(self.fetch(self.next, length)))
                self.next += length
            if not self.pending:
                return b""
            self.buffer = memoryview(await self.pending.popleft())
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return bytes(data)

    async def close(self) -> None:
        for task in self.pending:
            task.cancel()
        await asyncio.gather(*self.pending, return_exceptions=True)
        self.pending.clear()


class Body:
    """``read(n)`` over a streaming HTTP body (aiobotocore's, aiohttp's)."""

    def __init__(self, stream: Any, closer: Any) -> None:
        self.stream = stream
        self.closer = closer

    async def read(self, n: int) -> bytes:
        data: bytes = await self.stream.read(n)
        return data

    async def close(self) -> None:
        await maybe_await(self.closer())
