"""Manifests as the read path sees them: YAML data put in the schema's field order with its defaults, checked
only where a read uses a field, behind attribute access. `gitreg show`, `list` and `pull` read these, so a
read never imports pydantic; the full models (``gitreg.manifest``) validate whatever is written (register,
promote, validate) and what a Python caller asks for.

The field order and defaults below are the models' own, restated for speed: ``tests/test_records.py`` derives
them from ``gitreg.manifest`` and fails if the two ever differ, and checks that a record of a valid file
gives the same data as its model."""

from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable

from gitreg.errors import ManifestError, Problem
from gitreg.layout import DIGEST, MAX_SIZE, NAME
from gitreg.yamlio import Document

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

#: A field with no default: the file must have it.
REQUIRED = object()

#: {field: (default, nested shape)}, in the models' order. A nested shape is a shape (a sub-model), or
#: ``("each", shape)`` for a list or mapping of sub-models.
Shape: TypeAlias = "dict[str, tuple[Any, Any]]"

ARTIFACT: Shape = {
    "digest": (REQUIRED, None),
    "size": (REQUIRED, None),
    "type": (REQUIRED, None),
    "name": (REQUIRED, None),
    "format": (None, None),
}
LINEAGE: Shape = {
    "code": (None, {"repo": (None, None), "commit": (None, None), "path": (None, None)}),
    "data": ([], ("each", {"uri": (REQUIRED, None), "digest": (None, None)})),
    "run": (None, {"id": (None, None), "url": (None, None)}),
    "parent": (None, None),
}
MODEL_VERSION: Shape = {
    "apiVersion": (REQUIRED, None),
    "kind": (REQUIRED, None),
    "model": (REQUIRED, None),
    "version": (REQUIRED, None),
    "artifact": (REQUIRED, ARTIFACT),
    "framework": (None, {"name": (REQUIRED, None), "version": (None, None)}),
    "metrics": ({}, None),
    "params": ({}, None),
    "lineage": ({}, LINEAGE),
    "signature": (None, None),
    "tags": ({}, None),
    "description": ("", None),
    "created_at": (REQUIRED, None),
    "created_by": (REQUIRED, None),
    "status": ("active", None),
}
POLICY: Shape = {"fields": ([], None), "metrics": ({}, None)}
RETENTION: Shape = {
    "keep_last": (None, None),
    "archive_after": (None, None),
    "protect": (None, None),
    "delete_archived_after": (None, None),
}
STAGE_SPEC: Shape = {"name": (REQUIRED, None), "requires": ([], None), "policy": ({}, POLICY)}
REGISTRY: Shape = {
    "apiVersion": (REQUIRED, None),
    "kind": (REQUIRED, None),
    "storage": (REQUIRED, {"url": (REQUIRED, None), "options": ({}, None)}),
    "stages": ([], ("each", STAGE_SPEC)),
    "rules": ({}, {"max_file_size": (1024 * 1024, None)}),
    "retention": (None, RETENTION),
}
MODEL_INFO: Shape = {
    "apiVersion": (REQUIRED, None),
    "kind": (REQUIRED, None),
    "name": (REQUIRED, None),
    "description": ("", None),
    "owners": ([], None),
    "tags": ({}, None),
    "policy": ({}, ("each", POLICY)),
    "retention": (None, RETENTION),
}


