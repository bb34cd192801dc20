"""The one module that talks to git (through GitPython). It returns plain data: strings, bytes, dicts.

Commits are made with plumbing (a temporary index, ``commit-tree``, a compare-and-swap ``update-ref``), so
gitreg never disturbs the user's index or other uncommitted work, can commit to a branch that is not
checked out, and either lands the whole commit or nothing."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import git
from git.objects.fun import tree_entries_from_data
from gitdb.base import IStream  # type: ignore[import-untyped]

from gitreg.errors import ConflictError, GitError, NotFoundError

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def _one_line(exc: git.GitCommandError) -> str:
    stderr = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    lines = [ln.strip() for ln in stderr.strip().strip("'").splitlines() if ln.strip()]
    lines = [ln.removeprefix("stderr: ").strip("'").strip() for ln in lines]
    return next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else str(exc))


class GitRepo:
    """A git repository on disk, with or without a working tree."""

    def __init__(self, repo: git.Repo) -> None:
        self._repo = repo
        self.git = repo.git

    @classmethod
    def open(cls, path: Path, search_parents: bool = True) -> GitRepo:
        try:
            return cls(git.Repo(path, search_parent_directories=search_parents))
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise NotFoundError(
                f"{path} is not inside a git repository",
                "run gitreg inside a registry checkout, or pass -C DIR",
            ) from None

    @classmethod
    def init(cls, path: Path, branch: str = "main") -> GitRepo:
        try:
            repo = git.Repo.init(path, initial_branch=branch)
        except git.GitCommandError as exc:
            raise GitError(f"git init failed: {_one_line(exc)}") from None
        return cls(repo)

    @classmethod
    def init_bare(cls, path: Path) -> GitRepo:
        return cls(git.Repo.init(path, bare=True))

    @property
    def workdir(self) -> Path | None:
        wt = self._repo.working_tree_dir
        return Path(wt) if wt is not None and not self._repo.bare else None

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        try:
            out: str = self.git.execute(["git", *args], env=env)
        except git.GitCommandError as exc:
            raise GitError(f"git {args[0]} failed: {_one_line(exc)}") from None
        return out

    # --- refs -------------------------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None if it names none."""
        try:
            out: str = self.git.execute(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        except git.GitCommandError:
            return None
        return out.strip() or None

    def current_branch(self) -> str | None:
        try:
            out: str = self.git.execute(["git", "symbolic-ref", "--quiet", "--short", "HEAD"])
        except git.GitCommandError:
            return None  # detached HEAD
        return out.strip()

    def head(self) -> str | None:
        return self.rev_parse("HEAD")

    def remote_url(self, remote: str = "origin") -> str | None:
        try:
            out: str = self.git.execute(["git", "remote", "get-url", remote])
        except git.GitCommandError:
            return None
        return out.strip()

    def is_dirty(self) -> bool:
        return bool(self.run("status", "--porcelain", "--untracked-files=no").strip())

    # --- reading ----------------------------------------------------------------------------------------

    def ls_tree(self, commit: str, paths: Iterable[str] = ()) -> dict[str, str]:
        """{path: blob sha} of every file below ``paths`` (everything if empty) at ``commit``."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
        files = {}
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            _mode, kind, sha = meta.split(" ")
            if kind == "blob":
                files[path] = sha
        return files

    def ls_tree_sizes(self, commit: str) -> dict[str, tuple[str, int]]:
        """{path: (blob sha, size in bytes)} of every file at ``commit``."""
        out = self.run("ls-tree", "-r", "-l", "-z", "--full-tree", commit)
        files = {}
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            _mode, kind, sha, size = meta.split()
            if kind == "blob":
                files[path] = (sha, int(size))
        return files

    def worktree_files(self) -> list[str]:
        """Tracked files and untracked files git does not ignore, relative to the top of the working tree."""
        out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        return sorted({p for p in out.split("\0") if p})

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            out: str = self.git.execute(["git", "merge-base", a, b])
        except git.GitCommandError:
            return None
        return out.strip() or None

    def changed_files(self, base: str, commit: str | None = None) -> dict[str, str]:
        """{path: status letter (A, M, D, T)} of files that differ between ``base`` and ``commit`` (the
        working tree, untracked files included, when ``commit`` is None). Renames count as D + A."""
        args = ["diff", "--name-status", "-z", "--no-renames", base]
        if commit is not None:
            args.append(commit)
        fields = [f for f in self.run(*args).split("\0") if f]
        changes = dict(zip(fields[1::2], (s[0] for s in fields[0::2]), strict=True))
        if commit is None:
            out = self.run("ls-files", "-z", "--others", "--exclude-standard")
            changes.update({p: "A" for p in out.split("\0") if p})
        return changes

    def file_history(self, ref: str, path: str) -> list[bytes]:
        """Every version of ``path`` along ``ref``'s first-parent history, newest first."""
        out = self.run("log", "--first-parent", "--format=%H", ref, "--", path)
        contents = []
        for commit in out.split():
            sha = self.ls_tree(commit, [path]).get(path)
            if sha is not None:
                contents.append(self.read_blob(sha))
        return contents

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object at ``path`` in ``commit`` ("" for its root tree), or None."""
        if "\n" in path:
            return None
        try:
            sha, kind, size = self.git.get_object_header(f"{commit}:{path}")
        except ValueError:
            return None
        # GitPython returns bytes here despite its annotations
        return _text(sha), _text(kind), int(size)

    def read_path(self, commit: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in ``commit``, or None if there is no such file."""
        found = self.object_at(commit, path)
        if found is None or found[1] != "blob":
            return None
        return self.read_blob(found[0])

    def tree_names(self, commit: str, path: str) -> list[str]:
        """Names directly below folder ``path`` in ``commit`` (empty if it is not a folder)."""
        found = self.object_at(commit, path)
        if found is None or found[1] != "tree":
            return []
        return sorted(name for _sha, _mode, name in tree_entries_from_data(self.read_blob(found[0])))

    def read_blob(self, sha: str) -> bytes:
        try:
            data: bytes = self._repo.odb.stream(bytes.fromhex(sha)).read()
        except (ValueError, git.BadObject, git.BadName) as exc:
            raise GitError(f"cannot read git object {sha}: {exc}") from None
        return data

    def identity(self) -> Identity:
        """Who commits here: git's author identity (config or GIT_AUTHOR_* variables)."""
        try:
            ident: str = self.git.execute(["git", "var", "GIT_AUTHOR_IDENT"])
        except git.GitCommandError:
            raise GitError(
                "git does not know who you are",
                'set it with git config user.name "Your Name" and git config user.email you@example.com',
            ) from None
        name, _, rest = ident.partition(" <")
        email = rest.partition(">")[0]
        return Identity(name.strip(), email)

    # --- writing ----------------------------------------------------------------------------------------

    def commit_files(
        self,
        files: Mapping[str, bytes | None],
        message: str,
        branch: str,
        parent: str | None,
    ) -> str:
        """Commit ``files`` (path -> bytes, or None to delete) on top of ``parent`` and move ``branch`` to
        the new commit, only if it still points at ``parent`` (or does not exist, for a new branch).

        If ``branch`` is checked out, the written paths are also updated in the index and working tree;
        nothing else there is touched. Returns the new commit's sha."""
        with tempfile.TemporaryDirectory(prefix="gitreg-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent:
                self.run("read-tree", parent, env=env)
            for path, data in files.items():
                if data is None:
                    self.run("update-index", "--force-remove", "--", path, env=env)
                else:
                    sha = self._repo.odb.store(IStream(b"blob", len(data), io.BytesIO(data))).hexsha.decode()
                    self.run("update-index", "--add", "--cacheinfo", f"100644,{sha},{path}", env=env)
            tree = self.run("write-tree", env=env).strip()
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args[2:2] = ["-p", parent]
        commit = self.run(*args).strip()
        ref = f"refs/heads/{branch}"
        try:
            self.git.execute(["git", "update-ref", "-m", "gitreg", ref, commit, parent or ZERO_SHA])
        except git.GitCommandError:
            raise ConflictError(
                f"branch {branch} moved while gitreg was committing", "run the command again"
            ) from None
        if branch == self.current_branch() and self.workdir is not None:
            self._sync_worktree(files)
        return commit

    def _sync_worktree(self, files: Mapping[str, bytes | None]) -> None:
        """Bring the given paths of the index and working tree to HEAD after HEAD's branch moved."""
        if self.workdir is None:  # pragma: no cover - callers check
            return
        self.run("reset", "--quiet", "HEAD", "--", *files)
        for path, data in files.items():
            target = self.workdir / path
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

    def worktree_matches(self, path: str, commit: str) -> bool:
        """Whether ``path`` in the working tree is as at ``commit`` (both absent counts as a match)."""
        if self.workdir is None:
            return True
        target = self.workdir / path
        blob = self.ls_tree(commit, [path]).get(path)
        if not target.exists():
            return blob is None
        return blob is not None and target.read_bytes() == self.read_blob(blob)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def repo_containing(path: Path) -> GitRepo | None:
    """The git repository that contains ``path``, if any."""
    try:
        return GitRepo(git.Repo(path if path.is_dir() else path.parent, search_parent_directories=True))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
