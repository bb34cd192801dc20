"""The read path's start-up: `gitreg show`, `list`, `diff` and `pull`, run as processes, load neither
pydantic, GitPython nor any optional extra (remote stores, progress bars, templates, metrics), and only `pull`
loads the blob store; `show` and `list` do not load click either (gitreg.entry answers them). A test of what
is imported, not of time: the modules each process ended with."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing import commit_all, run, write_bytes
from testing.imports import modules_after

#: Top-level packages the read path must never import.
FORBIDDEN = {
    "pydantic",
    "pydantic_core",
    "git",
    "gitdb",
    "fsspec",
    "s3fs",
    "gcsfs",
    "adlfs",
    "aiohttp",
    "botocore",
    "aiobotocore",
    "tqdm",
    "jinja2",
    "prometheus_client",
}


def loaded(tmp_path: Path, *args: str | Path) -> set[str]:
    done, modules = modules_after(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return modules


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2 (fraud@2 in staging), committed."""
    art = write_bytes(tmp_path / "art" / "model.bin", 300, 1)
    for metric in ("auc=0.9", "auc=0.93"):
        assert run("register", "fraud", art, "--metric", metric, cwd=registry).exit_code == 0
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Promote fraud@2 to staging")
    return registry


@pytest.mark.parametrize(
    "args",
    [
        ("show", "fraud@staging"),
        ("show", "fraud@1"),
        ("show", "fraud@latest"),
        ("show", "fraud"),
        ("show", "fraud@2", "--json"),
        ("list",),
        ("list", "fraud"),
        ("list", "--stage", "staging", "--json"),
        ("diff", "fraud@1", "fraud@2"),
    ],
)
def test_reads_import_no_pydantic_gitpython_storage_or_extras(
    populated: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    modules = loaded(tmp_path, "-C", populated, *args)
    assert {m.split(".")[0] for m in modules} & FORBIDDEN == set()
    assert not any(m == "gitreg.storage" or m.startswith("gitreg.storage.") for m in modules)
    assert "gitreg.manifest" not in modules
    assert "gitreg.gitrepo" not in modules
    if args[0] in ("show", "list"):
        assert "click" not in modules
        assert "gitreg.cli" not in modules


def test_pull_imports_the_store_but_no_pydantic_gitpython_or_extras(populated: Path, tmp_path: Path) -> None:
    modules = loaded(tmp_path, "-C", populated, "pull", "fraud@staging", "-o", tmp_path / "out", "-q")
    assert (tmp_path / "out").is_file()
    assert {m.split(".")[0] for m in modules} & FORBIDDEN == set()
    assert "gitreg.storage.local" in modules
    assert "gitreg.manifest" not in modules


def test_the_probe_sees_an_import(populated: Path, tmp_path: Path) -> None:
    """The check can fail: `schema` loads the pydantic models (and click), and the probe says so."""
    modules = loaded(tmp_path, "schema", "Stage")
    assert "pydantic" in modules
    assert "gitreg.manifest" in modules
    assert "click" in modules
