"""Where a downloaded artifact lands: whether a path already holds exactly an artifact (so a pull can skip
the download), and putting a verified, staged copy in place of what is there without anyone ever seeing a
mix of the two.

A file over a file is one ``rename``. Anything else (a folder over a folder, a file over a folder or the
reverse) is one ``renameat2(RENAME_EXCHANGE)`` on Linux, which swaps the two paths in a single system call;
where that call does not exist or the file system refuses it, the old one is renamed aside and the new one
into place, and the old one put back if the second rename fails (a crash between the two renames leaves
the path absent, never half of each)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from pathlib import Path

from gitreg.storage.protocol import CHUNK_SIZE


def holds(path: Path, digest: str, kind: str, inside: str | None = None) -> bool:
    """Whether ``path`` is exactly the artifact: a regular file (not a link) whose SHA-256 is ``digest``, or
    a folder (not a link) of regular files and folders whose tree listing hashes to ``digest``, with no
    empty folder, link, device or unreadable file in it. With ``inside``, a folder that holds that file
    under that name and nothing else. Every byte is hashed; nothing is trusted."""
    try:
        st = path.lstat()
        if inside is not None:
            return (
                stat.S_ISDIR(st.st_mode)
                and [e.name for e in os.scandir(path)] == [inside]
                and holds(path / inside, digest, kind)
            )
        if kind == "file":
            return stat.S_ISREG(st.st_mode) and _file_digest(path) == digest
        if not stat.S_ISDIR(st.st_mode):
            return False
        entries = _tree_entries(path)
    except OSError:
        return False
    if entries is None or not entries:
        return False
    from gitreg.storage.artifact import TreeEntry, tree_listing  # noqa: PLC0415 - artifact imports this module

    listing = tree_listing([TreeEntry(*entry) for entry in entries])
    return "sha256:" + hashlib.sha256(listing).hexdigest() == digest


def _file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as src:
        while n := src.readinto(buf):
            hasher.update(view[:n])
    return "sha256:" + hasher.hexdigest()


def _tree_entries(root: Path) -> list[tuple[str, int, str, bool]] | None:
    """(relative path, size, digest, executable) of every file below ``root``, or None if anything there is
    not a regular file or a folder holding files."""
    entries: list[tuple[str, int, str, bool]] = []
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        children = list(os.scandir(folder))
        if not children and prefix:
            return None  # an empty folder: not something a pull writes
        for child in children:
            st = child.stat(follow_symlinks=False)
            rel = prefix + child.name
            if stat.S_ISDIR(st.st_mode):
                pending.append((Path(child.path), rel + "/"))
            elif stat.S_ISREG(st.st_mode):
                entries.append((rel, st.st_size, _file_digest(Path(child.path)), bool(st.st_mode & 0o111)))
            else:
                return None
    return entries


def is_empty_folder(path: Path) -> bool:
    """Whether ``path`` is a folder (not a link) with nothing in it: a volume's mount point, as KServe
    gives its storage initializer."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode) and not any(os.scandir(path))
    except OSError:
        return False


def replace(staged: Path, dest: Path, aside: Path) -> None:
    """Put ``staged`` at ``dest``, which exists; what was at ``dest`` ends at ``aside`` (in the caller's
    temporary folder, which it removes)."""
    if not stat.S_ISDIR(staged.lstat().st_mode) and not stat.S_ISDIR(dest.lstat().st_mode):
        staged.replace(dest)  # one rename: atomic over a file or a link
        return
    if _exchange(staged, dest):
        staged.rename(aside)  # ``staged`` now names the old one
        return
    dest.rename(aside)
    try:
        staged.rename(dest)
    except OSError:
        aside.rename(dest)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` in one system call; False where the system or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # noqa: PLC0415 - only a forced replacement needs it

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28, or not glibc
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def fill(staged: Path, dest: Path) -> None:
    """Move every entry of the folder ``staged`` into the empty folder ``dest`` (a mount point cannot be
    renamed onto). ``staged`` must be on ``dest``'s file system (a temporary folder inside it)."""
    for entry in sorted(os.scandir(staged), key=lambda e: e.name):
        Path(entry.path).rename(dest / entry.name)


__all__ = ["fill", "holds", "is_empty_folder", "replace"]
