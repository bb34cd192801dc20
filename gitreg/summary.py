"""What a registry says at a glance, as plain data: its models with their stages, a model's versions with
the stages that hold them, and what differs between two versions. ``gitreg list``, ``show`` and ``diff``
print these; a catalog or a Python caller uses them as they are."""

from __future__ import annotations

from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from gitreg.manifest import ModelVersion
    from gitreg.records import VersionRecord
    from gitreg.registry import Registry

    #: A version as a record (what reads give) or as the typed model: both have the same attributes.
    AnyVersion: TypeAlias = ModelVersion | VersionRecord


class ModelSummary(Frozen):
    """A model: how many versions it has, its latest, and which version each stage holds."""

    __match_args__ = ("model", "latest", "versions", "stages")
    __slots__ = __match_args__
    model: str
    latest: int | None
    versions: int
    stages: dict[str, int]

    def __init__(self, model: str, latest: int | None, versions: int, stages: dict[str, int]) -> None:
        set_fields(self, model, latest, versions, stages)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "latest": self.latest, "versions": self.versions, "stages": self.stages}


class VersionWithStages(Frozen):
    """A version and the stages that hold it."""

    __match_args__ = ("version", "stages")
    __slots__ = __match_args__
    version: AnyVersion
    stages: list[str]

    def __init__(self, version: AnyVersion, stages: list[str]) -> None:
        set_fields(self, version, stages)

    def as_dict(self) -> dict[str, Any]:
        """The manifest's fields, and ``stages``."""
        return {**self.version.to_yaml_data(), "stages": self.stages}

    def row(self) -> dict[str, Any]:
        """The fields a listing of versions shows."""
        v = self.version
        return {
            "version": v.version,
            "status": v.status,
            "stages": self.stages,
            "created_at": v.created_at,
            "digest": v.artifact.digest,
            "size": v.artifact.size,
            "metrics": v.metrics,
        }


class FieldChange(Frozen):
    """One field (dotted: ``metrics.auc``) that differs; ``delta`` is ``b - a`` when both are numbers."""

    __match_args__ = ("field", "a", "b", "delta")
    __slots__ = __match_args__
    field: str
    a: Any
    b: Any
    delta: float | None

    def __init__(self, field: str, a: Any, b: Any, delta: float | None = None) -> None:
        set_fields(self, field, a, b, delta)

    def as_dict(self) -> dict[str, Any]:
        data = {"field": self.field, "a": self.a, "b": self.b}
        return data if self.delta is None else {**data, "delta": self.delta}


class VersionDiff(Frozen):
    """What differs from version ``a`` to version ``b`` (their refs), field by field."""

    __match_args__ = ("a", "b", "changes")
    __slots__ = __match_args__
    a: str
    b: str
    changes: list[FieldChange]

    def __init__(self, a: str, b: str, changes: list[FieldChange]) -> None:
        set_fields(self, a, b, changes)

    def as_dict(self) -> dict[str, Any]:
        """What ``gitreg diff --json`` prints."""
        return {"a": self.a, "b": self.b, "changes": [c.as_dict() for c in self.changes]}


def model_summary(registry: Registry, model: str) -> ModelSummary:
    """One model (NotFoundError if there is none)."""
    registry.model_record(model)
    numbers = registry.version_numbers(model)
    return ModelSummary(model, numbers[-1] if numbers else None, len(numbers), registry.stages_of(model))


def list_models(registry: Registry, stage: str | None = None) -> list[ModelSummary]:
    """Every model, by name; with ``stage``, only those that stage holds."""
    return [ModelSummary(*row) for row in model_rows(registry, stage)]


#: A model as ``gitreg list`` shows it: name, latest version, number of versions, {stage: version}.
ModelRow: TypeAlias = "tuple[str, int | None, int, dict[str, int]]"


