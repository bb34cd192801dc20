"""A registry published as a forge would serve it: a bare repository reached over file://, which answers
blob-less fetches (``uploadpack.allowFilter``, as GitHub and GitLab do), and the ``gitreg+file://`` URIs
that name its versions. Also the blobs a URI pull holds while it reads, counted from inside."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from testing import commit_all, git, run, write_bytes


def publish(registry: Path, bare: Path) -> Path:
    """A bare clone of ``registry`` at ``bare`` (replacing an earlier one), serving blob-less fetches."""
    if bare.exists():
        shutil.rmtree(bare)
    git(registry.parent, "clone", "--quiet", "--bare", str(registry), str(bare))
    git(bare, "config", "uploadpack.allowFilter", "true")
    return bare


def uri(bare: Path, fragment: str, branch: str | None = None) -> str:
    """``gitreg+file:///...bare.git[@branch]#fragment``."""
    return f"gitreg+{bare.as_uri()}{'@' + branch if branch else ''}#{fragment}"


def register(registry: Path, model: str, path: Path) -> None:
    result = run("register", model, path, cwd=registry)
    assert result.exit_code == 0, result.stderr


def populate(registry: Path, work: Path) -> dict[str, Path]:
    """fraud@1 a file (model.bin), fraud@2 a folder (model/: nested, one executable), churn@1 a file;
    production holds fraud@1 and staging fraud@2; a 2 MiB file committed beside them that no read needs.
    The artifacts by ref."""
    file_art = write_bytes(work / "art1" / "model.bin", 5000, 1)
    tree_art = work / "art2" / "model"
    write_bytes(tree_art / "weights.bin", 3000, 2)
    write_bytes(tree_art / "sub" / "config.json", 200, 3)
    (tree_art / "serve.sh").write_text("#!/bin/sh\necho serve\n")
    (tree_art / "serve.sh").chmod(0o755)
    churn = write_bytes(work / "art3" / "churn.pkl", 1000, 4)
    register(registry, "fraud", file_art)
    register(registry, "fraud", tree_art)
    register(registry, "churn", churn)
    (registry / "stages" / "production.yaml").write_text("fraud: 1\n")
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    write_bytes(registry / "docs" / "big.bin", 2 * 1024 * 1024, 5)
    commit_all(registry, "Stages, and a big file no read needs")
    return {"fraud@1": file_art, "fraud@2": tree_art, "churn@1": churn}


def files_of(folder: Path) -> dict[str, tuple[str, bool]]:
    """{relative path: (sha256, executable)} of the files below ``folder`` (or of the file ``folder``)."""
    if folder.is_file():
        return {"": (hashlib.sha256(folder.read_bytes()).hexdigest(), False)}
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            bool(p.stat().st_mode & 0o111),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
