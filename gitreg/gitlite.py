"""git in its lightest form, for what runs on every read, every commit and every poll: `gitreg show`, `list`,
`pull` and the pre-commit hook find their repository with one ``git rev-parse`` and read objects through one
persistent ``git cat-file --batch`` process (plus ``--batch-check`` for headers), with a few plain ``git``
calls for the index; a controller's poll is one ``git ls-remote`` (``ls_remote``). (GitPython, which gitreg
used before, cost more to import than such a command's whole work.) Part of the git module
family with ``gitrepo``: the same named methods a ``CommitSnapshot`` calls, raising the same errors;
``GitRepo`` reads objects through a ``LiteRepo`` and stays the home of everything else git does."""

from __future__ import annotations

import os
from pathlib import Path

from gitreg.errors import GitError
from gitreg.gitfind import LocateAhead, Location, locate

# subprocess (with the threading, signal, selectors and locale it loads: about 4 ms a process, a tenth of
# `gitreg list`), the git output parsers and contextlib are imported where they are used: finding the
# repository, all that `show` and `list` ask of git, needs none of them (gitreg.gitfind).
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    import subprocess
    from types import TracebackType
    from typing import IO


class LiteRepo:
    """One repository read through the ``git`` command: objects through ``cat-file`` processes started on
    first use, the index and refs through plain calls. Use it as a context manager, or ``close()`` it."""

    def __init__(self, git_dir: Path, workdir: Path | None = None) -> None:
        self.git_dir = git_dir
        self.workdir = workdir
        #: the ``cat-file --batch`` (contents) and ``--batch-check`` (headers only) processes, once started
        self._batches: dict[str, subprocess.Popen[bytes]] = {}

    @classmethod
    def open(cls, path: Path) -> LiteRepo:
        """The repository that contains ``path``."""
        found = locate(path)
        return cls(found.git_dir, found.workdir)

    def __enter__(self) -> LiteRepo:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        try:  # noqa: SIM105 - contextlib is not loaded on the read path
            self.close()
        except Exception:  # noqa: S110 - a finaliser must not raise
            pass

    def close(self) -> None:
        """Stop the ``cat-file`` processes started for reads."""
        batches, self._batches = self._batches, {}
        for batch in batches.values():
            for stream in (batch.stdin, batch.stdout):
                if stream is not None:
                    stream.close()
            # git ends at the end of its input: reaped now if it has, else by subprocess when this process
            # next starts a child (or at exit), rather than sleeping in a wait loop while it does
            batch.poll()

    def _git(self, *args: str) -> list[str]:
        return ["git", "--git-dir", str(self.git_dir), *args]

    def _run(self, *args: str) -> str:
        import subprocess  # noqa: PLC0415 - see the imports

        from gitreg.gitoutput import error_line  # noqa: PLC0415

        done = subprocess.run(self._git(*args), cwd=self.workdir, capture_output=True, check=False)
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace")
            raise GitError(f"git {args[0]} failed: {error_line(stderr, f'exit {done.returncode}')}")
        return done.stdout.decode("utf-8", "surrogateescape")

    # --- refs and the index -----------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None if it names none."""
        found = self._request(f"{ref}^{{commit}}", contents=False)
        return found[0] if found is not None and found[1] == "commit" else None

    def head(self) -> str | None:
        """The commit HEAD names, or None on an unborn branch."""
        return self.rev_parse("HEAD")

    def write_index_tree(self) -> str:
        """The tree of what is staged for the next commit (written to the object store)."""
        return self._run("write-tree").strip()

    def changed_files(self, base: str, commit: str) -> dict[str, str]:
        """{path: status letter (A, M, D, T)} of files that differ between ``base`` and ``commit``. Renames
        count as D + A."""
        out = self._run("diff", "--name-status", "-z", "--no-renames", base, commit)
        fields = [f for f in out.split("\0") if f]
        return dict(zip(fields[1::2], (s[0] for s in fields[0::2]), strict=True))

    # --- objects (what CommitSnapshot asks) -------------------------------------------------------------

    def _request(self, name: str, contents: bool = True) -> tuple[str, str, int, bytes] | None:
        """(sha, type, size, content) of the object ``name`` names (``<commit>:<path>``, a ref, a sha),
        through one ``cat-file --batch`` process (``--batch-check`` without ``contents``: the header alone,
        content empty); None if there is no such object."""
        if "\n" in name:
            return None
        mode = "--batch" if contents else "--batch-check"
        batch = self._batches.get(mode) or self._start(mode)
        stdin, stdout = batch.stdin, batch.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both are pipes
            raise GitError("git cat-file has no pipes")
        try:
            stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
            stdin.flush()
            line = stdout.readline()
            if line.endswith((b" missing\n", b" ambiguous\n")):  # the name itself may hold spaces
                return None
            header = line.split()
            if len(header) != 3:
                raise OSError("no reply")
            size = int(header[2])
            data = stdout.read(size + 1)[:size] if contents else b""
        except (OSError, ValueError) as exc:
            self.close()
            raise GitError(f"git cat-file failed reading {name}: {exc}") from None
        if contents and len(data) != size:
            self.close()
            raise GitError(f"git cat-file failed reading {name}: the object was cut short")
        return header[0].decode(), header[1].decode(), size, data

    def _start(self, mode: str) -> subprocess.Popen[bytes]:
        import subprocess  # noqa: PLC0415 - see the imports

        batch = self._batches[mode] = subprocess.Popen(
            self._git("cat-file", mode),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        return batch

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object at ``path`` in ``commit`` ("" for its root tree), or None."""
        found = self._request(f"{commit}:{path}", contents=False)
        return None if found is None else found[:3]

    def read_path(self, commit: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in ``commit``, or None if there is no such file."""
        found = self._request(f"{commit}:{path}")
        return found[3] if found is not None and found[1] == "blob" else None

    def read_object(self, name: str) -> bytes | None:
        """The content of the object ``name`` names (a sha: a blob's bytes, a tree's raw entries), or None."""
        found = self._request(name)
        return None if found is None else found[3]

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Many blobs from the same ``cat-file --batch`` process, the requests written by a thread while
        the replies are read: git answers one after the other without waiting for a round trip each."""
        if not shas:
            return {}
        if len(shas) == 1 or any(not sha.isalnum() for sha in shas):
            return self._blobs_one_by_one(shas)
        import contextlib  # noqa: PLC0415 - see the imports
        import threading  # noqa: PLC0415

        batch = self._batches.get("--batch") or self._start("--batch")
        stdin, stdout = batch.stdin, batch.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both are pipes
            raise GitError("git cat-file has no pipes")
        payload = "".join(f"{sha}\n" for sha in shas).encode()

        def write() -> None:
            with contextlib.suppress(OSError, ValueError):  # git ended: the reader says why
                stdin.write(payload)
                stdin.flush()

        writer = threading.Thread(target=write, name="gitreg-cat-file", daemon=True)
        writer.start()
        try:
            blobs = read_replies(stdout, shas)
        except (OSError, ValueError) as exc:
            batch.kill()  # the writer's pending write fails at once, and nothing waits on a full pipe
            writer.join(timeout=60)
            with contextlib.suppress(OSError, ValueError):
                self.close()
            raise GitError(f"git cat-file failed reading {len(shas)} blobs: {exc}") from None
        writer.join(timeout=60)
        return blobs

    def _blobs_one_by_one(self, shas: list[str]) -> dict[str, bytes]:
        blobs = {}
        for sha in shas:
            found = self._request(sha)
            if found is not None and found[1] == "blob":
                blobs[sha] = found[3]
        return blobs

    def tree_names(self, commit: str, path: str) -> list[str]:
        """Names directly below folder ``path`` in ``commit`` (empty if it is not a folder)."""
        found = self._request(f"{commit}:{path}")
        if found is None or found[1] != "tree":
            return []
        names, data, pos = [], found[3], 0
        while pos < len(data):  # entries: "<mode> <name>\0<20-byte id>"
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            names.append(data[space + 1 : nul].decode("utf-8", "surrogateescape"))
            pos = nul + 21
        return sorted(names)

    def ls_tree_sizes(self, commit: str, others: dict[str, str] | None = None) -> dict[str, tuple[str, int]]:
        """{path: (blob sha, size in bytes)} of every file at ``commit``: one ``git ls-tree -r -l``.
        Entries that are not blobs go into ``others`` ({path: type}), if given."""
        from gitreg.gitoutput import parse_ls_tree  # noqa: PLC0415 - see the imports

        return parse_ls_tree(
            self._run("ls-tree", "-r", "-l", "-z", "--full-tree", commit), sizes=True, others=others
        )


def ls_remote(url: str, branch: str, timeout: float | None = None) -> str | None:
    """The commit ``branch`` points at in the repository at ``url``, or None if it has no such branch.
    Asks the remote for that one ref only: the cheapest way to learn whether anything changed. After
    ``timeout`` seconds git is ended, with whatever it started (ssh, a credential helper)."""
    import contextlib  # noqa: PLC0415 - see the imports
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    from gitreg.gitoutput import error_line, parse_ls_remote  # noqa: PLC0415
    from gitreg.gitrun import environment  # noqa: PLC0415

    ref = f"refs/heads/{branch}"
    env = environment()  # git's messages in English: its error line is quoted
    try:
        process = subprocess.Popen(
            ["git", "ls-remote", "--", url, ref],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: ended whole on a timeout or an interrupt
        )
    except OSError as exc:
        raise GitError(f"git ls-remote failed: cannot run git: {exc.strerror}", "install git") from None
    try:
        out, err = process.communicate(timeout=timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        # Its own session keeps a terminal's Ctrl-C from it, so it is ended here, with what it started.
        # (Another interruption, a controller loop's Stopped, leaves it to the loop, which ends and counts
        # every process it started.)
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise GitError(f"git ls-remote failed: no answer from the remote in {timeout:g} seconds") from None
    if process.returncode != 0:
        stderr = err.decode(errors="replace")
        raise GitError(f"git ls-remote failed: {error_line(stderr, f'exit code {process.returncode}')}")
    return parse_ls_remote(out.decode(errors="replace"), ref)


__all__ = ["LiteRepo", "LocateAhead", "Location", "locate", "ls_remote"]


def read_replies(stdout: IO[bytes], shas: list[str]) -> dict[str, bytes]:
    """The blobs among ``cat-file --batch``'s replies to ``shas`` (asked in that order), read from its
    ``stdout``: a name git does not have, or an object that is not a blob, is left out. OSError or
    ValueError if the replies stop or do not parse."""
    blobs = {}
    for sha in shas:
        line = stdout.readline()
        if line.endswith((b" missing\n", b" ambiguous\n")):
            continue
        header = line.split()
        if len(header) != 3:
            raise OSError("no reply")
        size = int(header[2])
        data = stdout.read(size)  # then its newline, apart: no copy of the object to cut it off
        if len(data) != size or stdout.read(1) != b"\n":
            raise OSError("the object was cut short")
        if header[1] == b"blob":
            blobs[sha] = data
    return blobs
