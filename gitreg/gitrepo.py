"""The one place that starts git (through GitPython): named methods that return plain data (strings, bytes,
dicts, dataclasses). With ``gitoutput`` (parsing what git prints) and ``gitcommit`` (plumbing commits) it
is the git module family; no other module builds a git command line or reads git's raw output."""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
from git.objects.fun import tree_entries_from_data
from gitdb.base import IStream  # type: ignore[import-untyped]

from gitreg.credentials import redact_url
from gitreg.errors import GitError, NotFoundError
from gitreg.gitahead import BlobsAhead
from gitreg.gitlite import ls_remote
from gitreg.gitoutput import (
    LOG_FORMAT,
    SIGNATURE_FORMAT,
    LogCommit,
    Signature,
    one_line,
    parse_log,
    parse_ls_tree,
    parse_ref_tips,
    parse_signature,
    push_reason,
)
from gitreg.layout import DEFAULT_BRANCH


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class GitRepo:
    """A git repository on disk, with or without a working tree."""

    def __init__(self, repo: git.Repo) -> None:
        self._repo = repo
        self._git = repo.git
        self._batch: Any = None  # the ``cat-file --batch`` process of ``read_blobs``, once started

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
    def init(cls, path: Path, branch: str = DEFAULT_BRANCH) -> GitRepo:
        try:
            repo = git.Repo.init(path, initial_branch=branch)
        except git.GitCommandError as exc:
            raise GitError(f"git init failed: {one_line(exc)}") from None
        return cls(repo)

    @classmethod
    def init_bare(cls, path: Path) -> GitRepo:
        """A new bare repository at ``path``: ``git init`` is given the path itself (never left to find
        its folder from the working directory) and every later command the repository (``GIT_DIR``)."""
        path = path.absolute()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            git.Git(str(path.parent)).execute(["git", "init", "--quiet", "--bare", "--", str(path)])
        except (git.GitCommandError, OSError) as exc:
            reason = one_line(exc) if isinstance(exc, git.GitCommandError) else exc.strerror
            raise GitError(f"git init {path} failed: {reason}") from None
        return cls.open_bare(path)

    @classmethod
    def open_bare(cls, path: Path) -> GitRepo:
        """The bare repository at ``path``, and nothing else: git never searches the parent folders (a
        damaged repository must not lead git to an enclosing one), and runs on ``GIT_DIR=path``."""
        path = path.absolute()
        try:
            repo = git.Repo(path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError, ValueError):
            raise NotFoundError(f"{path} is not a git repository") from None
        if not repo.bare or Path(repo.git_dir).absolute() != path:
            repo.close()
            raise NotFoundError(f"{path} is not a bare git repository")
        repo.git.update_environment(GIT_DIR=str(path))
        return cls(repo)

    def close(self) -> None:
        """Stop the git processes kept running for reads (a repository about to be deleted)."""
        self._stop_blob_batch()
        self._repo.close()

    def cache_folder(self) -> Path:
        """Where gitreg keeps what it can compute again: ``gitreg/cache`` in the git folder (the common
        one, which a repository's worktrees share)."""
        return Path(self._repo.common_dir) / "gitreg" / "cache"

    @property
    def workdir(self) -> Path | None:
        wt = self._repo.working_tree_dir
        return Path(wt) if wt is not None and not self._repo.bare else None

    def _run(self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> str:
        """git's output for ``args``; a ``GitError`` quoting git's error if it fails."""
        try:
            if stdin is None:
                out: str = self._git.execute(["git", *args], env=env)
            else:
                with tempfile.TemporaryFile() as stream:
                    stream.write(stdin)
                    stream.seek(0)
                    out = self._git.execute(["git", *args], env=env, istream=stream)
        except git.GitCommandError as exc:
            raise GitError(f"git {args[0]} failed: {one_line(exc)}") from None
        return out

    # --- refs -------------------------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None if it names none."""
        try:
            out: str = self._git.execute(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        except git.GitCommandError:
            return None
        return out.strip() or None

    def rev_parse_shallow(self, ref: str) -> tuple[str | None, bool]:
        """(``rev_parse(ref)``, ``is_shallow()``) in one git process (None, False when ``ref`` names no
        commit): a history walk asks both before it starts."""
        argv = ["git", "rev-parse", "--is-shallow-repository", "--verify", "--quiet", f"{ref}^{{commit}}"]
        try:
            out: str = self._git.execute(argv)
        except git.GitCommandError:
            return None, False
        lines = out.split()
        return (lines[1] if len(lines) == 2 else None), lines[:1] == ["true"]

    def current_branch(self) -> str | None:
        try:
            out: str = self._git.execute(["git", "symbolic-ref", "--quiet", "--short", "HEAD"])
        except git.GitCommandError:
            return None  # detached HEAD
        return out.strip()

    def head(self) -> str | None:
        return self.rev_parse("HEAD")

    def remote_url(self, remote: str = "origin") -> str | None:
        try:
            out: str = self._git.execute(["git", "remote", "get-url", remote])
        except git.GitCommandError:
            return None
        return out.strip()

    def dirty_paths(self, paths: Iterable[str]) -> list[str]:
        """Those of ``paths`` with uncommitted changes (staged, unstaged or untracked)."""
        out = self._run("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
        return sorted({record[3:] for record in out.split("\0") if len(record) > 3})

    def branch_exists(self, branch: str) -> bool:
        return self.rev_parse(f"refs/heads/{branch}") is not None

    def is_valid_branch_name(self, name: str) -> bool:
        """Whether git accepts ``name`` for a new branch (``git check-ref-format --branch``)."""
        try:
            self._git.execute(["git", "check-ref-format", "--branch", name])
        except git.GitCommandError:
            return False
        return True

    def ref_tips(self, *prefixes: str) -> dict[str, str]:
        """{ref name: commit} of the refs below ``prefixes`` (a tag object's peeled commit, else the ref's
        own object)."""
        fmt = "--format=%(refname)%00%(objectname)%00%(*objectname)"
        return parse_ref_tips(self._run("for-each-ref", fmt, *prefixes))

    def is_shallow(self) -> bool:
        return self._run("rev-parse", "--is-shallow-repository").strip() == "true"

    def hooks_dir(self) -> Path:
        """The folder git runs this repository's hooks from (``core.hooksPath`` honoured)."""
        hooks = Path(self._run("rev-parse", "--git-path", "hooks").strip())
        return hooks if hooks.is_absolute() else (self.workdir or Path.cwd()) / hooks

    def fetch(self, remote: str, branch: str) -> str | None:
        """Update ``remote``/``branch``; its commit, or None if the remote has no such branch."""
        try:
            self._git.execute(
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
            message = one_line(exc)
            if "couldn't find remote ref" in message:
                return None
            raise GitError(
                f"git fetch {remote} {branch} failed: {message}", "check the remote and your access to it"
            ) from None
        return self.rev_parse(f"refs/remotes/{remote}/{branch}")

    def push(self, remote: str, branch: str) -> None:
        """Push ``branch`` to ``remote`` (same name), never forced."""
        try:
            self._git.execute(
                ["git", "push", "--quiet", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}"]
            )
        except git.GitCommandError as exc:
            raise GitError(
                f"the remote refused the push of {branch}: {push_reason(exc)}",
                f"the branch is kept locally; fix the cause and run: git push {remote} {branch}",
            ) from None

    def push_new_branch(self, url: str, branch: str) -> None:
        """Push ``branch`` to the repository at ``url`` (same name), never forced: from a scratch clone,
        so a failure is git's own error (there is no local branch to keep)."""
        self._run("push", "--quiet", url, f"refs/heads/{branch}:refs/heads/{branch}")

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
            out: str = self._git.execute(["git", "merge-base", a, b])
        except git.GitCommandError:
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

    def first_parent_log(self, ref: str, paths: Iterable[str]) -> Iterator[LogCommit]:
        """The commits on ``ref``'s first-parent line that changed ``paths``, newest first, each with its
        changes against its first parent (a merge's too): one ``git log --first-parent --raw``."""
        return iter(list(self._log_stream(ref, list(paths)))[::-1])

    def first_parent_walk(self, ref: str, paths: Iterable[str]) -> Iterator[LogCommit]:
        """``first_parent_log``, oldest first and streamed as git writes it (a long history is never held
        whole), from the root commit's additions on. git writes no diff: ``gitreg.stage_patches`` diffs
        the files its callers read line by line, from their blobs."""
        yield from self._log_stream(ref, list(paths))

    def _log_stream(self, ref: str, paths: list[str]) -> Generator[LogCommit, None, None]:
        argv = ["git", "-c", "core.quotePath=false", "log", "--first-parent", "--reverse", "--root", "--raw"]
        argv += ["--no-abbrev", "--no-renames", "--no-textconv", "--no-ext-diff", "--no-color"]
        argv += [f"--format={LOG_FORMAT}", ref, "--", *paths]
        try:
            process = self._git.execute(argv, as_process=True)
        except git.GitCommandError as exc:  # pragma: no cover - the process starts before it can fail
            raise GitError(f"git log failed: {one_line(exc)}") from None
        proc = process.proc
        if proc is None or proc.stdout is None:  # pragma: no cover - as_process gives the piped process
            raise GitError("git log failed: it did not start")
        try:
            stdout = proc.stdout  # a buffered pipe: read1 gives what git has written, up to the size
            yield from parse_log(iter(lambda: stdout.read1(1 << 16), b""))  # type: ignore[attr-defined]
        finally:
            proc.stdout.close()
            stderr = proc.stderr.read() if proc.stderr else b""
            code = proc.wait()
        if code != 0:
            reason = stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git log failed: {reason[-1] if reason else f'exit status {code}'}")

    def tree_of(self, commit: str) -> str:
        return self._run("rev-parse", f"{commit}^{{tree}}").strip()

    def merge_tree(self, base: str, head: str) -> str | None:
        """The tree merging ``head`` into ``base`` gives, or None if it conflicts."""
        try:
            return self._run("merge-tree", "--write-tree", base, head).split()[0]
        except GitError:
            return None

    def authors_of(self, commits: Iterable[str]) -> dict[str, str]:
        """{commit: "Name <email>" of its author} for many commits in one ``git log --no-walk``."""
        wanted = sorted(set(commits))
        if not wanted:
            return {}
        out = self._run(
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "--format=%H%x1f%an <%ae>",
            stdin="\n".join(wanted).encode(),
        )
        return dict(line.split("\x1f", 1) for line in out.splitlines() if "\x1f" in line)

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object at ``path`` in ``commit`` ("" for its root tree), or None."""
        if "\n" in path:
            return None
        try:
            sha, kind, size = self._git.get_object_header(f"{commit}:{path}")
        except ValueError:
            return None
        # GitPython returns bytes here despite its annotations
        return _text(sha), _text(kind), int(size)

    def read_path(self, commit: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in ``commit``, or None if there is no such file."""
        if "\n" in path:
            return None
        try:  # one request to the cat-file process: header and content together
            _sha, kind, _size, data = self._git.get_object_data(f"{commit}:{path}")
        except ValueError:
            return None
        except OSError as exc:  # the cat-file process died (a damaged object): a git error, not a crash
            self._git.clear_cache()
            raise GitError(f"git cat-file failed reading {path} at {commit[:12]}: {exc}") from None
        return data if _text(kind) == "blob" else None

    def tree_names(self, commit: str, path: str) -> list[str]:
        """Names directly below folder ``path`` in ``commit`` (empty if it is not a folder)."""
        found = self.object_at(commit, path)
        if found is None or found[1] != "tree":
            return []
        return sorted(name for _sha, _mode, name in tree_entries_from_data(self.read_blob(found[0])))

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Many blobs through one ``git cat-file --batch`` process kept for the repository's life:
        requests written a chunk at a time and their replies read back, rather than a request and a
        reply per file, or a process per call."""
        blobs: dict[str, bytes] = {}
        for start in range(0, len(shas), _BATCH_CHUNK):
            chunk = shas[start : start + _BATCH_CHUNK]
            process = self._blob_batch()
            try:
                # a chunk's requests fit in the pipe while git writes its replies, so this never blocks
                process.stdin.write("".join(f"{sha}\n" for sha in chunk).encode())
                process.stdin.flush()
                for sha in chunk:
                    header = process.stdout.readline().split()
                    if len(header) == 3:
                        size = int(header[2])
                        blobs[sha] = _read_exactly(process.stdout, size)
                        process.stdout.read(1)  # the newline after the contents
                    elif len(header) != 2:
                        raise OSError("git cat-file stopped")
            except (OSError, ValueError) as exc:
                self._stop_blob_batch()
                raise GitError(f"git cat-file failed: {exc}") from None
        return blobs

    def _blob_batch(self) -> Any:
        if self._batch is None:
            argv = ["git", "cat-file", "--batch"]
            self._batch = self._git.execute(argv, as_process=True, istream=subprocess.PIPE)
        return self._batch.proc

    def _stop_blob_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None and batch.proc is not None:
            with suppress(OSError):
                batch.proc.stdin.close()
            with suppress(OSError, subprocess.TimeoutExpired):
                batch.proc.kill()
                batch.proc.wait(timeout=10)

    def blobs_ahead(self) -> BlobsAhead:
        """A reader of blobs ahead of a walk, with a ``cat-file`` process of its own (``gitreg.gitahead``)."""
        return BlobsAhead(Path(self._repo.git_dir))

    def read_blob(self, sha: str) -> bytes:
        try:
            data: bytes = self._repo.odb.stream(bytes.fromhex(sha)).read()
        except (ValueError, git.BadObject, git.BadName) as exc:
            raise GitError(f"cannot read git object {sha}: {exc}") from None
        return data

    def identity(self) -> Identity:
        """Who commits here: git's author identity (config or GIT_AUTHOR_* variables)."""
        try:
            ident: str = self._git.execute(["git", "var", "GIT_AUTHOR_IDENT"])
        except git.GitCommandError:
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
        return str(self._repo.odb.store(IStream(b"blob", len(data), io.BytesIO(data))).hexsha.decode())

    # --- a controller's cache: one branch of a remote, fetched shallowly --------------------------------

    def fetch_branch(self, url: str, branch: str, ref: str, timeout: float | None = None) -> str:
        """Fetch the tip of ``branch`` at ``url`` into the local ``ref``: see ``fetch_shallow``."""
        return self.fetch_shallow(url, f"refs/heads/{branch}", ref, timeout)

    def fetch_shallow(self, url: str, source: str, ref: str, timeout: float | None = None) -> str:
        """Fetch ``source`` (a ref or ``HEAD``) at ``url`` with depth 1 (no tags) into the local ``ref``,
        forced (a force-pushed branch is followed); return the commit fetched."""
        return self._fetch(url, "--depth=1", source, ref, timeout)

    def deepen(self, url: str, branch: str, ref: str, by: int, timeout: float | None = None) -> str:
        """Fetch ``by`` more commits of ``branch``'s history below the shallow boundary; the tip fetched."""
        return self._fetch(url, f"--deepen={by}", f"refs/heads/{branch}", ref, timeout)

    def _fetch(self, url: str, depth: str, source: str, ref: str, timeout: float | None) -> str:
        argv = ["git", "fetch", "--quiet", depth, "--no-tags", "--no-write-fetch-head"]
        argv += ["--", url, f"+{source}:{ref}"]
        try:
            self._git.execute(argv, kill_after_timeout=timeout)
        except git.GitCommandError as exc:
            raise GitError(f"git fetch failed: {one_line(exc)}") from None
        commit = self.rev_parse(ref)
        if commit is None:  # pragma: no cover - the fetch succeeded, so the ref exists
            raise GitError(f"git fetch of {source} from {redact_url(url)} wrote no {ref}")
        return commit

    def history(self, commit: str) -> tuple[set[str], bool]:
        """The commits of ``commit``'s history present here, and whether that is all of it (no shallow
        boundary cut it short)."""
        commits = set(self._run("rev-list", commit).split())
        try:
            shallow = set((Path(self._repo.git_dir) / "shallow").read_text().split())
        except FileNotFoundError:
            shallow = set()
        return commits, not commits & shallow

    def intact(self, commit: str) -> bool:
        """Whether every object held here is whole and ``commit``'s history and files are all there
        (``git fsck``: it reads everything, so only for a small repository such as a controller's cache)."""
        try:
            self._git.execute(["git", "fsck", "--no-dangling", "--no-progress", "--no-reflogs", commit])
        except git.GitCommandError:
            return False
        return True

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
        argv += ["log", "-1", f"--format={SIGNATURE_FORMAT}", commit, "--"]
        try:
            out: str = self._git.execute(argv)
        except git.GitCommandError as exc:
            raise GitError(f"git log failed: {one_line(exc)}") from None
        return parse_signature(out)

    def worktree_matches(self, path: str, commit: str) -> bool:
        """Whether ``path`` in the working tree is as at ``commit`` (both absent counts as a match)."""
        if self.workdir is None:
            return True
        target = self.workdir / path
        blob = self.ls_tree(commit, [path]).get(path)
        if not target.exists():
            return blob is None
        return blob is not None and target.read_bytes() == self.read_blob(blob)


#: Requests written to ``cat-file --batch`` before their replies are read (41 bytes each: well under a pipe).
_BATCH_CHUNK = 256


def _read_exactly(stream: Any, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = stream.read(left)
        if not part:
            raise OSError("git cat-file stopped")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def repo_containing(path: Path) -> GitRepo | None:
    """The git repository that contains ``path``, if any."""
    try:
        return GitRepo(git.Repo(path if path.is_dir() else path.parent, search_parent_directories=True))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


__all__ = ["GitRepo", "Identity", "LogCommit", "Signature", "ls_remote", "repo_containing"]
