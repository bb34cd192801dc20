"""The validator's light path (``gitreg.validate.light``) vouches for a file only if its typed model accepts
it as it is: on full valid files of each kind and on every one-field mutation of them (a value replaced by one
of many others, a field removed, an unknown field added), a record is given only where pydantic accepts the
file, and it holds the model's data. Valid files get a record (the fast path is taken)."""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from gitreg import manifest
from gitreg.errors import ManifestError
from gitreg.records import Record
from gitreg.snapshot import MemorySnapshot
from gitreg.validate import View, validate
from gitreg.validate.light import light
from gitreg.yamlio import Document

DIGEST = "sha256:" + "ab" * 32
POLICY = {"fields": ["description", "lineage.code.commit"], "metrics": {"auc": ">= 0.9"}}
VALID: dict[str, Any] = {
    "Registry": {
        "apiVersion": "gitreg/v1",
        "kind": "Registry",
        "storage": {"url": "file:///blobs", "options": {"region": "eu", "n": 3}},
        "stages": [{"name": "staging"}, {"name": "production", "requires": ["staging"], "policy": POLICY}],
        "rules": {"max_file_size": 1000},
    },
    "Model": {
        "apiVersion": "gitreg/v1",
        "kind": "Model",
        "name": "fraud",
        "description": "d",
        "owners": ["@risk"],
        "tags": {"team": "risk"},
        "policy": {"production": POLICY},
    },
    "ModelVersion": {
        "apiVersion": "gitreg/v1",
        "kind": "ModelVersion",
        "model": "fraud",
        "version": 3,
        "artifact": {"digest": DIGEST, "size": 10, "type": "file", "name": "m.onnx", "format": "onnx"},
        "framework": {"name": "sklearn", "version": "1.5"},
        "metrics": {"auc": 0.93, "n": 5},
        "params": {"lr": 0.1, "depth": 3, "on": True, "x": None, "s": "a", "l": [1, "a", None]},
        "lineage": {
            "code": {"repo": "r", "commit": "c", "path": "p"},
            "data": [{"uri": "s3://d", "digest": DIGEST}, {"uri": "s3://e"}],
            "run": {"id": "1", "url": "u"},
            "parent": 2,
        },
        "signature": {"inputs": [1, 2]},
        "tags": {"a": "b"},
        "description": "desc",
        "created_at": "2026-01-02T03:04:05Z",
        "created_by": "me",
        "status": "archived",
    },
    "Stage": {"fraud": 3, "churn": 1},
}
VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2**63, 0.5, float("inf"), float("nan"), "", "x", "3", "010", "gitreg/v1",
    "Fraud", "con", "file", "archived", ">= 0.9", "2026-01-02", "not a date", DIGEST, [], ["x"], [1], {},
    {"x": 1}, {"name": "a"}, {1: "a"},
]  # fmt: skip


def mutations(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(where, mutated document) for every value replaced, every key removed, every mapping extended."""
    if isinstance(data, dict):
        extended = dict(data)
        extended["colour"] = "blue"
        yield (*path, "+colour"), extended
        for key in data:
            removed = {k: v for k, v in data.items() if k != key}
            yield (*path, f"-{key}"), removed
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        for replacement in VALUES:
            changed = copy.copy(data)
            changed[key] = replacement
            yield (*path, key), changed
        for where, inner in mutations(value, (*path, key)):
            changed = copy.copy(data)
            changed[key] = inner
            yield where, changed


def typed(kind: str, data: Any) -> Any:
    try:
        return manifest.parse(manifest.KINDS[kind], Document("f.yaml", copy.deepcopy(data)))
    except ManifestError:
        return None


def same(kind: str, record: Any, model: Any) -> bool:
    """The same data (compared by repr, so that a NaN equals itself)."""
    if kind == "Stage":
        return repr(record) == repr(model.root)
    assert isinstance(record, Record)
    return repr(record.data()) == repr(model.model_dump(by_alias=True))


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_file_gets_a_record_with_the_models_data(kind: str) -> None:
    record = light(kind, copy.deepcopy(VALID[kind]))
    assert record is not None
    assert same(kind, record, typed(kind, VALID[kind]))


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_record_only_where_the_model_accepts_the_file_as_it_is(kind: str) -> None:
    vouched = refused = 0
    for where, data in mutations(VALID[kind]):
        record = light(kind, copy.deepcopy(data))
        model = typed(kind, data)
        if record is None:
            refused += 1
            continue
        vouched += 1
        assert model is not None, (where, data)
        assert same(kind, record, model), where
    assert vouched and refused  # both sides were exercised


def test_the_records_read_as_the_models() -> None:
    """What the rules read: stages, policies, limits, versions' fields by dotted path."""
    config = light("Registry", VALID["Registry"])
    model = typed("Registry", VALID["Registry"])
    assert [s.name for s in config.stages] == [s.name for s in model.stages]
    assert config.stage("production").policy.metrics == model.stage("production").policy.metrics
    assert config.stage("production").requires == ["staging"]
    assert config.stage("canary") is None
    assert config.rules.max_file_size == 1000
    assert config.storage.options == model.storage.options
    info = light("Model", VALID["Model"])
    assert info.policy["production"].fields == typed("Model", VALID["Model"]).policy["production"].fields
    version = light("ModelVersion", VALID["ModelVersion"])
    typed_version = typed("ModelVersion", VALID["ModelVersion"])
    for dotted in [
        "description", "lineage.code.commit", "lineage.data", "framework.name", "artifact.format",
        "metrics.auc", "params.l", "signature.inputs", "apiVersion", "api_version", "ref", "data",
        "lineage.data.uri", "nothing", "artifact.name.x", "tags.a", "status",
    ]:  # fmt: skip
        mine, theirs = version.field_value(dotted), typed_version.field_value(dotted)
        if isinstance(theirs, BaseModel):
            assert isinstance(mine, Record), dotted
        elif dotted == "lineage.data":  # the policy rule asks only whether it is empty
            assert len(mine) == len(theirs)
        else:
            assert mine == theirs, dotted
    bare = {k: v for k, v in VALID["ModelVersion"].items() if k in ("apiVersion", "kind", "model", "version")}
    bare |= {k: VALID["ModelVersion"][k] for k in ("artifact", "created_at", "created_by")}
    for dotted in ["lineage", "lineage.code", "framework", "tags", "signature", "description", "status"]:
        mine, theirs = (
            light("ModelVersion", bare).field_value(dotted),
            typed("ModelVersion", bare).field_value(dotted),
        )
        assert (mine in (None, "", [], {})) == (theirs in (None, "", [], {})), dotted


def test_validation_leaves_the_cyclic_collector_as_it_found_it() -> None:
    """Validation turns the collector off while it loads (no collection churn) and back on after, even
    when a file is broken; a caller that had it off keeps it off."""
    files = {"registry.yaml": b"kind: [", "models/a/model.yaml": b"name: a\n"}
    assert gc.isenabled()
    assert validate(View(MemorySnapshot(files))).findings
    assert gc.isenabled()
    gc.disable()
    try:
        validate(View(MemorySnapshot(files)))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_a_validation_leaves_are_freed_when_it_returns() -> None:
    """With the collector off during the run, a cycle that became garbage meanwhile is still freed when
    validation returns, not at some later collection (or at the interpreter's exit)."""
    freed: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed.append("cycle")

    class CycleSnapshot(MemorySnapshot):
        def files(self) -> list[str]:
            Cycle()  # garbage at once, but only the cyclic collector can free it
            return super().files()

    gc.collect()
    validate(View(CycleSnapshot({"registry.yaml": b"kind: ["})))
    assert freed == ["cycle"]
