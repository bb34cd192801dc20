"""A local record of digests known to be in a remote store, so that registering a folder again does not ask
the store about each of its files.

One text file per store URL under ``$XDG_CACHE_HOME/gitreg/present/``, one ``<hex> <size> <unix time>``
line per blob, appended to as uploads and existence checks confirm blobs. It is only a hint: deleting it
(or any corruption, which is ignored line by line) costs requests, never correctness of what is stored.
An entry is trusted for ``TTL`` seconds only, and ``gitreg gc`` removes the entries of blobs it deletes, so
a blob deleted by a garbage collection elsewhere is not believed present for long. Whole-artifact digests
(a single file, a tree's listing) are always checked against the store itself."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from gitreg.storage.protocol import Blob

#: How long a cached "present" is believed: a day, well under gc's default grace period of a week.
TTL = 24 * 3600.0


def cache_folder() -> Path:
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "gitreg" / "present"


class PresentCache:
    def __init__(self, url: str, folder: Path | None = None) -> None:
        name = hashlib.sha256(url.encode()).hexdigest()[:32]
        self.path = (folder or cache_folder()) / f"{name}.txt"
        self._entries: dict[str, tuple[int, float]] | None = None

    def _load(self) -> dict[str, tuple[int, float]]:
        if self._entries is None:
            entries: dict[str, tuple[int, float]] = {}
            with contextlib.suppress(OSError):
                for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
                    parts = line.split(" ")
                    if len(parts) == 3 and len(parts[0]) == 64:
                        with contextlib.suppress(ValueError):
                            entries["sha256:" + parts[0]] = (int(parts[1]), float(parts[2]))
            self._entries = entries
        return self._entries

    def has(self, blob: Blob) -> bool:
        """Whether ``blob`` was seen in the store, with this size, less than TTL seconds ago."""
        entry = self._load().get(blob.digest)
        return entry is not None and entry[0] == blob.size and time.time() - entry[1] < TTL

    def add(self, blobs: Iterable[Blob]) -> None:
        now = time.time()
        entries = self._load()
        lines = []
        for blob in blobs:
            entries[blob.digest] = (blob.size, now)
            lines.append(f"{blob.digest.removeprefix('sha256:')} {blob.size} {now:.0f}\n")
        if not lines:
            return
        with contextlib.suppress(OSError):  # a cache that cannot be written is only a slower run
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, "".join(lines).encode("ascii"))
            finally:
                os.close(fd)

    def forget(self, digests: Iterable[str]) -> None:
        """Drop entries (of blobs just deleted), rewriting the file atomically."""
        gone = set(digests)
        entries = self._load()
        if not gone & entries.keys():
            return
        for digest in gone:
            entries.pop(digest, None)
        text = "".join(f"{d.removeprefix('sha256:')} {s} {t:.0f}\n" for d, (s, t) in entries.items())
        with contextlib.suppress(OSError):
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".present-")
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(text)
            Path(tmp).replace(self.path)
