"""A read-only view of a registry's files: the working tree of a checkout, or the tree of one commit.

Reading a registry never walks history: a commit snapshot lists one tree (one ``git ls-tree``) and reads
only the files asked for, so cost follows what is read, not how many commits or versions there are."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gitreg.gitrepo import GitRepo

#: The parts of a registry repository that gitreg reads.
REGISTRY_PATHS = ("registry.yaml", "models", "stages")


class Snapshot(Protocol):
    label: str

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None if there is no such file."""
        ...

    def listdir(self, path: str) -> list[str]:
        """Names of the files and folders directly below ``path`` (empty if it is not a folder)."""
        ...


class WorkTreeSnapshot:
    """Files on disk in a checkout: what pre-commit sees (the index, with unstaged work stashed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = "working tree"

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(p.name for p in (self.root / path).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []


class CommitSnapshot:
    """Files as they are in one commit's tree."""

    def __init__(self, repo: GitRepo, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        self.label = commit[:12]
        self.files = repo.ls_tree(commit, REGISTRY_PATHS)
        self._children: dict[str, set[str]] = {}
        for file in self.files:
            parts = file.split("/")
            for depth in range(len(parts)):
                self._children.setdefault("/".join(parts[:depth]), set()).add(parts[depth])

    def read(self, path: str) -> bytes | None:
        sha = self.files.get(path)
        return None if sha is None else self.repo.read_blob(sha)

    def listdir(self, path: str) -> list[str]:
        return sorted(self._children.get(path.strip("/"), ()))
