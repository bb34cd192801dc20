"""Finding the repository that contains a folder, as git finds it (``GIT_DIR``, ``GIT_CEILING_DIRECTORIES``,
``safe.directory``, ``core.worktree``, a linked worktree's ``.git`` file: git's rules, not a copy of them):
one ``git rev-parse``, started with os.posix_spawnp rather than subprocess, whose import (with the
threading, selectors and locale it loads) costs about 4 ms a process, a tenth of ``gitreg list``. A command
can start it first and let it run while it imports what it needs (``LocateAhead``). Part of the git module
family with ``gitlite``, which re-exports ``locate``."""

from __future__ import annotations

import os
from pathlib import Path

from gitreg.errors import GitError, NotFoundError
from gitreg.values import Frozen, set_fields

_HINT = "run gitreg inside a registry checkout, or pass -C DIR"


class Location(Frozen):
    """Where a repository is: its git folder, and its working tree (None for a bare repository)."""

    __match_args__ = ("git_dir", "workdir")
    __slots__ = __match_args__
    git_dir: Path
    workdir: Path | None

    def __init__(self, git_dir: Path, workdir: Path | None) -> None:
        set_fields(self, git_dir, workdir)


def locate(path: Path, search_parents: bool = True) -> Location:
    """The repository that contains ``path`` (searching its parents, as git does, unless not
    ``search_parents``: then ``path`` must be the top of a working tree or a git folder); NotFoundError if
    none. git's answer, from the ``git rev-parse`` a ``LocateAhead`` block started for ``path`` if any."""
    discovery = _AHEAD.pop(_ahead_key(path), None) if search_parents and _AHEAD else None
    if discovery is None or discovery.env != dict(os.environ):
        discovery = _Discovery(path, search_parents)
    return discovery.answer()


class LocateAhead:
    """``with LocateAhead(path): ...``: git starts finding the repository that contains ``path`` at once and
    runs while the block goes on (a command importing what it needs); ``locate(path)`` in the block, from the
    same working folder with the same environment, then takes that answer instead of starting git again.
    Leaving the block ends git if nothing asked it."""

    def __init__(self, path: Path) -> None:
        self.key = _ahead_key(path)
        self.discovery = _Discovery(path, True) if self.key is not None else None

    def __enter__(self) -> LocateAhead:
        if self.discovery is not None:
            _AHEAD[self.key] = self.discovery
        return self

    def __exit__(self, *exc: object) -> None:
        if self.discovery is not None:
            if _AHEAD.get(self.key) is self.discovery:
                del _AHEAD[self.key]
            self.discovery.close()


#: The discoveries LocateAhead blocks started, by (path as given, working folder): taken once by locate.
_AHEAD: dict[tuple[str, str] | None, _Discovery] = {}


def _ahead_key(path: Path) -> tuple[str, str] | None:
    try:
        return os.fspath(path), os.getcwd()  # noqa: PTH109 - a string, as the key is
    except OSError:  # the working folder is gone: nothing ahead, git says what it finds
        return None


#: What git is asked to find a repository: its kind, its git folder and the way up to its working tree.
_REV_PARSE = ("rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-cdup")
#: Seconds git may take to find a repository (a hung network file system) before it is ended.
_DISCOVERY_TIMEOUT = 60.0


class _Discovery:
    """``git -C PATH rev-parse ...`` started with os.posix_spawnp, which needs neither subprocess (with the
    modules it loads, about 4 ms a process: a tenth of `gitreg list`) nor a wait for git; ``answer()``
    reads what git said."""

    def __init__(self, path: Path, search_parents: bool) -> None:
        import time  # noqa: PLC0415 - built in

        self.path = path
        self.env = dict(os.environ)
        if not search_parents:  # git looks at the folder itself, but never goes up into its parent
            self.env["GIT_CEILING_DIRECTORIES"] = str(Path(path).absolute().parent)
        self.deadline = time.monotonic() + _DISCOVERY_TIMEOUT
        self.pid: int | None = None
        self.out: int | None = None
        read_end, write_end = os.pipe()
        try:
            self.pid = os.posix_spawnp(
                "git",
                ["git", "-C", os.fspath(path), *_REV_PARSE],
                self.env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
            )
        except BaseException as exc:
            os.close(read_end)
            if not isinstance(exc, FileNotFoundError | PermissionError):  # else: no git to run, none found
                raise
        else:
            self.out = read_end
        finally:
            os.close(write_end)

    def answer(self) -> Location:
        """Where the repository is, as git says; NotFoundError if git found none (or could not run)."""
        try:
            status, out = self._output()
        finally:
            self.close()
        if status != 0:
            raise NotFoundError(f"{self.path} is not inside a git repository", _HINT)
        bare, git_dir, cdup = [*(os.fsdecode(line) for line in out.split(b"\n")), "", ""][:3]
        if bare == "true":
            return Location(Path(git_dir), None)
        return Location(Path(git_dir), Path(os.path.normpath(Path(self.path).absolute() / cdup)))

    def _output(self) -> tuple[int | None, bytes]:
        """git's exit status (None if it did not run) and its output."""
        import select  # noqa: PLC0415 - built in
        import time  # noqa: PLC0415

        if self.out is None or self.pid is None:
            return None, b""
        chunks, waiting = [], select.poll()
        waiting.register(self.out, select.POLLIN)
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0 or not waiting.poll(left * 1000):
                raise GitError(f"git rev-parse did not answer in {_DISCOVERY_TIMEOUT:g} seconds")
            chunk = os.read(self.out, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        pid, self.pid = self.pid, None
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), b"".join(chunks)

    def close(self) -> None:
        """Stop git if it still runs, and let it go."""
        out, self.out = self.out, None
        if out is not None:
            os.close(out)
        pid, self.pid = self.pid, None
        if pid is not None and os.waitpid(pid, os.WNOHANG)[0] == 0:  # still running: not asked, or no answer
            import signal  # noqa: PLC0415 - only then

            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


__all__ = ["LocateAhead", "Location", "locate"]
