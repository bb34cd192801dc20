"""What ``GitRepo`` reads with ``git log``: the first-parent history of a branch's paths (whole, or streamed
oldest first as git writes it, its process started ahead of time if asked) and the authors of commits. A
mixin ``GitRepo`` inherits, so every caller keeps calling ``repo.first_parent_walk(...)``; part of the git
module family."""

from __future__ import annotations

import subprocess
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path

from gitreg.errors import GitError
from gitreg.gitoutput import LOG_FORMAT, LogCommit, one_line, parse_log
from gitreg.gitrun import GitFailed, enlarge_pipe, start_git, stop_git
from gitreg.layout import DEFAULT_BRANCH, remote_branch

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

#: The size asked for a started walk's output pipe: a newest-first log fills it while the command loads.
LOG_PIPE_SIZE = 1 << 20


class LogOps:
    """``GitRepo``'s history walks. ``_walks`` holds the ``git log`` processes ``start_walk`` started and
    no walk has taken over yet; ``_stop_walks`` ends them."""

    _cwd: Path
    _env: dict[str, str]
    _walks: dict[tuple[str, tuple[str, ...], bool, bool], subprocess.Popen[bytes]]

    if TYPE_CHECKING:  # what the mixin uses of GitRepo, which defines them

        def _run(
            self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
        ) -> str: ...

        def rev_parse(self, ref: str) -> str | None: ...

    def first_parent_log(self, ref: str, paths: Iterable[str]) -> Iterator[LogCommit]:
        """The commits on ``ref``'s first-parent line that changed ``paths``, newest first, each with its
        changes against its first parent (a merge's too): one ``git log --first-parent --raw``."""
        return iter(list(self._log_stream(ref, list(paths), True))[::-1])

    def first_parent_walk(
        self, ref: str, paths: Iterable[str], full_diff: bool = False
    ) -> Iterator[LogCommit]:
        """``first_parent_log``, oldest first and streamed as git writes it (a long history is never held
        whole), from the root commit's additions on. git writes no diff: ``gitreg.stage_patches`` diffs
        the files its callers read line by line, from their blobs. ``full_diff``: each commit's changes to
        every path, not only to ``paths`` (which still choose the commits)."""
        yield from self._log_stream(ref, list(paths), True, full_diff)

    def first_parent_rewind(self, ref: str, paths: Iterable[str]) -> Iterator[LogCommit]:
        """``first_parent_walk`` newest first: git writes each commit as it walks back to it, so the walk
        starts at once (oldest first, git works the whole history out before it writes the first commit),
        and git reads the newest blobs first, as it packs them (older ones are deltas of newer ones)."""
        yield from self._log_stream(ref, list(paths), False)

    def history_branch(self, ref: str | None = None) -> str:
        """The branch whose history counts: ``ref``, else the remote's main if it was fetched, else main."""
        if ref:
            return ref
        remote = remote_branch()
        return remote if self.rev_parse(f"refs/remotes/{remote}") else DEFAULT_BRANCH

    def start_walk(
        self, ref: str, paths: Iterable[str], oldest_first: bool = True, full_diff: bool = False
    ) -> None:
        """Start the ``git log`` of ``first_parent_walk(ref, paths)`` (``first_parent_rewind`` if not
        ``oldest_first``) now, for that walk to take over: git works the whole history out before it writes
        the oldest commit, so a command that starts it before loading what the walk needs waits less. One
        not taken over is stopped by ``close``."""
        key = (ref, tuple(paths), oldest_first, full_diff)
        if key not in self._walks:
            with suppress(GitFailed):  # git is not there: the walk says so
                proc = start_git(_log_argv(ref, list(paths), oldest_first, full_diff), self._cwd, self._env)
                if proc.stdout is not None:  # git writes ahead while the command loads, up to the pipe's size
                    enlarge_pipe(proc.stdout.fileno(), LOG_PIPE_SIZE)
                self._walks[key] = proc

    def _stop_walks(self) -> None:
        """Stop the walks started and not taken over."""
        walks, self._walks = list(self._walks.values()), {}
        for proc in walks:
            stop_git(proc)

    def _log_stream(
        self, ref: str, paths: list[str], oldest_first: bool, full_diff: bool = False
    ) -> Generator[LogCommit, None, None]:
        proc = self._walks.pop((ref, tuple(paths), oldest_first, full_diff), None)
        try:
            proc = proc or start_git(_log_argv(ref, paths, oldest_first, full_diff), self._cwd, self._env)
        except GitFailed as exc:  # git is not there
            raise GitError(f"git log failed: {one_line(exc)}") from None
        if proc.stdout is None or proc.stderr is None:  # pragma: no cover - start_git pipes both
            raise GitError("git log failed: it did not start")
        try:
            stdout = proc.stdout  # a buffered pipe: read1 gives what git has written, up to the size
            yield from parse_log(iter(lambda: stdout.read1(1 << 16), b""))  # type: ignore[attr-defined]
        finally:
            proc.stdout.close()
            stderr = proc.stderr.read()
            proc.stderr.close()
            code = proc.wait()
        if code != 0:
            reason = stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git log failed: {reason[-1] if reason else f'exit status {code}'}")

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


def _log_argv(ref: str, paths: list[str], oldest_first: bool, full_diff: bool = False) -> list[str]:
    """``first_parent_walk``'s git log: raw changes, oldest first (else newest first), in ``LOG_FORMAT``
    records. ``ref`` comes after ``--end-of-options``: a ref such as ``--output=FILE`` is a revision git
    does not know, never an option (a walk may start before the ref is checked: ``start_walk``)."""
    argv = ["git", "-c", "core.quotePath=false", "log", "--first-parent", "--root", "--raw"]
    argv += ["--reverse"] if oldest_first else []
    argv += ["--full-diff"] if full_diff else []
    argv += ["--no-abbrev", "--no-renames", "--no-textconv", "--no-ext-diff", "--no-color"]
    return [*argv, f"--format={LOG_FORMAT}", "--end-of-options", ref, "--", *paths]
