"""The read path's records (``gitreg.records``) restate the order and defaults of the pydantic models for
speed: derived here from ``gitreg.manifest``, they must be the same, and a record of a valid file must give
the same data as its typed model. The few checks a record makes point at the field, as schema errors do."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from gitreg import layout, manifest, records, yamlio
from gitreg.errors import ManifestError
from gitreg.manifest import ModelInfo, ModelVersion
from testing.synthetic import model_manifest, version_manifest


def derived_shape(model: type[BaseModel]) -> dict[str, Any]:
    """{field as written: (default, nested)} from a pydantic model, in the same form as records' shapes."""
    shape: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        default = records.REQUIRED if field.default is PydanticUndefined else field.default
        if isinstance(default, BaseModel):
            default = default.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
        shape[field.alias or name] = (default, _nested(field.annotation))
    return shape


def _nested(annotation: Any) -> Any:
    target = manifest._unwrap(annotation)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return derived_shape(target)
    if typing.get_origin(target) in (list, dict):
        inner = manifest._unwrap(typing.get_args(target)[-1])
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return ("each", derived_shape(inner))
    return None


def ordered(shape: Any) -> Any:
    """A shape with its order made part of equality (dicts compare without it)."""
    if isinstance(shape, dict):
        return [(name, default, ordered(nested)) for name, (default, nested) in shape.items()]
    if isinstance(shape, tuple):
        return (shape[0], ordered(shape[1]))
    return shape


def test_the_shapes_are_the_models() -> None:
    assert ordered(records.MODEL_VERSION) == ordered(derived_shape(ModelVersion))
    assert ordered(records.MODEL_INFO) == ordered(derived_shape(ModelInfo))
    assert set(layout.KINDS) == set(manifest.KINDS)


def test_the_derivation_sees_a_difference() -> None:
    """The comparison can fail: a shape with one field moved, or one default changed, is not the model's."""
    moved = dict(records.MODEL_VERSION)
    moved = {"status": moved.pop("status"), **moved}
    assert ordered(moved) != ordered(derived_shape(ModelVersion))
    changed = {**records.MODEL_VERSION, "status": ("archived", None)}
    assert ordered(changed) != ordered(derived_shape(ModelVersion))


HAND_WRITTEN = """\
status: archived
created_by: Ann <ann@example.com>
created_at: "2026-11-02T10:00:00Z"
description: ""
lineage:
  run: {url: null, id: r1}
  code: {commit: abc}
metrics: {auc: 0.9, n: 3}
artifact: {name: m.bin, type: file, size: 12, format: null, digest: "sha256:%s"}
version: 4
model: fraud
kind: ModelVersion
apiVersion: gitreg/v1
tags: {}
""" % ("ab" * 32)


@pytest.mark.parametrize(
    "text",
    [
        version_manifest("fraud", 4, index=3),
        version_manifest("fraud", 4, index=3, lean=True),
        HAND_WRITTEN,
    ],
)
def test_a_version_record_gives_the_models_data(text: str) -> None:
    doc = yamlio.load(text, "models/fraud/versions/4.yaml")
    typed = manifest.parse(ModelVersion, doc)
    record = records.version_record(doc, "fraud", 4)
    assert record.to_yaml_data() == typed.to_yaml_data()
    assert list(record.to_yaml_data()) == list(typed.to_yaml_data())
    assert record.data() == typed.model_dump(mode="json", by_alias=True)
    for attribute in ("model", "version", "status", "metrics", "params", "tags", "ref", "created_at"):
        assert getattr(record, attribute) == getattr(typed, attribute), attribute
    for attribute in ("digest", "size", "type", "name", "format"):
        assert getattr(record.artifact, attribute) == getattr(typed.artifact, attribute), attribute
    assert record.framework is None or record.framework.name == typed.framework.name  # type: ignore[union-attr]


def test_a_model_record_gives_the_models_data() -> None:
    text = model_manifest("fraud", 1, production_metrics={"auc": ">= 0.5"})
    doc = yamlio.load(text, "models/fraud/model.yaml")
    assert records.model_record(doc, "fraud").data() == manifest.parse(ModelInfo, doc).model_dump(
        mode="json", by_alias=True
    )


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        ("status: archived", "status: retired", "status: expected 'active' or 'archived'"),
        ("version: 4", "version: 5", "version: expected 4"),
        ("model: fraud", "model: churn", "model: expected 'fraud', the folder's name"),
        ("kind: ModelVersion", "kind: Model", "kind: expected 'ModelVersion'"),
        (
            "metrics: {auc: 0.9, n: 3}",
            "metrics: {auc: high}",
            "metrics: expected a mapping of names to numbers",
        ),
        ("size: 12", "size: -1", "artifact.size: expected a number of bytes"),
        ("type: file", "type: dir", "artifact.type: expected file or tree"),
    ],
)
def test_a_version_record_checks_what_reads_use(line: str, replacement: str, message: str) -> None:
    text = HAND_WRITTEN.replace(line, replacement)
    assert text != HAND_WRITTEN
    number = text.splitlines().index(next(x for x in text.splitlines() if replacement in x)) + 1
    with pytest.raises(ManifestError) as exc:
        records.version_record(yamlio.load(text, "v.yaml"), "fraud", 4)
    problem = exc.value.problems[0]
    assert (problem.path, problem.line, problem.message) == ("v.yaml", number, message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fraud: 0\n", "fraud: expected a version number in plain decimal digits, such as 3"),
        ("fraud: '010'\n", "fraud: expected a version number in plain decimal digits, such as 3"),
        ("fraud: true\n", "fraud: expected a version number in plain decimal digits, such as 3"),
        ("Fraud: 1\n", "'Fraud' is not a valid model name"),
        ("- fraud\n", "expected a mapping of models to versions"),
    ],
)
def test_a_stage_map_checks_names_and_numbers(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as exc:
        records.stage_map(yamlio.load(text, "stages/staging.yaml"))
    assert exc.value.problems[0].message == message
    with pytest.raises(ManifestError):  # the typed model refuses it too
        manifest.parse(manifest.StageFile, yamlio.load(text, "stages/staging.yaml"))


def test_an_empty_stage_file_is_an_empty_stage() -> None:
    assert records.stage_map(yamlio.load("", "stages/staging.yaml")) == {}