def complete(data: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """``data`` in the shape's order with every default filled in (what pydantic's ``model_dump`` gives);
    fields the shape does not know are kept at the end."""
    out: dict[str, Any] = {}
    for name, (default, nested) in shape.items():
        if name in data:
            value = data[name]
        elif default is REQUIRED:
            continue
        else:
            value = copy.copy(default)
        out[name] = _nest(value, nested)
    return out | {k: v for k, v in data.items() if k not in shape}


def _nest(value: Any, nested: Any) -> Any:
    if nested is None:
        return value
    if isinstance(nested, tuple):
        shape = nested[1]
        if isinstance(value, list):
            return [complete(v, shape) if isinstance(v, dict) else v for v in value]
        if isinstance(value, dict):
            return {k: complete(v, shape) if isinstance(v, dict) else v for k, v in value.items()}
        return value
    return complete(value, nested) if isinstance(value, dict) else value


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


class Record:
    """Manifest data with attribute access: ``v.artifact.digest``, ``v.metrics``, ``v.status``. A field the
    file leaves out reads as its default."""

    def __init__(self, data: dict[str, Any], shape: Shape) -> None:
        self._raw = data
        self._shape = shape
        self._full: dict[str, Any] | None = None  # ``complete``'s, made when first asked for

    @property
    def _data(self) -> dict[str, Any]:
        if self._full is None:
            self._full = complete(self._raw, self._shape)
        return self._full

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        key = "apiVersion" if name == "api_version" else name
        if key not in self._shape:
            raise AttributeError(name)
        default, nested = self._shape[key]
        if key in self._raw:
            value = self._raw[key]
        elif default is REQUIRED:
            return None
        else:
            value = copy.copy(default)
        if isinstance(value, dict) and isinstance(nested, dict):
            return Record(value, nested)
        return _nest(value, nested)

    def data(self) -> dict[str, Any]:
        """Every field, defaults filled in (``model_dump(mode="json", by_alias=True)``)."""
        return copy.deepcopy(self._data)


class VersionRecord(Record):
    """A version manifest (``models/<model>/versions/<n>.yaml``) for reading."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data, MODEL_VERSION)

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def field_value(self, dotted: str) -> Any:
        return field_value(self, dotted)

    @property
    def status(self) -> str:
        """active or archived (a walk asks this of every version it meets)."""
        status: str = self._raw.get("status", "active")
        return status

    def digest_and_size(self) -> tuple[str, int]:
        """The artifact's digest and size (a walk asks this of thousands of versions)."""
        artifact = self._raw["artifact"]
        return artifact["digest"], artifact["size"]

    def to_yaml_data(self) -> dict[str, Any]:
        """The manifest as ``ModelVersion.to_yaml_data`` gives it: the spec's field order, empty optional
        fields left out."""
        return without_empty_fields(_drop_none(self.data()))


def version_record(doc: Document, model: str, number: int) -> VersionRecord:
    """A version file read for ``model`` and ``number``: the fields reads use are checked (kind, model,
    version, status, the artifact, metrics); ManifestError, at the field, if one is not as the schema says."""
    data = _mapping(doc)
    _expect(doc, ("kind",), data.get("kind") == "ModelVersion", "kind: expected 'ModelVersion'")
    _expect(doc, ("model",), data.get("model") == model, f"model: expected {model!r}, the folder's name")
    version = data.get("version")
    _expect(doc, ("version",), type(version) is int and version == number, f"version: expected {number}")
    status = data.get("status", "active")
    _expect(doc, ("status",), status in ("active", "archived"), "status: expected 'active' or 'archived'")
    art = data.get("artifact")
    if not isinstance(art, dict):
        raise _problem(doc, ("artifact",), "artifact: expected a mapping")
    digest, size, name = art.get("digest"), art.get("size"), art.get("name")
    _expect(doc, ("artifact", "digest"), isinstance(digest, str) and bool(DIGEST.fullmatch(digest)),
            "artifact.digest: expected sha256: and 64 hex digits")  # fmt: skip
    _expect(doc, ("artifact", "size"), type(size) is int and 0 <= size <= MAX_SIZE,
            "artifact.size: expected a number of bytes")  # fmt: skip
    _expect(
        doc, ("artifact", "type"), art.get("type") in ("file", "tree"), "artifact.type: expected file or tree"
    )
    _expect(doc, ("artifact", "name"), isinstance(name, str) and bool(name), "artifact.name: expected a name")
    metrics = data.get("metrics", {})
    numbers = isinstance(metrics, dict) and all(
        isinstance(k, str) and type(v) in (int, float) for k, v in metrics.items()
    )
    _expect(doc, ("metrics",), numbers, "metrics: expected a mapping of names to numbers")
    _expect(doc, ("created_at",), isinstance(data.get("created_at"), str), "created_at: expected a string")
    return VersionRecord(data)


def model_record(doc: Document, name: str) -> Record:
    """A model.yaml read for model ``name`` (its kind and name checked)."""
    data = _mapping(doc)
    _expect(doc, ("kind",), data.get("kind") == "Model", "kind: expected 'Model'")
    _expect(doc, ("name",), data.get("name") == name, f"name: expected {name!r}, the folder's name")
    return Record(data, MODEL_INFO)


def stage_names(doc: Document) -> list[str]:
    """The stages registry.yaml declares, in order."""
    data = _mapping(doc)
    stages = data.get("stages", [])
    _expect(doc, ("stages",), isinstance(stages, list), "stages: expected a list")
    names: list[str] = []
    for index, stage in enumerate(stages):
        name = stage.get("name") if isinstance(stage, dict) else None
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise _problem(doc, ("stages", index, "name"), f"stages.{index}.name: expected a stage name")
        names.append(name)
    return names


def storage_spec(doc: Document) -> tuple[str, dict[str, Any]]:
    """registry.yaml's storage URL and backend options."""
    storage = _mapping(doc).get("storage")
    if not isinstance(storage, dict):
        raise _problem(doc, ("storage",), "storage: expected a mapping")
    url, options = storage.get("url"), storage.get("options", {})
    if not isinstance(url, str):
        raise _problem(doc, ("storage", "url"), "storage.url: expected a string")
    if not isinstance(options, dict):
        raise _problem(doc, ("storage", "options"), "storage.options: expected a mapping")
    return url, dict(options)


def stage_map(doc: Document) -> dict[str, int]:
    """A stage file's {model: version}: names and positive version numbers checked."""
    data = {} if doc.data is None else doc.data
    _expect(doc, (), isinstance(data, dict), "expected a mapping of models to versions")
    for model, version in data.items():
        _expect(doc, (model,), isinstance(model, str) and bool(NAME.fullmatch(model)),
                f"{model!r} is not a valid model name")  # fmt: skip
        _expect(doc, (model,), type(version) is int and version > 0,
                f"{model}: expected a version number in plain decimal digits, such as 3")  # fmt: skip
    return dict(data)


def _mapping(doc: Document) -> dict[str, Any]:
    if not isinstance(doc.data, dict):
        raise _problem(doc, (), "expected a mapping")
    return doc.data


def _expect(doc: Document, key: tuple[str | int, ...], ok: bool, message: str) -> None:
    if not ok:
        raise _problem(doc, key, message)


def _problem(doc: Document, key: tuple[str | int, ...], message: str) -> ManifestError:
    line, col = doc.position(key)
    return ManifestError([Problem(doc.path, line, col, message)])


def without_empty_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A version manifest's data as it is written: empty optional fields (metrics, params, tags, signature,
    lineage and its parts, description) left out. One rule for the records and the pydantic models."""
    for key in ("metrics", "params", "tags", "signature"):
        if not data.get(key):
            data.pop(key, None)
    lineage = {k: v for k, v in data.get("lineage", {}).items() if v}
    if lineage:
        data["lineage"] = lineage
    else:
        data.pop("lineage", None)
    if not data.get("description"):
        data.pop("description", None)
    return data


# --- what the validator's light path (gitreg.validate.light) reads in place of the typed models -----------

_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
#: A metric threshold, such as ``>= 0.9`` (``gitreg.manifest.Threshold``).
THRESHOLD = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*$")


def threshold_holds(threshold: str, value: float) -> bool:
    """Whether ``value`` meets a threshold such as ``">= 0.9"``."""
    match = THRESHOLD.fullmatch(threshold)
    if match is None:  # pragma: no cover - thresholds are validated on load
        raise ValueError(threshold)
    return _COMPARATORS[match.group(1)](value, float(match.group(2)))


class ConfigRecord(Record):
    """registry.yaml, standing in for ``RegistryConfig``."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data, REGISTRY)

    @property
    def stages(self) -> list[Record]:
        return [Record(s, STAGE_SPEC) for s in self._data["stages"]]

    def stage(self, name: str) -> Record | None:
        return next((s for s in self.stages if s.name == name), None)


