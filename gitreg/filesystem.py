"""Small filesystem helpers shared across gitreg: durable renames, finding the data files (registry
templates, git hooks) that ship with gitreg, and the one rule for the names gitreg writes."""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from gitreg.errors import GitregError, UnsafePathError
from gitreg.layout import NAME


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
    from importlib import resources  # noqa: PLC0415 - only the commands that use packaged data pay for it

    packaged = Path(str(resources.files("gitreg"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / name
    if source.is_dir():
        return source
    raise GitregError(
        f"gitreg's {what} are missing from this installation", "reinstall gitreg-registry"
    )  # pragma: no cover


# --- the naming rule ---------------------------------------------------------------------------------------
#
# One rule for every name gitreg writes to a file system: what register stores (an artifact's name, the
# paths in a folder), what pull, the store and the controller write back, and model and stage names. A name
# passes when it stays inside its folder and means the same single file on Linux, macOS and Windows, so that
# what register accepts, pull can write anywhere, and a hostile manifest or tree listing cannot reach out.

#: Characters Windows refuses in a name (besides the folder separators and control characters).
_WINDOWS_RESERVED = '<>:"|?*'
#: Names Windows gives to devices, with or without an extension.
_WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{kind}{n}" for kind in ("com", "lpt") for n in range(1, 10)]
)
#: The longest name (in UTF-8 bytes) that ext4, APFS, NTFS and the others all hold.
MAX_NAME_BYTES = 255


def is_name(value: str) -> bool:
    """Whether ``value`` can name a model or a stage (``gitreg.manifest.name_error`` says why not)."""
    return NAME.fullmatch(value) is not None and name_problem(value) is None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one file or folder name that gitreg writes, or None when it can. The text
    reads after the name: ``f"{shown(name)} {problem}"``."""
    if not name:
        return "is empty"
    if name in (".", ".."):
        return "names a folder itself or its parent, not an entry in it"
    if "/" in name:
        return "contains '/', which separates folders"
    if "\\" in name:
        return "contains a backslash, which separates folders on Windows"
    if any("\ud800" <= c <= "\udfff" for c in name):  # undecodable bytes, as os.fsdecode escapes them
        return "is not valid UTF-8"
    if any(c < " " or c == "\x7f" for c in name):
        return "contains a control character"
    reserved = next((c for c in name if c in _WINDOWS_RESERVED), None)
    if reserved is not None:
        return f"contains {reserved!r}, which Windows does not allow in names"
    if name[-1] in ". ":
        return "ends with a dot or a space, which Windows drops"
    if name.split(".", 1)[0].rstrip(" ").lower() in _WINDOWS_DEVICES:
        return "is a device name on Windows"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def check_artifact_name(ref: str, name: str) -> None:
    """Refuse, before anything is written, a version whose artifact name is not one portable file name:
    a hostile manifest must not make pull or the controller write anywhere but the folder given."""
    problem = name_problem(name)
    if problem is not None:
        raise UnsafePathError(
            f"{ref}: artifact name {shown(name)} {problem}",
            "set artifact.name to the file or folder name alone, as gitreg register records it",
        )


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a relative POSIX path below a folder gitreg writes, or None when it can: it is
    relative, and each of its parts passes ``name_problem``. The text names the path."""
    if path.startswith("/"):
        return f"{shown(path)} is an absolute path"
    for part in path.split("/"):
        problem = name_problem(part)
        if problem is not None:
            return f"{shown(path)} {problem}" if part == path else f"{shown(path)}: {shown(part)} {problem}"
    return None


def paths_problem(paths: Iterable[str]) -> str | None:
    """Why these relative file paths cannot be written together below one folder, or None when they can.

    Each must pass ``path_problem``; they must come sorted (by code point, as a tree listing holds them)
    and each once; no path may be a file and a folder at once; and no two names in one folder may differ
    only in case or Unicode normalisation, which case-insensitive file systems would make one file."""
    previous: str | None = None
    files: set[str] = set()
    folders: set[str] = set()
    folded: dict[tuple[str, str], str] = {}  # (parent, folded name) -> the name as listed
    for path in paths:
        problem = path_problem(path)
        if problem is not None:
            return problem
        if previous is not None and path <= previous:
            what = "is listed twice" if path == previous else "is out of order (a listing is sorted by path)"
            return f"{shown(path)} {what}"
        previous = path
        parts = path.split("/")
        for depth, part in enumerate(parts):
            parent = "/".join(parts[:depth])
            seen = folded.setdefault((parent, _fold(part)), part)
            if seen != part:
                first, second = (f"{parent}/{n}" if parent else n for n in (seen, part))
                return (
                    f"{shown(first)} and {shown(second)} differ only in case or Unicode form, so macOS and "
                    "Windows would make them one file"
                )
        files.add(path)
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
    both = sorted(files & folders)
    return f"{shown(both[0])} is both a file and a folder" if both else None


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def shown(name: str) -> str:
    """``name`` quoted for a one-line message: control characters escaped, and the bytes of a name that is
    not UTF-8 (escaped by os.fsdecode) shown as ``\\xNN``."""
    return _SURROGATE.sub(r"\1\\x\2", repr(name))


def displayed(path: str | os.PathLike[str]) -> str:
    """A path for a one-line message, unquoted: control characters escaped as in ``repr``, and the bytes of
    a part that is not UTF-8 shown as ``\\xNN``."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: In a repr: an escaped surrogate (a byte os.fsdecode could not decode), not an escaped backslash.
_SURROGATE = re.compile(r"(?<!\\)((?:\\\\)*)\\udc([89a-f][0-9a-f])")


def real_dir(path: Path) -> bool:
    """Whether ``path`` is a folder itself, not a symlink to one (which could lead anywhere)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False
