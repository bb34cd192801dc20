"""git without GitPython, for what runs on every commit: the pre-commit hook reads the index and HEAD through
plain ``git`` calls and one ``git cat-file --batch`` process. Importing GitPython costs more than the hook's
whole work, and its start-up runs ``git version`` twice. Part of the git module family with ``gitrepo``: the
same named methods a ``CommitSnapshot`` calls, raising the same errors."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType

from gitreg.errors import GitError, NotFoundError


class LiteRepo:
    """A git repository with a working tree, read through the ``git`` command."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        #: the ``cat-file --batch`` (contents) and ``--batch-check`` (headers only) processes, once started
        self._batches: dict[str, subprocess.Popen[bytes]] = {}

    @classmethod
    def open(cls, path: Path) -> LiteRepo:
        """The working tree that contains ``path``."""
        try:
            done = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, check=False
            )
        except (FileNotFoundError, NotADirectoryError):
            done = None
        if done is None or done.returncode != 0 or not done.stdout.strip():
            raise NotFoundError(
                f"{path} is not inside a git repository",
                "run gitreg inside a registry checkout, or pass -C DIR",
            )
        return cls(Path(done.stdout.decode().strip()))

    def __enter__(self) -> LiteRepo:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the ``cat-file`` processes started for reads."""
        for batch in self._batches.values():
            if batch.stdin is not None:
                batch.stdin.close()
            batch.wait()
            if batch.stdout is not None:
                batch.stdout.close()
        self._batches.clear()

    def _run(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.workdir, capture_output=True, check=False)
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {lines[-1] if lines else f'exit {done.returncode}'}")
        return done.stdout.decode("utf-8", "surrogateescape")

    # --- refs and the index -----------------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit HEAD names, or None on an unborn branch."""
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
            cwd=self.workdir,
            capture_output=True,
            check=False,
        )
        return done.stdout.decode().strip() or None if done.returncode == 0 else None

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
        """(sha, type, size, content) of the object ``name`` names, through one ``cat-file --batch``
        process (``--batch-check`` without ``contents``: the header alone, content empty)."""
        if "\n" in name:
            return None
        mode = "--batch" if contents else "--batch-check"
        batch = self._batches.get(mode)
        if batch is None:
            batch = self._batches[mode] = subprocess.Popen(
                ["git", "cat-file", mode], cwd=self.workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        stdin, stdout = batch.stdin, batch.stdout
        assert stdin is not None and stdout is not None  # noqa: S101 - both are PIPE above
        try:
            stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
            stdin.flush()
            header = stdout.readline().split()
            if len(header) != 3:
                if len(header) == 2 and header[1] in (b"missing", b"ambiguous"):
                    return None
                raise OSError("no reply")
            size = int(header[2])
            data = stdout.read(size + 1)[:-1] if contents else b""
        except (OSError, ValueError) as exc:
            self.close()
            raise GitError(f"git cat-file failed reading {name}: {exc}") from None
        return header[0].decode(), header[1].decode(), size, data

    def object_at(self, commit: str, path: str) -> tuple[str, str, int] | None:
        """(sha, type, size) of the object at ``path`` in ``commit`` ("" for its root tree), or None."""
        found = self._request(f"{commit}:{path}", contents=False)
        return None if found is None else found[:3]

    def read_path(self, commit: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in ``commit``, or None if there is no such file."""
        found = self._request(f"{commit}:{path}")
        return found[3] if found is not None and found[1] == "blob" else None

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Many blobs, each one request to the same ``cat-file`` process."""
        blobs = {}
        for sha in shas:
            found = self._request(sha)
            if found is not None:
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

    def ls_tree_sizes(self, commit: str) -> dict[str, tuple[str, int]]:
        """{path: (blob sha, size in bytes)} of every file at ``commit``."""
        out = self._run("ls-tree", "-r", "-l", "-z", "--full-tree", commit)
        files = {}
        for record in out.split("\0"):
            meta, _, path = record.partition("\t")
            fields = meta.split()
            if len(fields) == 4 and fields[1] == "blob":
                files[path] = (fields[2], int(fields[3]))
        return files
