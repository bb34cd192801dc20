"""Pydantic models of the files in a registry repository: registry.yaml, model.yaml, version manifests and
stage files. Every model forbids unknown fields; ``parse`` turns pydantic's errors into one
``path:line:col: message`` problem each, with a "did you mean" hint for a misspelt field."""

from __future__ import annotations

import difflib
import re
import types
import typing
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from gitreg.errors import ManifestError, Problem
from gitreg.filesystem import name_problem
from gitreg.layout import MAX_SIZE, NAME
from gitreg.records import THRESHOLD
from gitreg.records import threshold_holds as threshold_holds  # noqa: PLC0414 - a re-export: its old home
from gitreg.yamlio import Document

API_VERSION = "gitreg/v1"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
_NAME_RE = NAME


def name_error(value: str) -> str | None:
    """Why ``value`` cannot name a model or a stage (both become file names), or None when it can."""
    if not _NAME_RE.fullmatch(value):
        return (
            f"{value!r} is not a valid name: use 1-64 lowercase letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    problem = name_problem(value)
    return None if problem is None else f"{value!r} is not a valid name: it {problem}"


def is_name(value: str) -> bool:
    return name_error(value) is None


def _name(value: str) -> str:
    error = name_error(value)
    if error is not None:
        raise ValueError(error)
    return value


Name = Annotated[StrictStr, AfterValidator(_name)]
Digest = Annotated[StrictStr, Field(pattern=DIGEST_PATTERN)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]


_NUMBER_LIKE = re.compile(r"[-+]?[0-9][0-9A-Za-z_:.]*")
_DECIMAL = re.compile(r"[1-9][0-9]*")


def _not_text(value: Any) -> Any:
    """Say why 010, 0x0a, 1_0 or +10 is not a version (the YAML loader leaves them as text: see yamlio);
    other text gets pydantic's "should be a valid integer"."""
    if isinstance(value, str) and _NUMBER_LIKE.fullmatch(value) and not _DECIMAL.fullmatch(value):
        raise ValueError(f"expected a version number in plain decimal digits, such as 3, not {value!r}")
    return value


#: A version number: a positive integer written in plain decimal digits.
VersionNumber = Annotated[PositiveInt, BeforeValidator(_not_text)]
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat | None
Number = StrictInt | StrictFloat

_THRESHOLD_RE = THRESHOLD


def _threshold(value: str) -> str:
    if not _THRESHOLD_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a threshold: write an operator and a number, such as '>= 0.9'")
    return value


Threshold = Annotated[StrictStr, AfterValidator(_threshold)]


def _iso_timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp such as '2026-11-22T10:00:00Z'") from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Policy(_Strict):
    """What a version must carry to enter a stage."""

    fields: list[StrictStr] = []
    metrics: dict[StrictStr, Threshold] = {}


class StageSpec(_Strict):
    name: Name
    requires: list[Name] = []
    policy: Policy = Policy()


class StorageSpec(_Strict):
    url: StrictStr
    options: dict[StrictStr, Any] = {}


class Rules(_Strict):
    """Repository hygiene settings for the validator."""

    max_file_size: PositiveInt = 1024 * 1024


class RegistryConfig(_Strict):
    api_version: Literal["gitreg/v1"] = Field(alias="apiVersion")
    kind: Literal["Registry"]
    storage: StorageSpec
    stages: list[StageSpec] = []
    rules: Rules = Rules()

    def stage(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)


class ModelInfo(_Strict):
    api_version: Literal["gitreg/v1"] = Field(alias="apiVersion")
    kind: Literal["Model"]
    name: Name
    description: StrictStr = ""
    owners: list[StrictStr] = []
    tags: dict[StrictStr, StrictStr] = {}
    policy: dict[Name, Policy] = {}


class Artifact(_Strict):
    digest: Digest
    size: Annotated[StrictInt, Field(ge=0, le=MAX_SIZE)]
    type: Literal["file", "tree"]
    name: StrictStr = Field(min_length=1)
    format: StrictStr | None = None


class Framework(_Strict):
    name: StrictStr
    version: StrictStr | None = None


class CodeLineage(_Strict):
    repo: StrictStr | None = None
    commit: StrictStr | None = None
    path: StrictStr | None = None


class DataLineage(_Strict):
    uri: StrictStr
    digest: StrictStr | None = None


class RunLineage(_Strict):
    id: StrictStr | None = None
    url: StrictStr | None = None


class Lineage(_Strict):
    code: CodeLineage | None = None
    data: list[DataLineage] = []
    run: RunLineage | None = None
    parent: VersionNumber | None = None


class ModelVersion(_Strict):
    api_version: Literal["gitreg/v1"] = Field(alias="apiVersion")
    kind: Literal["ModelVersion"]
    model: Name
    version: VersionNumber
    artifact: Artifact
    framework: Framework | None = None
    metrics: dict[StrictStr, Number] = {}
    params: dict[StrictStr, Scalar | list[Scalar]] = {}
    lineage: Lineage = Lineage()
    signature: dict[StrictStr, Any] | None = None
    tags: dict[StrictStr, StrictStr] = {}
    description: StrictStr = ""
    created_at: Annotated[StrictStr, AfterValidator(_iso_timestamp)]
    created_by: StrictStr
    status: Literal["active", "archived"] = "active"

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def field_value(self, dotted: str) -> Any:
        """The value at a dotted path such as ``lineage.code.commit`` (None where any step is missing)."""
        value: Any = self
        for part in dotted.split("."):
            if isinstance(value, BaseModel):
                fields = type(value).model_fields
                name = next((n for n, f in fields.items() if part in (n, f.alias)), None)
                if name is None:
                    return None  # only declared fields count: not methods, not pydantic's attributes
                value = getattr(value, name)
            elif isinstance(value, dict):
                value = value.get(part)
            else:
                return None
        return value

    def to_yaml_data(self) -> dict[str, Any]:
        """The manifest as plain data in the spec's field order, empty optional fields left out."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
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


class StageFile(RootModel[dict[Name, VersionNumber]]):
    """``stages/<stage>.yaml``: model -> version."""


KINDS: dict[str, type[BaseModel]] = {
    "Registry": RegistryConfig,
    "Model": ModelInfo,
    "ModelVersion": ModelVersion,
    "Stage": StageFile,
}

T = TypeVar("T", bound=BaseModel)


def parse(cls: type[T], doc: Document) -> T:
    """Validate a parsed YAML document against ``cls``; raise ManifestError with one problem per error."""
    data = {} if doc.data is None and cls is StageFile else doc.data
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_problems(cls, doc, exc)) from None


_TYPE_NAMES = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "none_required": "null",
}


def _problems(cls: type[BaseModel], doc: Document, exc: ValidationError) -> list[Problem]:
    """One problem per error, at the document key it concerns; a value that fails every member of a union
    on its type is one "expected a or b" problem (and none at all if a member matched deeper down)."""
    by_loc: dict[tuple[str | int, ...], list[Any]] = {}
    for err in exc.errors():
        by_loc.setdefault(_document_loc(doc.data, err), []).append(err)
    problems: list[Problem] = []
    for loc, errs in by_loc.items():
        type_errors = all(e["type"] in _TYPE_NAMES for e in errs)
        if type_errors and len(errs) > 1:
            if any(len(other) > len(loc) and other[: len(loc)] == loc for other in by_loc):
                continue  # a container member matched, and its items say what is wrong
            expected = " or ".join(dict.fromkeys(_TYPE_NAMES[e["type"]] for e in errs))
            first = _problem(cls, doc, loc, errs[0])
            head = first.message.split(": ", 1)[0] if loc else ""
            message = f"{head}: expected {expected}" if head else f"expected {expected}"
            problems.append(Problem(first.path, first.line, first.col, message))
        else:
            problems += [_problem(cls, doc, loc, e) for e in errs]
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line, p.col))


def _document_loc(data: Any, err: Any) -> tuple[str | int, ...]:
    """The error's location as keys of the document: pydantic also puts union members' names ("str",
    "function-after[...]") and "[key]" markers in locations, which are not keys; walking the data tells
    them apart, even from a model that is really named "str"."""
    raw = tuple(err["loc"])
    keep_last = err["type"] in ("missing", "extra_forbidden")
    out: list[str | int] = []
    current = data
    for index, part in enumerate(raw):
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            out.append(part)
            current = current[part]
        elif keep_last and index == len(raw) - 1:
            out.append(part)
    return tuple(out)


def _problem(cls: type[BaseModel], doc: Document, loc: tuple[str | int, ...], err: Any) -> Problem:
    dotted = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown field {loc[-1]!r}"
        candidates = _field_names(cls, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), candidates, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        elif candidates:
            message += f" (allowed: {', '.join(sorted(candidates))})"
    elif kind == "missing":
        message = f"missing required field {dotted!r}"
    else:
        text = str(err["msg"]).removeprefix("Value error, ")
        message = f"{dotted}: {text}" if dotted else text
    line, col = doc.position(loc)
    return Problem(doc.path, line, col, message)


def _field_names(cls: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names (as written in YAML) of the model found at ``loc`` below ``cls``."""
    target: Any = cls
    for part in loc:
        target = _unwrap(target)
        if isinstance(target, type) and issubclass(target, BaseModel):
            field = next(
                (f for n, f in target.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return []
            target = field.annotation
        elif typing.get_origin(target) in (list, dict):
            target = typing.get_args(target)[-1]
        else:
            return []
    target = _unwrap(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return [f.alias or n for n, f in target.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] down to the model or container inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file, for editors and other tools."""
    schema: dict[str, Any] = KINDS[kind].model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema.setdefault("title", kind)
    return schema
