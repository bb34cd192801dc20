"""The one place that starts git: named methods that return plain data (strings, bytes, dicts, values).
With ``gitrun`` (the subprocess runner), ``gitlite`` (finding a repository, reading objects through
``cat-file``), ``gitoutput`` (parsing what git prints), ``gitcommit`` (plumbing commits), ``gitlog`` (history
walks) and ``gitremote`` (fetch, push, a controller's cache) it is the git module family; no other module
builds a git command line or reads git's raw output. No GitPython: its import costs more than most
commands' work, and its start-up runs ``git version``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path

from gitreg.errors import GitError, NotFoundError
from gitreg.gitahead import BlobsAhead
from gitreg.gitlite import LiteRepo, locate, ls_remote
from gitreg.gitlog import LogOps
from gitreg.gitoutput import LogCommit, Signature, one_line, parse_ls_tree, parse_ref_tips
from gitreg.gitremote import RemoteOps
from gitreg.gitrun import GitFailed, finish_git, run_git, start_git, stop_git
from gitreg.gittrees import TreeChanges
from gitreg.layout import DEFAULT_BRANCH
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    import subprocess


class Identity(Frozen):
    """Who commits: a name and an email, shown as git shows them."""

    __match_args__ = ("name", "email")
    __slots__ = __match_args__
    name: str
    email: str

    def __init__(self, name: str, email: str) -> None:
        set_fields(self, name, email)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class GitRepo(LogOps, RemoteOps):
    """A git repository on disk, with or without a working tree. git runs in its working tree (in its git
    folder when it has none), as ``git`` would from there; ``env`` is added to every command's."""

    def __init__(self, git_dir: Path, workdir: Path | None, env: Mapping[str, str] | None = None) -> None:
        self.git_dir = git_dir
        self._workdir = workdir
        self._cwd = workdir or git_dir
        self._env: dict[str, str] = dict(env or {})
        #: objects are read through its ``cat-file --batch`` processes, started on first use
        self._objects = LiteRepo(git_dir, workdir)
        self._walks = {}  # see start_walk
        self._ahead: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}  # see prefetch

    @classmethod
    def open(cls, path: Path, search_parents: bool = True) -> GitRepo:
        found = locate(path, search_parents)  # NotFoundError: "... is not inside a git repository"
        return cls(found.git_dir, found.workdir)

    @classmethod
    def init(cls, path: Path, branch: str = DEFAULT_BRANCH) -> GitRepo:
        if not path.exists():
            path.mkdir(0o755, parents=True)
        try:
            run_git(["git", "init", f"--initial-branch={branch}"], path)
        except GitFailed as exc:
            raise GitError(f"git init failed: {one_line(exc)}") from None
        return cls.open(path, search_parents=False)

    @classmethod
    def init_bare(cls, path: Path) -> GitRepo:
        """A new bare repository at ``path``: ``git init`` is given the path itself (never left to find
        its folder from the working directory) and every later command the repository (``GIT_DIR``)."""
        path = path.absolute()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            run_git(["git", "init", "--quiet", "--bare", "--", str(path)], path.parent)
        except (GitFailed, OSError) as exc:
            reason = one_line(exc) if isinstance(exc, GitFailed) else exc.strerror
            raise GitError(f"git init {path} failed: {reason}") from None
        return cls.open_bare(path)

    @classmethod
    def open_bare(cls, path: Path) -> GitRepo:
        """The bare repository at ``path``, and nothing else: git never searches the parent folders (a
        damaged repository must not lead git to an enclosing one), and runs on ``GIT_DIR=path``."""
        path = path.absolute()
        try:
            found = locate(path, search_parents=False)
        except NotFoundError:
            raise NotFoundError(f"{path} is not a git repository") from None
        if found.workdir is not None or not _same_folder(found.git_dir, path):
            raise NotFoundError(f"{path} is not a bare git repository")
        return cls(path, None, {"GIT_DIR": str(path)})

    def close(self) -> None:
        """Stop the git processes kept running for reads (a repository about to be deleted), and the walks
        started and not taken over."""
        self._objects.close()
        self._stop_walks()
        started, self._ahead = list(self._ahead.values()), {}
        for proc in started:
            stop_git(proc)

    def cache_folder(self) -> Path:
        """Where gitreg keeps what it can compute again: ``gitreg/cache`` in the git folder (the common
        one, which a repository's worktrees share)."""
        return self._common_dir() / "gitreg" / "cache"

    def _common_dir(self) -> Path:
        """The git folder a linked worktree shares with the main one (named by its ``commondir`` file), else
        its own."""
        try:
            named = (self.git_dir / "commondir").read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
            return self.git_dir
        return Path(os.path.normpath(self.git_dir / named)) if named else self.git_dir

    @property
    def workdir(self) -> Path | None:
        return self._workdir

    def _output(
        self,
        args: list[str],
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> str:
        """``git args``'s output less one trailing newline; ``GitFailed`` if it fails."""
        started = self._ahead.pop(tuple(args), None) if not (env or stdin or timeout) else None
        if started is not None:
            return finish_git(started, ["git", *args])
        env = {**self._env, **env} if env else self._env
        return run_git(["git", *args], self._cwd, env, stdin, timeout)

    def prefetch(self, *args: str) -> None:
        """Start ``git ARGS`` now, for the next read of exactly those arguments (no input, no other
        environment) to take its answer: a command that knows what it will ask git lets git answer while it
        loads. One not taken is stopped by ``close``."""
        if args not in self._ahead:
            with suppress(GitFailed):  # git is not there: the read says so
                self._ahead[args] = start_git(["git", *args], self._cwd, self._env)

    def _run(self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> str:
        """git's output for ``args``; a ``GitError`` quoting git's error if it fails."""
        try:
            return self._output(list(args), env, stdin)
        except GitFailed as exc:
            raise GitError(f"git {args[0]} failed: {one_line(exc)}") from None

    # --- refs -------------------------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None if it names none."""
        try:
            out: str = self._output(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        except GitFailed:
            return None
        return out.strip() or None

    def rev_parse_shallow(self, ref: str) -> tuple[str | None, bool]:
        """(``rev_parse(ref)``, ``is_shallow()``) in one git process (None, False when ``ref`` names no
        commit): a history walk asks both before it starts."""
        try:
            out: str = self._output(list(_shallow_argv(ref)))
        except GitFailed:
            return None, False
        lines = out.split()
        return (lines[1] if len(lines) == 2 else None), lines[:1] == ["true"]

    def current_branch(self) -> str | None:
        try:
            out: str = self._output(["symbolic-ref", "--quiet", "--short", "HEAD"])
        except GitFailed:
            return None  # detached HEAD
        return out.strip()

    def head(self) -> str | None:
        return self.rev_parse("HEAD")

    def dirty_paths(self, paths: Iterable[str]) -> list[str]:
        """Those of ``paths`` with uncommitted changes (staged, unstaged or untracked)."""
        out = self._run("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
        return sorted({record[3:] for record in out.split("\0") if len(record) > 3})

    def branch_exists(self, branch: str) -> bool:
        return self.rev_parse(f"refs/heads/{branch}") is not None

    def is_valid_branch_name(self, name: str) -> bool:
        """Whether git accepts ``name`` for a new branch (``git check-ref-format --branch``)."""
        try:
            self._output(["check-ref-format", "--branch", name])
        except GitFailed:
            return False
        return True

    def ref_tips(self, *prefixes: str) -> dict[str, str]:
        """{ref name: commit} of the refs below ``prefixes`` (a tag object's peeled commit, else the ref's
        own object)."""
        return parse_ref_tips(self._run(*_tips_argv(prefixes)))

    def prefetch_history_checks(self, ref: str, pull_refs: Iterable[str]) -> None:
        """``prefetch`` what a history walk of ``ref`` asks before it starts: ``rev_parse_shallow(ref)``
        and ``ref_tips(*pull_refs)`` (the forge's pull-request refs)."""
        self.prefetch(*_shallow_argv(ref))
        self.prefetch(*_tips_argv(tuple(pull_refs)))

    def is_shallow(self) -> bool:
        return self._run("rev-parse", "--is-shallow-repository").strip() == "true"

    def hooks_dir(self) -> Path:
        """The folder git runs this repository's hooks from (``core.hooksPath`` honoured)."""
        hooks = Path(self._run("rev-parse", "--git-path", "hooks").strip())
        return hooks if hooks.is_absolute() else (self.workdir or Path.cwd()) / hooks

    # --- reading ----------------------------------------------------------------------------------------

    def ls_tree(self, commit: str, paths: Iterable[str] = ()) -> dict[str, str]:
        """{path: blob sha} of every file below ``paths`` (everything if empty) at ``commit``."""
        out = self._run("ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
        return {path: sha for path, (sha, _size) in parse_ls_tree(out).items()}

    def ls_tree_sizes(self, commit: str, others: dict[str, str] | None = None) -> dict[str, tuple[str, int]]:
        """{path: (blob sha, size in bytes)} of every file at ``commit``.
        Entries that are not blobs go into ``others`` ({path: type}), if given."""
        return parse_ls_tree(
            self._run("ls-tree", "-r", "-l", "-z", "--full-tree", commit), sizes=True, others=others
        )

    def worktree_files(self) -> list[str]:
        """Tracked files and untracked files git does not ignore, relative to the top of the working tree."""
        out = self._run("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        return sorted({p for p in out.split("\0") if p})

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            out: str = self._output(["merge-base", a, b])
        except GitFailed:
            return None
        return out.strip() or None

    def changed_files(self, base: str, commit: str | None = None) -> dict[str, str]:
        """{path: status letter (A, M, D, T)} of files that differ between ``base`` and ``commit`` (the
        working tree, untracked files included, when ``commit`` is None). Renames count as D + A."""
        args = ["diff", "--name-status", "-z", "--no-renames", base]
        if commit is not None:
            args.append(commit)
        fields = [f for f in self._run(*args).split("\0") if f]
        changes = dict(zip(fields[1::2], (s[0] for s in fields[0::2]), strict=True))
        if commit is None:
            out = self._run("ls-files", "-z", "--others", "--exclude-standard")
            changes.update({p: "A" for p in out.split("\0") if p})
        return changes

    def tree_of(self, commit: str) -> str:
        return self._run("rev-parse", f"{commit}^{{tree}}").strip()

    def merge_tree(self, base: str, head: str) -> str | None:
        """The tree merging ``head`` into ``base`` gives, or None if it conflicts."""
        try:
            return self._run("merge-tree", "--write-tree", base, head).split()[0]
        except GitError:
            return None

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object at ``path`` in ``commit`` ("" for its root tree), or None."""
        return self._objects.object_at(commit, path)

    def read_path(self, commit: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in ``commit``, or None if there is no such file."""
        return self._objects.read_path(commit, path)

    def tree_names(self, commit: str, path: str) -> list[str]:
        """Names directly below folder ``path`` in ``commit`` (empty if it is not a folder)."""
        return self._objects.tree_names(commit, path)

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Many blobs through one ``git cat-file --batch`` process kept for the repository's life (see
        ``LiteRepo.read_blobs``); a missing one is left out."""
        return self._objects.read_blobs(shas)

    def blobs_ahead(self) -> BlobsAhead:
        """A reader of blobs ahead of a walk, with a ``cat-file`` process of its own (``gitreg.gitahead``)."""
        return BlobsAhead(self.git_dir)

    def tree_changes(self, paths: list[str]) -> TreeChanges:
        """The changes below ``paths`` between the commits of a walk, asked ahead (``gitreg.gittrees``)."""
        return TreeChanges(self.git_dir, paths)

    def read_blob(self, sha: str) -> bytes:
        """The content of the object ``sha`` (a blob's bytes; a tree's raw entries)."""
        try:
            name = bytes.fromhex(sha).hex()
        except ValueError as exc:
            raise GitError(f"cannot read git object {sha}: {exc}") from None
        found = self._objects.read_object(name) if name else None
        if found is None:
            raise GitError(f"cannot read git object {sha}: git has no such object")
        return found

    def identity(self) -> Identity:
        """Who commits here: git's author identity (config or GIT_AUTHOR_* variables)."""
        try:
            ident: str = self._output(["var", "GIT_AUTHOR_IDENT"])
        except GitFailed:
            raise GitError(
                "git does not know who you are",
                'set it with git config user.name "Your Name" and git config user.email you@example.com',
            ) from None
        name, _, rest = ident.partition(" <")
        email = rest.partition(">")[0]
        return Identity(name.strip(), email)

    # --- writing ----------------------------------------------------------------------------------------

    def commit_all(self, message: str) -> None:
        """Commit everything in the working tree (hooks skipped): a new repository's first commit."""
        self._run("add", "--all")
        self._run("commit", "--quiet", "--no-verify", "-m", message)

    def write_index_tree(self) -> str:
        """The tree of what is staged for the next commit (written to the object store)."""
        return self._run("write-tree").strip()

    def commit_files(
        self,
        files: Mapping[str, bytes | None],
        message: str,
        branch: str,
        parent: str | None,
    ) -> str:
        """Commit ``files`` (path -> bytes, or None to delete) on top of ``parent`` and move ``branch`` to
        the new commit, only if it still points at ``parent``: see ``gitreg.gitcommit``."""
        from gitreg.gitcommit import commit_files  # noqa: PLC0415 - the two modules are one family

        return commit_files(self, files, message, branch, parent)

    def store_blob(self, data: bytes) -> str:
        """Write ``data`` to the object store as a blob; its sha."""
        return self._run("hash-object", "-w", "--stdin", stdin=data).strip()

    def worktree_matches(self, path: str, commit: str) -> bool:
        """Whether ``path`` in the working tree is as at ``commit`` (both absent counts as a match)."""
        if self.workdir is None:
            return True
        target = self.workdir / path
        blob = self.ls_tree(commit, [path]).get(path)
        if not target.exists():
            return blob is None
        return blob is not None and target.read_bytes() == self.read_blob(blob)


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def repo_containing(path: Path) -> GitRepo | None:
    """The git repository that contains ``path``, if any."""
    try:
        return GitRepo.open(path if path.is_dir() else path.parent)
    except NotFoundError:
        return None


def _shallow_argv(ref: str) -> tuple[str, ...]:
    return ("rev-parse", "--is-shallow-repository", "--verify", "--quiet", f"{ref}^{{commit}}")


def _tips_argv(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return ("for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)", *prefixes)


__all__ = ["GitRepo", "Identity", "LogCommit", "Signature", "ls_remote", "repo_containing"]