class ModelRecord(Record):
    """model.yaml, standing in for ``ModelInfo``."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data, MODEL_INFO)

    @property
    def policy(self) -> dict[str, Record]:
        return {stage: Record(p, POLICY) for stage, p in self._data["policy"].items()}

    def policy_for(self, stage: str) -> Record | None:
        """The model's own policy for ``stage``, if it sets one that asks anything."""
        policy = self._raw.get("policy", {}).get(stage)
        return Record(policy, POLICY) if policy and (policy.get("fields") or policy.get("metrics")) else None


def field_value(record: Record, dotted: str) -> Any:
    """``ModelVersion.field_value`` over a record: the value at a dotted path, only declared fields
    counting, None where any step is missing; a sub-model is a record (never empty, as a model is not)."""
    value: Any = record
    for part in dotted.split("."):
        if isinstance(value, Record):
            key = "apiVersion" if part == "api_version" and "apiVersion" in value._shape else part
            if key not in value._shape:
                return None
            value = value.__getattr__(key)
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


__all__ = [
    "ConfigRecord",
    "ModelRecord",
    "Record",
    "VersionRecord",
    "model_record",
    "stage_map",
    "stage_names",
    "storage_spec",
    "threshold_holds",
    "version_record",
    "without_empty_fields",
]
