"""The temporary folder a download is staged in, beside its destination (inside it, for an empty folder to
fill), and what a killed download left of one.

A download holds a lock on a file in its folder while it works (``flock``: the system lets go of it when
the process ends, however it ends). A later download of the same destination removes the folders of that
name pattern whose lock nobody holds: a ``gitreg pull`` killed half-way (a storage initializer's pod
restarted, a ^C at the wrong moment) would otherwise leave one behind, and inside an empty volume that is
to be filled, make it look taken. A folder whose lock is held (a download at work) or that has no lock file
(not one of ours) is left alone. Where ``flock`` does not exist, nothing is ever removed."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import suppress
from pathlib import Path

#: The lock file in a staging folder.
LOCK = ".gitreg-staging"


def prefix(dest: Path) -> str:
    """The start of the name of ``dest``'s staging folders (short: a name of the longest length allowed
    still leaves room for the random suffix)."""
    return f".{dest.name[:40]}.gitreg-"


class Staging:
    """A new folder in ``parent`` to stage ``dest``'s download in (OSError if it cannot be made), locked
    until ``close`` removes it."""

    def __init__(self, parent: Path, dest: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(dir=parent, prefix=prefix(dest)))
        try:
            self._lock = _lock(self.folder)
        except OSError:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)


def clear_leftovers(dest: Path, within: bool) -> None:
    """Remove the staging folders of ``dest`` that killed downloads left beside it, and, if ``within``,
    inside it too when they are all it holds (an empty folder to be filled: never a file of anyone else's)."""
    _clear([e for e in _entries(dest.parent) if _abandoned(e, dest)])
    if within:
        entries = _entries(dest)
        if entries and all(_abandoned(e, dest) for e in entries):
            _clear(entries)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return list(found)
    except OSError:
        return []


def _clear(entries: list[os.DirEntry[str]]) -> None:
    for entry in entries:
        shutil.rmtree(entry.path, ignore_errors=True)


def _abandoned(entry: os.DirEntry[str], dest: Path) -> bool:
    """Whether ``entry`` is a staging folder of ``dest`` whose download is gone: its lock file is there and
    no process holds the lock."""
    try:
        import fcntl  # noqa: PLC0415 - Unix only
    except ImportError:
        return False
    if not entry.name.startswith(prefix(dest)) or not entry.is_dir(follow_symlinks=False):
        return False
    try:
        fd = os.open(Path(entry.path) / LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # no lock file: not a folder this module made (or one made a moment ago)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: a download at work
    finally:
        os.close(fd)
    return True


def _lock(folder: Path) -> int | None:
    """A lock held on ``folder`` for as long as the returned descriptor is open (None where there is no
    ``flock``: such folders are never taken for a killed download's)."""
    try:
        import fcntl  # noqa: PLC0415 - Unix only
    except ImportError:
        return None
    making = folder / f"{LOCK}.new"
    fd = os.open(making, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        making.rename(folder / LOCK)  # the lock file appears already locked: never taken for a gone one's
    except OSError:  # a file system without locks: no lock file, so that no one takes the folder for gone
        os.close(fd)
        with suppress(OSError):
            making.unlink()
        return None
    return fd