def model_rows(registry: Registry, stage: str | None = None) -> list[ModelRow]:
    """``list_models``'s fields, a tuple a model: what ``gitreg list`` prints of a registry of 1,000 models
    without an object and a sorted list of numbers a model."""
    wanted = registry.stage(stage) if stage else None
    held: dict[str, dict[str, int]] = {}  # {model: {stage: version}}, stages in registry.yaml's order
    for s in registry.stage_names():
        for name, number in registry.stage(s).items():
            held.setdefault(name, {})[s] = number
    span = registry.reader.version_span  # model_names are valid names: no check per model
    rows: list[ModelRow] = []
    for name in registry.model_names():
        if wanted is not None and name not in wanted:
            continue
        latest, count = span(name)
        rows.append((name, latest, count, held.get(name) or {}))
    return rows


def list_versions(registry: Registry, model: str, stage: str | None = None) -> list[VersionWithStages]:
    """A model's versions, oldest first, with their stages; with ``stage``, only the one it holds."""
    wanted = registry.stage(stage) if stage else None
    registry.model_record(model)
    stages_of = registry.stages_of(model)
    return [
        VersionWithStages(v, [s for s, n in stages_of.items() if n == v.version])
        for v in registry.version_records(model)
        if wanted is None or wanted.get(model) == v.version
    ]


def with_stages(registry: Registry, version: AnyVersion) -> VersionWithStages:
    return VersionWithStages(
        version, [s for s, n in registry.stages_of(version.model).items() if n == version.version]
    )


#: Fields a diff leaves out: they always differ, or say which versions are compared.
_SKIP = {"apiVersion", "kind", "model", "version", "created_at", "created_by"}
#: The order of a diff: what a reviewer looks at first.
_ORDER = [
    "metrics",
    "params",
    "artifact",
    "framework",
    "lineage",
    "tags",
    "description",
    "status",
    "signature",
]


def version_diff(a: AnyVersion, b: AnyVersion) -> list[FieldChange]:
    """Every field that differs between ``a`` and ``b`` (metrics first, then params, artifact, ...)."""
    flat_a = {k: v for k, v in _flatten(a.to_yaml_data()).items() if k.split(".")[0] not in _SKIP}
    flat_b = {k: v for k, v in _flatten(b.to_yaml_data()).items() if k.split(".")[0] not in _SKIP}
    changes = []
    for key in sorted(set(flat_a) | set(flat_b), key=_field_order):
        va, vb = flat_a.get(key), flat_b.get(key)
        if va == vb:
            continue
        delta = None
        if isinstance(va, int | float) and isinstance(vb, int | float) and not isinstance(va, bool):
            delta = round(vb - va, 12)
        changes.append(FieldChange(key, va, vb, delta))
    return changes


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out |= _flatten(value, f"{prefix}{key}.")
        return out
    return {prefix.rstrip("."): data}


def _field_order(key: str) -> tuple[int, str]:
    head = key.split(".", maxsplit=1)[0]
    return (_ORDER.index(head) if head in _ORDER else len(_ORDER), key)


#: What ``show`` leaves out of its YAML: the same in every manifest.
SHOW_HIDDEN = ("apiVersion", "kind")


def shown(reg: Registry, ref: str) -> dict[str, Any]:
    """What ``gitreg show REF`` prints: a model (its model.yaml with its versions, latest and stages) or
    a version (its manifest with the stages that hold it). The click command and the quick entry share it."""
    from gitreg.registry import Ref  # noqa: PLC0415 - registry imports this module

    parsed = Ref.parse(ref)
    if parsed.selector is None:
        data: dict[str, Any] = reg.model_record(parsed.model).data()
        about = model_summary(reg, parsed.model)
        return data | {"versions": about.versions, "latest": about.latest, "stages": about.stages}
    return with_stages(reg, reg.resolve_record(parsed)).as_dict()


def shown_yaml(data: dict[str, Any]) -> str:
    """``shown``'s data as ``show`` prints it without --json: YAML, secrets in URLs redacted."""
    from gitreg import yamlio  # noqa: PLC0415 - only for the text output
    from gitreg.credentials import redact_data  # noqa: PLC0415

    return yamlio.dump(redact_data({k: v for k, v in data.items() if k not in SHOW_HIDDEN}))


__all__ = [
    "SHOW_HIDDEN",
    "FieldChange",
    "ModelSummary",
    "VersionDiff",
    "VersionWithStages",
    "list_models",
    "list_versions",
    "model_rows",
    "model_summary",
    "shown",
    "shown_yaml",
    "version_diff",
    "with_stages",
]
