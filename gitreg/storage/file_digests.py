"""Which digest a large local file had when it was last stored: a hint that lets the local store tell,
before writing anything, that a file being stored again is probably already there.

Keyed by the file's path and stat identity (device, inode, size, modification and change times), as
git's index is. The hint is never trusted alone: the store still hashes the file and compares it byte for
byte with the stored blob, and skips the write only if that hash equals the recorded digest and the blob
holds exactly those bytes (a blob damaged in place is rewritten). So a stale or wrong entry costs a wasted
reading pass, never a wrong digest nor a damaged blob under a new version. One JSON file under
``$XDG_CACHE_HOME/gitreg/``, replaced atomically; safe to delete."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

#: Files smaller than this are written without asking: a hashing pass would save nothing measurable.
MIN_SIZE = 16 * 1024 * 1024
_MAX_ENTRIES = 10_000


def _file() -> Path:
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "gitreg" / "stored-files.json"


def _key(path: Path, st: os.stat_result) -> str:
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return f"{os.path.abspath(path)}\0{identity}"  # noqa: PTH100 - the path as given, not resolved


def _load() -> dict[str, str]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(_file().read_text())
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
    return {}


def recorded(path: Path, st: os.stat_result) -> str | None:
    """The digest recorded for this file, if it has not changed since."""
    if st.st_size < MIN_SIZE:
        return None
    return _load().get(_key(path, st))


def record(path: Path, st: os.stat_result, digest: str) -> None:
    """Remember ``digest`` for this file (best effort: a cache that cannot be written is no error)."""
    if st.st_size < MIN_SIZE:
        return
    entries = _load()
    entries[_key(path, st)] = digest
    if len(entries) > _MAX_ENTRIES:
        entries = dict(list(entries.items())[-_MAX_ENTRIES:])
    target = _file()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".stored-files-")
        with os.fdopen(fd, "w") as out:
            json.dump(entries, out)
        Path(tmp).replace(target)
