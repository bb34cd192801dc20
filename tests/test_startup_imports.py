"""What `gitreg show` and `gitreg list` import beyond PyYAML: not the standard library's heavy modules either.
``dataclasses`` loads ``inspect``, ``ast`` and ``dis``, ``typing`` is as large, ``shutil`` loads ``bz2`` and
``lzma``; none of them is needed to read a registry, and each costs a read more than its work (issue #11,
target 1). A test of the modules the process ended with, not of time. Also: the value classes that replace
``@dataclass`` on that path (``gitreg.values``) behave as the dataclasses did."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from gitreg.controller.config import ControllerConfig, ModelChange
from gitreg.controller.events import Event
from gitreg.errors import Problem
from gitreg.gitoutput import LogCommit
from gitreg.registry import Ref
from gitreg.storage.protocol import Blob
from gitreg.summary import FieldChange, ModelSummary
from testing import commit_all, run, write_bytes
from testing.imports import modules_after

#: Standard-library modules the read path does without.
HEAVY_STDLIB = ("dataclasses", "inspect", "ast", "dis", "typing", "shutil", "bz2", "lzma")


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 and fraud@2, fraud@2 in staging, committed."""
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
        ("show", "fraud"),
        ("show", "fraud@2", "--json"),
        ("list",),
        ("list", "fraud"),
        ("list", "--stage", "staging", "--json"),
        ("show", "nosuch@1"),  # an error on the way: still none of them
        ("show", "fraud@production"),
    ],
)
def test_show_and_list_import_no_heavy_standard_library(
    populated: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    done, modules = modules_after(tmp_path, "-C", populated, *args)
    assert done.returncode in (0, 3), done.stderr
    assert "gitreg.registry" in modules  # the quick path read the registry: the guard is not blind
    assert "click" not in modules
    assert sorted(m for m in HEAVY_STDLIB if m in modules) == []


def test_a_quiet_pull_imports_no_click_or_heavy_standard_library(populated: Path, tmp_path: Path) -> None:
    done, modules = modules_after(
        tmp_path, "-C", populated, "pull", "fraud@staging", "-o", tmp_path / "out", "-q"
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out").is_file()
    assert "gitreg.storage.local" in modules  # it did pull
    assert "click" not in modules
    # shutil it needs (tempfile loads it): the rest it does without, and a thread pool is for trees
    heavy = ("dataclasses", "inspect", "ast", "dis", "typing", "concurrent.futures", "logging")
    assert sorted(m for m in heavy if m in modules) == []


def test_the_probe_sees_dataclasses(populated: Path, tmp_path: Path) -> None:
    """The check can fail: `validate` loads the validator, whose findings are dataclasses."""
    done, modules = modules_after(tmp_path, "-C", populated, "validate")
    assert done.returncode == 0, done.stderr
    assert {"dataclasses", "inspect"} <= modules


# --- the value classes behave as the dataclasses they replace -------------------------------------------


def test_values_repr_equality_and_hash_as_dataclasses() -> None:
    problem = Problem("models/a/model.yaml", 3, 5, "bad")
    assert repr(problem) == "Problem(path='models/a/model.yaml', line=3, col=5, message='bad')"
    assert str(problem) == "models/a/model.yaml:3:5: bad"
    assert problem == Problem("models/a/model.yaml", 3, 5, "bad")
    assert problem != Problem("models/a/model.yaml", 3, 6, "bad")
    assert problem != ("models/a/model.yaml", 3, 5, "bad")  # another class is never equal
    assert len({problem, Problem("models/a/model.yaml", 3, 5, "bad")}) == 1
    assert Ref.parse("fraud@2") == Ref("fraud", "2")
    assert repr(Ref("fraud", None)) == "Ref(model='fraud', selector=None)"
    assert repr(FieldChange("metrics.auc", 0.9, 0.93)) == (
        "FieldChange(field='metrics.auc', a=0.9, b=0.93, delta=None)"
    )
    assert ModelSummary("a", 2, 2, {"staging": 2}).as_dict() == {
        "model": "a",
        "latest": 2,
        "versions": 2,
        "stages": {"staging": 2},
    }


def test_frozen_values_refuse_assignment_and_survive_copy_and_pickle() -> None:
    ref = Ref("fraud", "production")
    with pytest.raises(AttributeError):
        ref.model = "other"
    with pytest.raises(AttributeError):
        del ref.selector
    with pytest.raises(AttributeError):
        ref.extra = 1
    for same in (copy.copy(ref), copy.deepcopy(ref), pickle.loads(pickle.dumps(ref))):  # noqa: S301 - our own bytes
        assert same == ref
        assert type(same) is Ref


def test_a_blob_compares_without_its_time() -> None:
    """``Blob.modified`` was ``field(compare=False)``: listed twice, at different times, the same blob."""
    assert Blob("sha256:" + "0" * 64, 3, 1.0) == Blob("sha256:" + "0" * 64, 3, None)
    assert hash(Blob("sha256:" + "0" * 64, 3, 1.0)) == hash(Blob("sha256:" + "0" * 64, 3))
    assert Blob("sha256:" + "0" * 64, 3) != Blob("sha256:" + "0" * 64, 4)
    assert repr(Blob("d", 1, 2.0)) == "Blob(digest='d', size=1, modified=2.0)"


def test_defaults_are_the_dataclasses_defaults() -> None:
    change = ModelChange("fraud", 1, 2, 2, "deploy")
    assert change.error is None
    assert change.ok
    config = ControllerConfig("file:///r", "production", Path("/srv"))
    assert (config.branch, config.keep, config.prune, config.git_timeout) == ("main", 2, False, 300.0)
    event = Event("observed")
    assert (event.level, event.fields) == ("info", {})
    assert event.time.endswith("Z")
    first, second = LogCommit("c", [], "a", "c", "d", "s", "b"), LogCommit("c", [], "a", "c", "d", "s", "b")
    first.changes["x"] = ("0", "1", "A")
    assert second.changes == {}  # each its own dict, as field(default_factory=dict) gave
    assert first != second
    with pytest.raises(TypeError):
        hash(first)  # mutable: unhashable, as a plain @dataclass


def test_a_bad_keep_is_still_refused_at_construction() -> None:
    from gitreg.errors import UsageError  # noqa: PLC0415

    with pytest.raises(UsageError, match="keep at least 1"):
        ControllerConfig("file:///r", "production", Path("/srv"), keep=0)
