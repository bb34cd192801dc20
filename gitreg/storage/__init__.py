"""Content-addressed blob storage: pick a backend from a URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from gitreg.credentials import redact_url
from gitreg.errors import GitregError, UsageError
from gitreg.storage.base import Blob, BlobStore, Incomplete, VerifyingReader
from gitreg.storage.local import LocalStore

REMOTE_SCHEMES = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}


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
        from gitreg.storage.drivers import open_remote  # noqa: PLC0415 - loads a cloud client only when used

        return open_remote(url, dict(options or {}))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise UsageError(
            f"storage URL {shown!r} has an unknown scheme {parsed.scheme!r}",
            "use file://, s3://, gs:// or az://",
        )
    path = Path(url).expanduser()
    if not path.is_absolute():
        if base is None:
            raise GitregError(
                f"storage path {shown!r} is relative and there is no working tree to resolve it against",
                "set GITREG_STORAGE_URL to an absolute path or URL",
            )
        path = base / path
    return LocalStore(path)


__all__ = [
    "Blob",
    "BlobStore",
    "Incomplete",
    "LocalStore",
    "VerifyingReader",
    "default_store_url",
    "open_store",
]
