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

from gitreg.credentials import redact, redact_url
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
    line = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else str(exc))
    return redact(line)  # git's messages (and the command line in str(exc)) may hold a URL's token


def _push_reason(exc: git.GitCommandError) -> str:
    """Why a push failed, in the remote's words: the ``[remote rejected] (reason)`` or ``[rejected]``
    status of ``git push --porcelain`` and the hook's ``remote:`` lines, else git's own error."""
    stdout = exc.stdout if isinstance(exc.stdout, str) else str(exc.stdout or "")
    stderr = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    reasons = []
    for line in stdout.replace("stdout: ", "").strip("'").splitlines():
        if line.startswith("!") and "\t" in line:
            reasons.append(line.split("\t")[-1].strip())
    remote = [
        ln.strip().strip("'").removeprefix("remote:").strip() for ln in stderr.splitlines() if "remote:" in ln
    ]
    remote = [ln for ln in remote if ln]
    parts = reasons + remote[:2]
    return "; ".join(parts) if parts else _one_line(exc).removeprefix("error: ")


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

    def dirty_paths(self, paths: Iterable[str]) -> list[str]:
        """Those of ``paths`` with uncommitted changes (staged, unstaged or untracked)."""
        out = self.run("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
        return sorted({record[3:] for record in out.split("\0") if len(record) > 3})

    def branch_exists(self, branch: str) -> bool:
        return self.rev_parse(f"refs/heads/{branch}") is not None

    def fetch(self, remote: str, branch: str) -> str | None:
        """Update ``remote``/``branch``; its commit, or None if the remote has no such branch."""
        try:
            self.git.execute(
                [
                    "git",
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    remote,
                    f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}",
                ]
            )
        except git.GitCommandError as exc:
            message = _one_line(exc)
            if "couldn't find remote ref" in message:
                return None
            raise GitError(
                f"git fetch {remote} {branch} failed: {message}", "check the remote and your access to it"
            ) from None
        return self.rev_parse(f"refs/remotes/{remote}/{branch}")

    def push(self, remote: str, branch: str) -> None:
        """Push ``branch`` to ``remote`` (same name), never forced."""
        try:
            self.git.execute(
                ["git", "push", "--quiet", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}"]
            )
        except git.GitCommandError as exc:
            raise GitError(
                f"the remote refused the push of {branch}: {_push_reason(exc)}",
                f"the branch is kept locally; fix the cause and run: git push {remote} {branch}",
            ) from None

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
        if "\n" in path:
            return None
        try:  # one request to the cat-file process: header and content together
            _sha, kind, _size, data = self.git.get_object_data(f"{commit}:{path}")
        except ValueError:
            return None
        return data if _text(kind) == "blob" else None

    def tree_names(self, commit: str, path: str) -> list[str]:
        """Names directly below folder ``path`` in ``commit`` (empty if it is not a folder)."""
        found = self.object_at(commit, path)
        if found is None or found[1] != "tree":
            return []
        return sorted(name for _sha, _mode, name in tree_entries_from_data(self.read_blob(found[0])))

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Many blobs in one ``git cat-file --batch`` run: one process and one pipe for all of them,
        rather than a request and a reply per file."""
        if not shas:
            return {}
        with tempfile.TemporaryFile() as request:
            request.write("".join(f"{sha}\n" for sha in shas).encode())
            request.seek(0)
            try:
                out: bytes = self.git.execute(
                    ["git", "cat-file", "--batch"],
                    istream=request,
                    stdout_as_string=False,
                    strip_newline_in_stdout=False,
                )
            except git.GitCommandError as exc:
                raise GitError(f"git cat-file failed: {_one_line(exc)}") from None
        blobs: dict[str, bytes] = {}
        pos = 0
        for sha in shas:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 3:
                size = int(header[2])
                blobs[sha] = out[pos : pos + size]
                pos += size + 1
        return blobs

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
        # a new branch must still not exist; an existing one must still point at the parent
        expected = parent if parent and self.rev_parse(ref) is not None else ZERO_SHA
        try:
            self.git.execute(["git", "update-ref", "-m", "gitreg", ref, commit, expected])
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

    # --- a controller's cache: one branch of a remote, fetched shallowly --------------------------------

    def fetch_branch(self, url: str, branch: str, ref: str, timeout: float | None = None) -> str:
        """Fetch the tip of ``branch`` at ``url`` with depth 1 (no tags) into the local ``ref``, forced
        (a force-pushed branch is followed); return the commit fetched."""
        argv = ["git", "fetch", "--quiet", "--depth=1", "--no-tags", "--no-write-fetch-head"]
        argv += ["--", url, f"+refs/heads/{branch}:{ref}"]
        try:
            self.git.execute(argv, kill_after_timeout=timeout)
        except git.GitCommandError as exc:
            raise GitError(f"git fetch failed: {_one_line(exc)}") from None
        commit = self.rev_parse(ref)
        if commit is None:  # pragma: no cover - the fetch succeeded, so the ref exists
            raise GitError(f"git fetch of {branch} from {redact_url(url)} wrote no {ref}")
        return commit

    def has_commit(self, sha: str) -> bool:
        """Whether the commit object ``sha`` (a full sha) is in this repository."""
        return self.rev_parse(sha) == sha

    def signature(self, commit: str, allowed_signers: Path | None = None) -> Signature:
        """How ``commit``'s signature verifies: SSH signatures against ``allowed_signers`` (git's
        gpg.ssh.allowedSignersFile), GPG ones against the user's keyring. The same check as
        ``git verify-commit``, which succeeds exactly when ``status`` is ``G``."""
        argv = ["git"]
        if allowed_signers is not None:
            argv += ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"]
        argv += ["log", "-1", "--format=%G?%x00%GS%x00%GK", commit, "--"]
        try:
            out: str = self.git.execute(argv)
        except git.GitCommandError as exc:
            raise GitError(f"git log failed: {_one_line(exc)}") from None
        status, signer, key = [*out.strip().split("\0"), "", ""][:3]
        return Signature(status or "N", signer, key)

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


@dataclass(frozen=True)
class Signature:
    """A commit's signature as git verified it: ``status`` is git's %G? letter (G good and trusted, U good
    but the key is not trusted, B bad, N none, E cannot be checked, X/Y expired, R revoked key)."""

    status: str
    signer: str
    key: str

    @property
    def good(self) -> bool:
        return self.status == "G"


def ls_remote(url: str, branch: str, timeout: float | None = None) -> str | None:
    """The commit ``branch`` points at in the repository at ``url``, or None if it has no such branch.
    Asks the remote for that one ref only: the cheapest way to learn whether anything changed."""
    ref = f"refs/heads/{branch}"
    try:
        out: str = git.Git().execute(["git", "ls-remote", "--", url, ref], kill_after_timeout=timeout)
    except git.GitCommandError as exc:
        raise GitError(f"git ls-remote failed: {_one_line(exc)}") from None
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None


def repo_containing(path: Path) -> GitRepo | None:
    """The git repository that contains ``path``, if any."""
    try:
        return GitRepo(git.Repo(path if path.is_dir() else path.parent, search_parent_directories=True))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
