"""Git for the read path, without GitPython: find a repository with one ``git rev-parse``, and read files
of a commit through one persistent ``git cat-file --batch`` process. A member of the git module family
(with ``gitrepo``, ``gitcommit`` and ``gitoutput``): `gitreg show`, `list` and `pull` start no other git.

GitPython costs a read more than the read itself (its import, and two ``git version`` runs at start-up);
``GitRepo`` stays the home of everything else git does."""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import GitError, NotFoundError


@dataclass(frozen=True)
class Location:
    """Where a repository is: its git folder, and its working tree (None for a bare repository)."""

    git_dir: Path
    workdir: Path | None


def locate(path: Path) -> Location:
    """The repository that contains ``path`` (searching its parents, as git does); NotFoundError if none."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-cdup"],
            cwd=path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        done = None
    if done is None or done.returncode != 0:
        raise NotFoundError(
            f"{path} is not inside a git repository", "run gitreg inside a registry checkout, or pass -C DIR"
        )
    bare, git_dir, *rest = [*done.stdout.splitlines(), ""]
    if bare == "true":
        return Location(Path(git_dir), None)
    return Location(Path(git_dir), Path(os.path.normpath(Path(path).absolute() / rest[0])))


class CatFile:
    """Objects of one repository through one ``git cat-file --batch`` process, started on first use.

    Implements what ``gitreg.snapshot.CommitSnapshot`` asks of a repository."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._process: subprocess.Popen[bytes] | None = None

    def _request(self, name: str) -> tuple[str, str, bytes] | None:
        """(sha, type, content) of the object ``name`` (``<commit>:<path>``, a ref, a sha), or None."""
        if "\n" in name:
            return None
        if self._process is None:
            self._process = subprocess.Popen(
                ["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        process = self._process
        if process.stdin is None or process.stdout is None:  # pragma: no cover - both are pipes
            raise GitError("git cat-file has no pipes")
        try:
            process.stdin.write(name.encode() + b"\n")
            process.stdin.flush()
            header = process.stdout.readline().split()
            if len(header) != 3:
                if not header:
                    raise OSError("no answer")
                return None  # "<name> missing" or "<name> ambiguous"
            size = int(header[2])
            data = process.stdout.read(size + 1)[:size]
        except (OSError, ValueError) as exc:
            self.close()
            raise GitError(f"git cat-file failed reading {name}: {exc}") from None
        if len(data) != size:
            self.close()
            raise GitError(f"git cat-file failed reading {name}: the object was cut short")
        return header[0].decode(), header[1].decode(), data

    def close(self) -> None:
        if self._process is not None:
            process, self._process = self._process, None
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
            process.wait(timeout=60)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # a finaliser must not raise
            self.close()

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None if it names none."""
        found = self._request(f"{ref}^{{commit}}")
        return found[0] if found is not None and found[1] == "commit" else None

    def read_path(self, commit: str, path: str) -> bytes | None:
        found = self._request(f"{commit}:{path}")
        return found[2] if found is not None and found[1] == "blob" else None

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None:
        found = self._request(f"{commit}:{path}")
        return None if found is None else (found[0], found[1], len(found[2]))

    def tree_names(self, commit: str, path: str) -> list[str]:
        found = self._request(f"{commit}:{path}")
        if found is None or found[1] != "tree":
            return []
        return sorted(name for name, _sha in _tree_entries(found[2]))

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Many blobs in one ``git cat-file --batch`` run, every request written at once."""
        if not shas:
            return {}
        done = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
            input="".join(f"{sha}\n" for sha in shas).encode(),
            capture_output=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise GitError(f"git cat-file failed: {done.stderr.decode(errors='replace').strip()}")
        out, pos, blobs = done.stdout, 0, {}
        for sha in shas:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 3:
                size = int(header[2])
                if header[1] == b"blob":
                    blobs[sha] = out[pos : pos + size]
                pos += size + 1
        return blobs

    def ls_tree_sizes(self, commit: str) -> dict[str, tuple[str, int]]:
        """{path: (blob sha, size)} of every file at ``commit``: one ``git ls-tree -r -l``."""
        done = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "ls-tree", "-r", "-l", "-z", "--full-tree", commit],
            capture_output=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise GitError(f"git ls-tree failed: {done.stderr.decode(errors='replace').strip()}")
        files = {}
        for record in done.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            _mode, kind, sha, size = meta.split()
            if kind == b"blob":
                files[path.decode(errors="surrogateescape")] = (sha.decode(), int(size))
        return files


def _tree_entries(data: bytes) -> list[tuple[str, str]]:
    """(name, sha) of each entry of a raw tree object: ``<mode> <name>\\0<20-byte sha>`` repeated."""
    entries = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        name = data[space + 1 : nul].decode(errors="surrogateescape")
        entries.append((name, data[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return entries


__all__ = ["CatFile", "Location", "locate"]
