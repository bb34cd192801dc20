"""A read-only view of a registry's files: the working tree of a checkout, the tree of one commit, or files
held in memory (for tests and tools that build a registry without git).

Reading a registry never walks history: a commit snapshot lists one tree (one ``git ls-tree``) and reads
only the files asked for, so cost follows what is read, not how many commits or versions there are."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:  # a snapshot only calls the repository it is given: reading one never loads GitPython
    from typing import Protocol

    from gitreg.gitrepo import GitRepo
else:  # the protocols are for type checkers: at run time, plain classes, without importing typing
    Protocol = object


class Objects(Protocol):
    """What a commit snapshot asks of a repository: ``gitrepo.GitRepo``, or ``gitlite.LiteRepo`` where
    GitPython's start-up would cost more than the work (reads, the pre-commit hook)."""

    def read_path(self, commit: str, path: str) -> bytes | None: ...

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]: ...

    def ls_tree_sizes(
        self, commit: str, others: dict[str, str] | None = None
    ) -> dict[str, tuple[str, int]]: ...

    def tree_names(self, commit: str, path: str) -> list[str]: ...

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None: ...


class Snapshot(Protocol):
    label: str

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None if there is no such file."""
        ...

    def listdir(self, path: str) -> list[str]:
        """Names of the files and folders directly below ``path`` (empty if it is not a folder)."""
        ...

    def files(self) -> list[str]:
        """Every file in the snapshot (relative POSIX paths), sorted."""
        ...

    def size(self, path: str) -> int | None:
        """The file's size in bytes without reading it, or None if there is no such file."""
        ...

    def prefetch(self, paths: list[str]) -> None:
        """A hint that ``paths`` are about to be read: a snapshot may read them all at once."""
        ...


#: Files larger than this are never read ahead (they are read, if at all, one at a time).
PREFETCH_MAX_BYTES = 1024 * 1024


class WorkTreeSnapshot:
    """Files on disk in a checkout: what pre-commit sees (the index, with unstaged work stashed)."""

    def __init__(self, root: Path, repo: GitRepo | None = None) -> None:
        self.root = root
        #: the root and a slash: a folder's path is one concatenation (os.path.join's result for a relative
        #: path; ``list`` lists a folder a model), not a Path or a join per folder
        self._prefix = os.path.join(os.fspath(root), "")  # noqa: PTH118
        self.repo = repo
        #: Opens the repository when ``files()`` first needs git's list (reads of named files do not).
        self.open_repo: Callable[[], GitRepo | None] | None = None
        self.label = "working tree"

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def listdir(self, path: str) -> list[str]:
        where = path if path.startswith("/") else self._prefix + path  # os.path.join(root, path)
        try:
            names = os.listdir(where)  # noqa: PTH208 - see _prefix
        except (FileNotFoundError, NotADirectoryError):
            return []
        names.sort()
        return names

    def files(self) -> list[str]:
        if self.repo is None and self.open_repo is not None:
            self.repo = self.open_repo()
        if self.repo is not None:
            return [p for p in self.repo.worktree_files() if (self.root / p).is_file()]
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def size(self, path: str) -> int | None:
        try:
            return (self.root / path).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def prefetch(self, paths: list[str]) -> None:
        pass  # files on disk are read as fast one by one


