"""The target folder a controller keeps in step with a stage, and every change made to it.

Layout::

    DIR/<model>/<version>/         one complete, verified version (a file artifact sits inside it under its
                                   registered name; a folder artifact is the version folder itself)
    DIR/<model>/current            symlink to "<version>": what a model server loads
    DIR/.gitreg/status.json        the controller's report (see status.py)
    DIR/.gitreg/lock               held (flock) by the one controller working on DIR
    DIR/.gitreg/git/               the cache: a bare repository holding shallow fetches of the branch
    DIR/.gitreg/tmp/               downloads in progress and folders being deleted

Crash safety comes from two renames. A version folder is assembled and verified under ``.gitreg/tmp`` and
renamed to ``DIR/<model>/<version>`` only when complete, so a numbered folder is always a whole version;
``current`` is replaced by renaming a new symlink over it, so it always names one. Deleting goes the other
way: a folder is first renamed into ``.gitreg/tmp``, then removed. Whatever a killed controller leaves in
``.gitreg/tmp`` (and any half-made symlink) is removed when the next one starts."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from gitreg.errors import ConflictError, GitregError, StorageError, UnsafePathError
from gitreg.filesystem import check_artifact_name, fsync_dir, real_dir, shown
from gitreg.layout import NAME_PATTERN

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

# What downloads, verifies and flushes (pydantic's models, the stores) is imported where it is used: a
# controller's poll that finds nothing new only takes the lock, cleans up and reads the ``current`` links.
if TYPE_CHECKING:
    from gitreg.manifest import Artifact
    from gitreg.storage import BlobStore

_NAME = re.compile(NAME_PATTERN)
_VERSION = re.compile(r"^[1-9][0-9]*$")
_LINK_TMP = ".current.tmp-"


def _os_error(what: str, exc: OSError) -> StorageError:
    reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
    return StorageError(f"cannot {what}: {reason}")


class Target:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self.meta = self.root / ".gitreg"
        self.tmp = self.meta / "tmp"
        self.status_file = self.meta / "status.json"
        self.cache = self.meta / "git"
        self._lock_fd: int | None = None

    # --- the controller's hold on the folder -------------------------------------------------------------

    def prepare(self) -> None:
        try:
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(f"create {self.tmp}", exc) from None

    def lock(self) -> None:
        """Take the folder for this process, or ConflictError if another controller has it. The lock goes
        with the process, so a killed controller never leaves it behind."""
        path = self.meta / "lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _os_error(f"open {path}", exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConflictError(
                f"another gitreg controller (pid {holder}) is working on {self.root}",
                "stop it, or give this one another --target",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def clean(self) -> list[str]:
        """Remove what an interrupted controller left behind; the paths removed, relative to the target."""
        removed = []
        for leftover in sorted(self.tmp.iterdir()):
            _remove(leftover)
            removed.append(leftover.relative_to(self.root).as_posix())
        for leftover in sorted(self.meta.glob("status.json.tmp-*")):
            _remove(leftover)
            removed.append(leftover.relative_to(self.root).as_posix())
        for model in self.models():
            for leftover in sorted((self.root / model).glob(f"{_LINK_TMP}*")):
                _remove(leftover)
                removed.append(leftover.relative_to(self.root).as_posix())
        return removed

    # --- reading ----------------------------------------------------------------------------------------

    def models(self) -> list[str]:
        """Models deployed here: folders with a model's name."""
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name)
        except FileNotFoundError:
            return []
        return [e.name for e in entries if _NAME.match(e.name) and e.is_dir(follow_symlinks=False)]

    def versions(self, model: str) -> list[int]:
        if not _NAME.match(model):  # a name from status.json or a manifest: never a path out of the target
            return []
        folder = self.root / model
        try:
            entries = list(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(int(p.name) for p in entries if _VERSION.match(p.name) and p.is_dir())

    def live(self, model: str) -> int | None:
        """The version ``current`` names, if it names a version folder that is there."""
        if not _NAME.match(model):
            return None
        try:
            name = (self.root / model / "current").readlink().as_posix()
        except OSError:
            return None
        if not _VERSION.match(name) or not real_dir(self.root / model / name):
            return None
        return int(name)

    def has_version(self, model: str, version: int) -> bool:
        """Whether a version folder is there: a real folder, never a symlink (which could lead anywhere)."""
        return bool(_NAME.match(model)) and real_dir(self.root / model / str(version))

    def occupied(self, model: str, version: int) -> bool:
        """Whether anything at all (a folder, a file, a symlink) is where ``version``'s folder goes."""
        return bool(_NAME.match(model)) and os.path.lexists(self.root / model / str(version))

    def mismatch(self, model: str, version: int, art: Artifact) -> str | None:
        """Why the kept folder of ``version`` no longer holds exactly ``art`` (re-hashed against its digest,
        or the tree listing's), or None if it does. Run before ``current`` is switched back to a kept
        folder: it may have been altered since it was verified at download."""
        folder = self.root / model / str(version)
        try:
            return verify_folder(folder, art)
        except OSError as exc:
            return f"cannot read {folder}: {exc.strerror or exc}"
        except GitregError as exc:
            return str(exc)

    def artifact_path(self, model: str, version: int, art: Artifact) -> Path:
        folder = self.root / model / str(version)
        return folder / art.name if art.type == "file" else folder

    # --- changing ---------------------------------------------------------------------------------------

    def install(self, model: str, version: int, store: BlobStore, art: Artifact) -> Path:
        """Download, verify and flush one version, then rename it into place. Raises a GitregError (and
        leaves no version folder) if the blob is missing or corrupt or the disk fills up."""
        from gitreg.manifest import is_name  # noqa: PLC0415
        from gitreg.storage import artifact as artifacts  # noqa: PLC0415

        if not is_name(model) or version < 1:  # checked again here, where they become folder names
            raise UnsafePathError(f"{shown(model)}@{version} is not a model version gitreg can deploy")
        check_artifact_name(f"{model}@{version}", art.name)
        final = self.root / model / str(version)
        if self.occupied(model, version):  # a kept folder that failed verification: replaced whole
            self._discard(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = self.tmp / f"{model}.{version}.{os.urandom(4).hex()}"
            staging.mkdir()
        except OSError as exc:
            raise _os_error(f"write to {final.parent}", exc) from None
        try:
            folder = staging / "version"
            artifacts.download(
                store, art.digest, art.type, folder / art.name if art.type == "file" else folder
            )
            _fsync_tree(folder)
            folder.rename(final)
            fsync_dir(final.parent)
        except OSError as exc:
            raise _os_error(f"write {final}", exc) from None
        finally:
            _rmtree(staging)
        return final

    def switch(self, model: str, version: int) -> None:
        """Point ``current`` at ``version`` in one rename: readers see the old version or the new one."""
        folder = self.root / model
        link = folder / "current"
        if link.exists() and not link.is_symlink():
            raise ConflictError(
                f"{link} is not a symlink", "gitreg manages it: move it away and the controller recreates it"
            )

        tmp_link = folder / f"{_LINK_TMP}{os.urandom(4).hex()}"
        try:
            tmp_link.symlink_to(str(version))
            tmp_link.replace(link)
            fsync_dir(folder)
            stamp = time.time()  # the newest switch is the newest mtime: what trim() keeps
            os.utime(folder / str(version), (stamp, stamp), follow_symlinks=False)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp_link.unlink()
            raise _os_error(f"switch {link} to {version}", exc) from None

    def trim(self, model: str, keep: int) -> list[int]:
        """Remove all but the ``keep`` most recently live versions (the live one always stays)."""
        live = self.live(model)
        folder = self.root / model
        others = [v for v in self.versions(model) if v != live]
        others.sort(key=lambda v: (folder / str(v)).stat().st_mtime, reverse=True)
        doomed = others[max(keep - 1, 0) :]
        for version in doomed:
            self._discard(folder / str(version))
        return sorted(doomed)

    def remove_model(self, model: str) -> None:
        if not _NAME.match(model):
            raise UnsafePathError(f"{model!r} is not a model name: nothing outside the target is removed")
        self._discard(self.root / model)

    def _discard(self, path: Path) -> None:
        trash = self.tmp / f"trash.{path.name}.{os.urandom(4).hex()}"
        try:
            path.rename(trash)
        except OSError as exc:
            raise _os_error(f"remove {path}", exc) from None
        _remove(trash)


def verify_folder(folder: Path, art: Artifact) -> str | None:
    """Why ``folder`` (a version folder) does not hold exactly ``art``, or None. Only real folders and
    regular files count: a symlink anywhere is a mismatch, since it could lead outside the target."""
    from gitreg.storage import artifact as artifacts  # noqa: PLC0415 - see the top
    from gitreg.storage.hashing import hash_file, hash_files  # noqa: PLC0415
    from gitreg.storage.protocol import digest_of  # noqa: PLC0415

    if not real_dir(folder):
        return f"{folder} is not a folder"
    files: list[tuple[str, Path, os.stat_result]] = []
    for parent, dirs, names in os.walk(folder):
        for name in sorted(dirs + names):
            path = Path(parent) / name
            st = path.lstat()
            rel = path.relative_to(folder).as_posix()
            if stat.S_ISREG(st.st_mode):
                files.append((rel, path, st))
            elif not stat.S_ISDIR(st.st_mode):
                return f"{rel} is not a regular file or folder"
    files.sort()
    if art.type == "file":
        if [rel for rel, _p, _st in files] != [art.name]:
            return f"it holds {', '.join(r for r, _p, _s in files) or 'nothing'} instead of {art.name}"
        digest = hash_file(files[0][1], lambda _n: None).digest
    else:
        blobs = hash_files([p for _r, p, _s in files], lambda _n: None)
        entries = [
            artifacts.TreeEntry(rel, st.st_size, blob.digest, bool(st.st_mode & 0o111))
            for (rel, _p, st), blob in zip(files, blobs, strict=True)
        ]
        digest = digest_of(artifacts.tree_listing(entries))
    return None if digest == art.digest else f"its content hashes to {digest}, not {art.digest}"


def _rmtree(path: Path) -> None:
    import shutil  # noqa: PLC0415 - it loads bz2 and lzma; a poll that finds nothing new removes nothing

    shutil.rmtree(path, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        _rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder below ``root`` to disk, so that a version renamed into place survives
    a power cut as well as a killed process."""
    for file in _files(root):
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for folder, _dirs, files in os.walk(root):
        yield Path(folder)
        yield from (Path(folder) / f for f in files)


__all__ = ["Target"]
