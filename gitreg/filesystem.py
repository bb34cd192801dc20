"""Small filesystem helpers shared across gitreg: durable renames, and finding the data files
(registry templates, git hooks) that ship with gitreg."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from gitreg.errors import GitregError


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk, so that a rename into it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def data_folder(name: str, what: str) -> Path:
    """A folder of gitreg's data: inside the installed wheel (``gitreg/_data/NAME``), or at the top of a
    source checkout (an editable install)."""
    packaged = Path(str(resources.files("gitreg"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / name
    if source.is_dir():
        return source
    raise GitregError(
        f"gitreg's {what} are missing from this installation", "reinstall gitreg"
    )  # pragma: no cover