class _IndexedSnapshot:
    """Shared listing logic for snapshots that know all their paths up front."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = sorted(paths)
        self._children: dict[str, set[str]] = {}
        for file in self._paths:
            parts = file.split("/")
            for depth in range(len(parts)):
                self._children.setdefault("/".join(parts[:depth]), set()).add(parts[depth])

    def listdir(self, path: str) -> list[str]:
        return sorted(self._children.get(path.strip("/"), ()))

    def files(self) -> list[str]:
        return list(self._paths)


class CommitSnapshot:
    """Files as they are in one commit's tree (or a bare tree, e.g. the index written by ``git write-tree``).

    Lazy: each read or folder listing is one request to git's persistent ``cat-file`` process, and the full
    file list (``git ls-tree -r``) is made only if ``files()`` is called. So reading a few files of a large
    registry, as ``show`` or an incremental validation do, costs the same whatever the registry's size."""

    def __init__(self, repo: Objects, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        self.label = commit[:12]
        self._all: dict[str, tuple[str, int]] | None = None
        self._others: dict[str, str] = {}  # what the listing holds besides blobs: submodules' commits
        self._below: dict[str, list[str]] | None = None  # each folder's names, from the listing
        self._fetched: dict[str, bytes] = {}

    def read(self, path: str) -> bytes | None:
        if path in self._fetched:
            return self._fetched[path]
        return self.repo.read_path(self.commit, path)

    def prefetch(self, paths: list[str]) -> None:
        """Read ``paths`` (those up to PREFETCH_MAX_BYTES: registry files, not a stray committed model)
        through one ``git cat-file --batch`` process."""
        listing = self._listing()
        wanted = {p: listing[p][0] for p in paths if p in listing and listing[p][1] <= PREFETCH_MAX_BYTES}
        blobs = self.repo.read_blobs(sorted(set(wanted.values())))
        self._fetched.update({p: blobs[sha] for p, sha in wanted.items() if sha in blobs})

    def _listing(self) -> dict[str, tuple[str, int]]:
        if self._all is None:
            self._all = self.repo.ls_tree_sizes(self.commit, self._others)
        return self._all

    def listdir(self, path: str) -> list[str]:
        """Once the whole listing is known (a full validation), from it; else one ``cat-file`` request
        (reading one model needs no listing of 10,000 files)."""
        folder = path.strip("/")
        parts = folder.split("/")
        if self._all is None or (folder and any(p in ("", ".", "..") for p in parts)):
            return self.repo.tree_names(self.commit, folder)  # git resolves what is not a plain path
        if self._below is None:
            below: dict[str, set[str]] = {}
            for file in [*self._all, *self._others]:
                names = file.split("/")
                for depth in range(len(names)):
                    below.setdefault("/".join(names[:depth]), set()).add(names[depth])
            self._below = {name: sorted(children) for name, children in below.items()}
        return list(self._below.get(folder, ()))

    def files(self) -> list[str]:
        return sorted(self._listing())

    def size(self, path: str) -> int | None:
        if self._all is not None:
            entry = self._all.get(path)
            return None if entry is None else entry[1]
        found = self.repo.object_at(self.commit, path)
        return found[2] if found is not None and found[1] == "blob" else None


class OverlaySnapshot:
    """Another snapshot with some files replaced, added (bytes) or deleted (None): what a change would make,
    so a command can validate its result before committing it."""

    def __init__(self, below: Snapshot, changes: dict[str, bytes | None]) -> None:
        self.below = below
        self.changes = dict(changes)
        self.label = f"{below.label}+change"

    def read(self, path: str) -> bytes | None:
        return self.changes[path] if path in self.changes else self.below.read(path)

    def prefetch(self, paths: list[str]) -> None:
        self.below.prefetch([p for p in paths if p not in self.changes])

    def listdir(self, path: str) -> list[str]:
        names = set(self.below.listdir(path))
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        for changed, data in self.changes.items():
            if changed.startswith(prefix):
                name = changed[len(prefix) :].split("/")[0]
                if data is not None:
                    names.add(name)
                elif "/" not in changed[len(prefix) :]:
                    names.discard(name)
        return sorted(names)

    def files(self) -> list[str]:
        files = set(self.below.files())
        for path, data in self.changes.items():
            (files.add if data is not None else files.discard)(path)
        return sorted(files)

    def size(self, path: str) -> int | None:
        if path in self.changes:
            data = self.changes[path]
            return None if data is None else len(data)
        return self.below.size(path)


class MemorySnapshot(_IndexedSnapshot):
    """Files held in memory: {path: bytes}."""

    def __init__(self, files: dict[str, bytes], label: str = "memory") -> None:
        self._data = dict(files)
        self.label = label
        super().__init__(list(files))

    def read(self, path: str) -> bytes | None:
        return self._data.get(path)

    def prefetch(self, paths: list[str]) -> None:
        pass

    def size(self, path: str) -> int | None:
        data = self._data.get(path)
        return None if data is None else len(data)
