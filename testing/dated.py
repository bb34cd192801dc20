"""Registries with a dated history, for retention tests: commits made with GIT_AUTHOR_DATE and
GIT_COMMITTER_DATE set (days or months apart), and version manifests with a chosen ``created_at``."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitreg.layout import stage_path, version_path
from testing import git
from testing.synthetic import write_files

NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_at(root: Path, message: str, when: datetime) -> str:
    """Stage everything in ``root`` and commit it as made and landed at ``when``; the commit's sha."""
    env = {**os.environ, "GIT_AUTHOR_DATE": iso(when), "GIT_COMMITTER_DATE": iso(when)}
    git(root, "add", "-A")
    subprocess.run(
        ["git", "commit", "--quiet", "--no-verify", "--allow-empty", "-m", message],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return git(root, "rev-parse", "HEAD").strip()


def version_text(
    model: str,
    version: int,
    created: datetime,
    *,
    digest: str | None = None,
    size: int = 1000,
    kind: str = "file",
    parent: int | None = None,
    status: str = "active",
    tags: Mapping[str, str] | None = None,
) -> str:
    """A valid version manifest (a made-up digest unless one is given)."""
    digest = digest or "sha256:" + hashlib.sha256(f"{model}@{version}".encode()).hexdigest()
    text = (
        f"apiVersion: gitreg/v1\nkind: ModelVersion\nmodel: {model}\nversion: {version}\nartifact:\n"
        f"  digest: {digest}\n  size: {size}\n  type: {kind}\n"
        f"  name: {'model' if kind == 'tree' else 'm.bin'}\n"
        "metrics:\n  auc: 0.95\n"
    )
    text += (
        f"lineage:\n  code:\n    commit: abc123\n  parent: {parent}\n"
        if parent
        else ("lineage:\n  code:\n    commit: abc123\n")
    )
    if tags:
        text += "tags:\n" + "".join(f"  {k}: {v}\n" for k, v in tags.items())
    text += f'description: version {version}\ncreated_at: "{iso(created)}"\ncreated_by: T <t@example.com>\n'
    return text + f"status: {status}\n"


def model_text(
    model: str,
    *,
    owners: tuple[str, ...] = ("@ml",),
    tags: Mapping[str, str] | None = None,
    retention: str = "",
) -> str:
    quoted = ", ".join(f'"{o}"' for o in owners)
    text = f"apiVersion: gitreg/v1\nkind: Model\nname: {model}\nowners: [{quoted}]\n"
    if tags:
        text += "tags:\n" + "".join(f"  {k}: {v}\n" for k, v in tags.items())
    return text + (f"retention:\n{retention}" if retention else "")


def set_stage(root: Path, stage: str, model: str, version: int | None) -> None:
    """Put ``model``'s ``version`` in ``stage``'s file (None: take the model out), one line per entry."""
    path = root / stage_path(stage)
    entries: dict[str, int] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, number = line.partition(": ")
            if name and number:
                entries[name] = int(number)
    if version is None:
        entries.pop(model, None)
    else:
        entries[model] = version
    write_files(root, {stage_path(stage): "".join(f"{m}: {v}\n" for m, v in sorted(entries.items()))})


def set_status(root: Path, model: str, version: int, status: str) -> None:
    path = root / version_path(model, version)
    text = path.read_text()
    path.write_text(
        text.replace("status: active", f"status: {status}").replace("status: archived", f"status: {status}")
    )


def add_retention(root: Path, block: str) -> None:
    """Append a ``retention:`` block (its lines indented by two spaces) to registry.yaml."""
    path = root / "registry.yaml"
    path.write_text(path.read_text().rstrip("\n") + "\nretention:\n" + block)
