"""Git hooks: what the pre-commit framework and plain git hooks run, and ``gitreg install-hooks``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import ConflictError, NotFoundError
from gitreg.filesystem import data_folder
from gitreg.gitlite import LiteRepo
from gitreg.layout import REGISTRY_FILE
from gitreg.snapshot import CommitSnapshot, WorkTreeSnapshot
from gitreg.validate import Base, Report, validate
from gitreg.validate.rules.files import large_file, size_limit
from gitreg.validate.view import Finding, View

if TYPE_CHECKING:
    from gitreg.gitrepo import GitRepo

HOOK_NAMES = ("pre-commit",)


def hooks_root() -> Path:
    return data_folder("hooks", "hook scripts")


def validate_index(directory: Path, everything: bool = False, named: Sequence[str] = ()) -> Report:
    """Validate what is staged for the next commit (the index) of the registry checkout at ``directory``,
    not its working tree.

    What changed since HEAD is judged (deletions and renames too); ``named`` files are judged as if they
    had changed (the pre-commit framework names files under ``run --all-files`` and ``run --files``), and
    naming registry.yaml, or ``everything``, judges the whole index as ``gitreg validate`` does.

    This runs on every commit, so it reads git through plain ``git`` calls (``gitreg.gitlite``), not the
    full ``GitRepo``, and never opens the blob store."""
    with LiteRepo.open(directory) as repo:
        workdir = repo.workdir or directory  # a pre-commit hook runs in a working tree
        if not (workdir / REGISTRY_FILE).is_file():
            raise NotFoundError(
                f"{workdir} is not a gitreg registry (no registry.yaml at its top)",
                "create one with gitreg init",
            )
        tree = repo.write_index_tree()
        view = View(CommitSnapshot(repo, tree))
        head = repo.head()
        if head is None or everything or REGISTRY_FILE in named:
            return validate(view)
        # HEAD passed this hook when it was committed: checking what changed since gives the same verdict
        # as checking everything, at the cost of the change (a 10,000-version registry commits as fast as
        # a small one). CI's full run on main, and `pre-commit run --all-files`, catch a HEAD committed
        # with --no-verify.
        changes = repo.changed_files(head, tree)
        for path in named:
            changes.setdefault(path, "M")
        return validate(view, Base(View(CommitSnapshot(repo, head)), changes, change_rules=False))


def large_files(directory: Path, paths: list[str]) -> list[Finding]:
    """Findings for each of ``paths`` (relative to ``directory``) over the size limit of the registry at
    ``directory`` (1 MiB if it has no readable registry.yaml). Reads registry.yaml alone: no git."""
    limit = size_limit(View(WorkTreeSnapshot(directory)))
    findings = []
    for path in paths:
        target = directory / path
        finding = large_file(path, target.stat().st_size if target.is_file() else None, limit)
        if finding is not None:
            findings.append(finding)
    return findings


def install(repo: GitRepo, force: bool = False) -> list[Path]:
    """Copy gitreg's hooks into the repository's hooks folder, pinned to this Python; return their paths."""
    hooks_dir = repo.hooks_dir()
    hooks_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    for name in HOOK_NAMES:
        text = (hooks_root() / name).read_text()
        pinned = text.replace(
            'GITREG_PYTHON="${GITREG_PYTHON:-python3}"',
            f'GITREG_PYTHON="${{GITREG_PYTHON:-{sys.executable}}}"',
        )
        target = hooks_dir / name
        if target.exists() and target.read_text() != pinned and not force:
            raise ConflictError(f"{target} exists and is not gitreg's", "pass --force to replace it")
        target.write_text(pinned)
        target.chmod(0o755)
        installed.append(target)
    return installed
