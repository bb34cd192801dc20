"""``gitreg history`` as a process loads only what the history needs: not audit's rules (the verdicts and
the validator), not the YAML loader while every stage file is in plain lines (the walk cache's key reads
PyYAML's version from its files), not the temporary files audit's report is written through, and none of
the standard library's modules it can do without (typing, textwrap: a few milliseconds of every run). A stage
file that is not in plain lines still loads the loader, and its history is the same. A test of imports,
not of time; each probe also checks the output, so the guard is not blind."""

from __future__ import annotations

from pathlib import Path

import yaml
from test_gitrepo_imports import MODELS, registry  # noqa: F401 - registry: a fixture (two promotions)

from gitreg.walk_cache import environment, yaml_version
from testing.imports import modules_after
from testing.synthetic import commit_all, stage_manifest

AUDIT_ONLY = ("yaml", "gitreg.ops.verdicts", "gitreg.validate", "gitreg.yamlio", "tempfile", "pydantic")
UNNEEDED = ("typing", "textwrap", "dataclasses", "inspect")


def _loaded(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m in AUDIT_ONLY or m in UNNEEDED or m.split(".")[0] == "yaml")


def test_a_plain_history_loads_neither_audit_nor_the_yaml_loader(registry: Path, tmp_path: Path) -> None:  # noqa: F811
    done, modules = modules_after(tmp_path, "-C", registry, "history", MODELS[0])
    assert done.returncode == 0, done.stderr
    assert "1 -> 2" in done.stdout and "gitreg.stage_rewind" in modules
    assert _loaded(modules) == []


def test_a_stage_file_not_in_plain_lines_loads_the_loader(registry: Path, tmp_path: Path) -> None:  # noqa: F811
    plain, _modules = modules_after(tmp_path, "-C", registry, "history", MODELS[0])
    text = stage_manifest(dict.fromkeys(MODELS, 2)).replace(f"{MODELS[1]}: 2", f"{MODELS[1]}: 2  # by hand")
    (registry / "stages" / "staging.yaml").write_text(text)
    commit_all(registry, "A comment")
    done, modules = modules_after(tmp_path, "-C", registry, "history", MODELS[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout == plain.stdout  # the comment changed no entry
    assert "yaml" in modules


def test_the_yaml_version_read_from_its_files_is_the_imported_one() -> None:
    assert yaml_version() == (yaml.__version__, yaml.__with_libyaml__)
    assert f"PyYAML {yaml.__version__} libyaml {yaml.__with_libyaml__};" in environment()
