"""Commits made with plumbing (a temporary index, ``commit-tree``, a compare-and-swap ``update-ref``), so
gitreg never disturbs the user's index or other uncommitted work, can commit to a branch that is not
checked out, and either lands the whole commit or nothing. Part of the git module family with
``gitrepo``, through whose ``_run`` it starts git."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import ConflictError, GitError
from gitreg.gitoutput import ZERO_SHA

if TYPE_CHECKING:
    from gitreg.gitrepo import GitRepo


def commit_files(
    repo: GitRepo,
    files: Mapping[str, bytes | None],
    message: str,
    branch: str,
    parent: str | None,
) -> str:
    """Commit ``files`` (path -> bytes, or None to delete) on top of ``parent`` and move ``branch`` to
    the new commit, only if it still points at ``parent`` (or does not exist, for a new branch).

    If ``branch`` is checked out, the written paths are also updated in the index and working tree;
    nothing else there is touched. Returns the new commit's sha."""
    shas: dict[str, str | None] = {}
    with tempfile.TemporaryDirectory(prefix="gitreg-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if parent:
            repo._run("read-tree", parent, env=env)
        for path, data in files.items():
            if data is None:
                shas[path] = None
                repo._run("update-index", "--force-remove", "--", path, env=env)
            else:
                sha = repo.store_blob(data)
                shas[path] = sha
                repo._run("update-index", "--add", "--cacheinfo", f"100644,{sha},{path}", env=env)
        tree = repo._run("write-tree", env=env).strip()
    args = ["commit-tree", tree, "-m", message]
    if parent:
        args[2:2] = ["-p", parent]
    commit = repo._run(*args).strip()
    ref = f"refs/heads/{branch}"
    # a new branch must still not exist; an existing one must still point at the parent
    expected = parent if parent and repo.rev_parse(ref) is not None else ZERO_SHA
    checked_out = branch == repo.current_branch() and repo.workdir is not None
    # On the checked-out branch, the working tree and the index take the new content BEFORE the branch
    # moves. A kill at any instant then leaves either the old state, the new one, or the change written
    # but not yet committed (new files untracked or staged as additions), never the reverse: had the
    # branch moved first, a kill before the index caught up would leave the new version staged for
    # deletion, and the user's next ``git commit`` would delete it.
    saved = _stage(repo, files, shas) if checked_out else None
    try:
        repo._run("update-ref", "-m", "gitreg", ref, commit, expected)
    except GitError:
        if saved is not None:
            _restore(repo, *saved)
        raise ConflictError(
            f"branch {branch} moved while gitreg was committing", "run the command again"
        ) from None
    return commit


def _stage(
    repo: GitRepo, files: Mapping[str, bytes | None], shas: Mapping[str, str | None]
) -> tuple[str, dict[str, bytes | None]]:
    """Write ``files`` to the working tree (each atomically) and then to the index (one update); return
    what was there before, for ``_restore``."""
    workdir = repo.workdir
    if workdir is None:  # pragma: no cover - callers check
        raise AssertionError("no working tree")
    paths = list(files)
    index_before = repo._run("ls-files", "--stage", "-z", "--", *paths)
    tree_before = {p: _read_or_none(workdir / p) for p in paths}
    try:
        for path, data in files.items():
            _write_atomically(workdir / path, data, _scratch(repo))
        entries = "".join(
            f"0 {ZERO_SHA}\t{path}\0" if sha is None else f"100644 {sha}\t{path}\0"
            for path, sha in shas.items()
        )
        _update_index(repo, entries)
    except BaseException:
        _restore(repo, index_before, tree_before)
        raise
    return index_before, tree_before


def _restore(repo: GitRepo, index_before: str, tree_before: Mapping[str, bytes | None]) -> None:
    """Put the index entries and working-tree files of ``_stage`` back as they were."""
    workdir = repo.workdir
    if workdir is None:  # pragma: no cover - callers check
        return
    old = {e.split("\t", 1)[1]: e for e in index_before.split("\0") if "\t" in e}
    entries = "".join(f"{old[p]}\0" if p in old else f"0 {ZERO_SHA}\t{p}\0" for p in tree_before)
    _update_index(repo, entries)
    for path, data in tree_before.items():
        _write_atomically(workdir / path, data, _scratch(repo))


def _update_index(repo: GitRepo, entries: str) -> None:
    """One ``git update-index -z --index-info``: every entry lands in the index at once, or none."""
    repo._run("update-index", "-z", "--index-info", stdin=entries.encode())


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _scratch(repo: GitRepo) -> Path:
    """Where new working-tree files are written before they are renamed into place: inside the git folder,
    so that a process killed mid-write leaves nothing in the working tree (where `gitreg validate` would
    take a half-written file for a stray one), and on the same file system, so the rename is atomic."""
    return repo.git_dir / "gitreg-tmp"


def _write_atomically(path: Path, data: bytes | None, scratch: Path) -> None:
    """Replace (or, with None, remove) one working-tree file; a reader sees the old or the new file."""
    if data is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(exist_ok=True)
    if scratch.stat().st_dev != path.parent.stat().st_dev:  # a git folder elsewhere: rename within the tree
        scratch = path.parent
    tmp = scratch / f".{path.name}.gitreg-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for git
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
