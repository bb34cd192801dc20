"""Shell completion of model names, refs (``MODEL@`` + versions and stages) and stage names, from the
registry in the current directory (or ``-C DIR``), through click's completion API (``shell_complete``).

Completion runs on every press of Tab, so it reads only the working tree's file names (and registry.yaml
for the declared stages) with no git, no pydantic and no store; and it never prints: a directory that is
not a registry, or one it cannot read, completes nothing."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from gitreg.layout import MODELS_DIR, NAME, REGISTRY_FILE, STAGES_DIR, VERSION_FILE_NAME, versions_dir

_STAGE_LINE = re.compile(r"^\s*-\s*(?:name:\s*)?['\"]?([a-z0-9][a-z0-9._-]*)['\"]?\s*$")


def _top(ctx: click.Context) -> Path | None:
    """The registry's top folder: the nearest folder from ``-C DIR`` (or here) up that has registry.yaml,
    not looking past the top of the git checkout."""
    root = ctx.find_root()
    directory = root.params.get("directory") or "."
    here = Path(directory).resolve()
    for folder in (here, *here.parents):
        if (folder / REGISTRY_FILE).is_file():
            return folder
        if (folder / ".git").exists():
            return None
    return None


def _names(folder: Path, keep: Callable[[os.DirEntry[str]], bool]) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if keep(e))
    except OSError:
        return []


def models(top: Path) -> list[str]:
    return [n for n in _names(top / MODELS_DIR, lambda e: e.is_dir()) if NAME.fullmatch(n)]


def versions(top: Path, model: str) -> list[str]:
    files = _names(top / versions_dir(model), lambda e: e.is_file())
    found = [m.group(1) for f in files if (m := VERSION_FILE_NAME.fullmatch(f))]
    return sorted(found, key=int)


def stages(top: Path) -> list[str]:
    """The stages registry.yaml declares (read line by line: completion loads no YAML parser), and those
    that have a stage file."""
    found = {f.removesuffix(".yaml") for f in _names(top / STAGES_DIR, lambda e: e.is_file())}
    found = {s for s in found if NAME.fullmatch(s)}
    try:
        text = (top / REGISTRY_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    in_stages = False
    for line in text.splitlines():
        if re.match(r"^stages\s*:", line):
            in_stages = True
        elif line[:1] not in ("", " ", "-", "#"):
            in_stages = False
        elif in_stages and (match := _STAGE_LINE.match(line)):
            found.add(match.group(1))
    return sorted(found)


def _guarded(fn: Callable[[Path, str], list[str]]) -> Callable[..., list[CompletionItem]]:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            top = _top(ctx)
            if top is None:
                return []
            return [CompletionItem(c) for c in fn(top, incomplete) if c.startswith(incomplete)]
        except Exception:  # completion never prints an error: it completes nothing
            return []

    return complete


def _model_names(top: Path, incomplete: str) -> list[str]:
    return models(top)


def _refs(top: Path, incomplete: str) -> list[str]:
    model, at, _ = incomplete.partition("@")
    if not at:
        return models(top)
    if model not in models(top):
        return []
    return [f"{model}@{s}" for s in [*versions(top, model), "latest", *stages(top)]]


def _stage_names(top: Path, incomplete: str) -> list[str]:
    return stages(top)


#: ``shell_complete=`` callbacks for click arguments and options.
model_name = _guarded(_model_names)
ref = _guarded(_refs)
stage_name = _guarded(_stage_names)

__all__ = ["model_name", "models", "ref", "stage_name", "stages", "versions"]
