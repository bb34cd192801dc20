"""Pydantic models of the files in a registry repository: registry.yaml, model.yaml, version manifests and
stage files. Every model forbids unknown fields; ``parse`` turns pydantic's errors into one
``path:line:col: message`` problem each, with a "did you mean" hint for a misspelt field."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
)

from gitreg import durations
from gitreg.errors import ManifestError, Problem
from gitreg.filesystem import is_name as is_name  # noqa: PLC0414 - a re-export: callers import it here
from gitreg.filesystem import name_problem
from gitreg.layout import MAX_SIZE, NAME
from gitreg.records import THRESHOLD, without_empty_fields
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


def _name(value: str) -> str:
    error = name_error(value)
    if error is not None:
        raise ValueError(error)
    return value


#: What JSON Schema can say of a name: the pattern, and not a Windows device name (filesystem.name_problem).
NAME_SCHEMA = {
    "type": "string",
    "pattern": NAME.pattern,
    "not": {"pattern": r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\.|$)"},
}
Name = Annotated[StrictStr, AfterValidator(_name), WithJsonSchema(NAME_SCHEMA)]
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


Threshold = Annotated[
    StrictStr,
    AfterValidator(_threshold),
    WithJsonSchema({"type": "string", "pattern": _THRESHOLD_RE.pattern}),
]


def _iso_timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp such as '2026-11-22T10:00:00Z'") from None
    return value


#: What JSON Schema can say of an ISO 8601 timestamp: it starts with a date (the rest only Python can judge).
_TIMESTAMP_SCHEMA = {"type": "string", "pattern": "^[0-9]{4}(-?[0-9]{2}-?[0-9]{2}|-?W[0-9]{2})"}
Timestamp = Annotated[StrictStr, AfterValidator(_iso_timestamp), WithJsonSchema(_TIMESTAMP_SCHEMA)]


def _retention_period(value: Any) -> Any:
    problem = durations.retention_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _at_least_one(value: Any) -> Any:
    if type(value) is int and value < 1:
        raise ValueError(f"{value} is below 1: the newest version is always kept, so write 1 or more")
    return value


#: How many of a model's newest active versions retention always keeps.
KeepLast = Annotated[
    StrictInt, BeforeValidator(_at_least_one), WithJsonSchema({"type": "integer", "minimum": 1})
]
#: A retention period: days or weeks with the unit, such as 180d or 26w (see gitreg.durations).
RetentionPeriod = Annotated[
    StrictStr,
    BeforeValidator(_retention_period),
    WithJsonSchema({"type": "string", "pattern": durations.RETENTION_PATTERN}),
]


class _Strict(BaseModel):
    """Unknown fields are errors; each field's docstring is its description in the JSON Schema, and its
    title is the key as written in YAML."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        use_attribute_docstrings=True,
        field_title_generator=lambda name, field: field.alias or name,
    )


class Policy(_Strict):
    """What a version must carry to enter a stage."""

    fields: list[StrictStr] = []
    """Dotted fields a version must have, such as description or lineage.code.commit."""
    metrics: dict[StrictStr, Threshold] = {}
    """Metric thresholds, such as {auc: ">= 0.9"}: an operator (>=, >, <=, <, ==) and a number."""


class StageSpec(_Strict):
    """A stage versions are promoted into."""

    name: Name
    """The stage's name, also its file's: stages/<name>.yaml."""
    requires: list[Name] = []
    """Stages a version must hold on the base branch before it enters this one (rollbacks excepted)."""
    policy: Policy = Policy()
    """What a version must carry to enter this stage."""


class StorageSpec(_Strict):
    """Where the artifacts' blobs are stored."""

    url: StrictStr
    """file:///path, a path relative to the registry, s3://bucket/prefix, gs://..., az://...;
    GITREG_STORAGE_URL overrides it."""
    options: dict[StrictStr, Any] = {}
    """Backend options such as endpoint_url; never credentials."""


class Rules(_Strict):
    """Repository hygiene settings for the validator."""

    max_file_size: PositiveInt = 1024 * 1024
    """The largest file, in bytes, the registry repository may hold (model files go to the blob store)."""


class Retention(_Strict):
    """When versions are retired (archived) and when their blobs may be deleted; a model's retention
    overrides the registry's field by field. Periods are days or weeks, such as 180d or 26w."""

    keep_last: KeepLast | None = None
    """Always keep the newest N active versions of each model (1 when unset)."""
    archive_after: RetentionPeriod | None = None
    """Retire active versions created longer ago than this; unset: none is retired."""
    protect: list[Name] | None = None
    """Stages whose versions are kept while the stage held them within archive_after (unset: every stage);
    a version a stage holds now is always kept."""
    delete_archived_after: RetentionPeriod | None = None
    """Blobs only versions archived longer ago than this refer to become collectable by gc; unset: never."""


class RegistryConfig(_Strict):
    """registry.yaml: the blob store, the stages and their rules."""

    api_version: Literal["gitreg/v1"] = Field(alias="apiVersion")
    """The version of the file format: gitreg/v1."""
    kind: Literal["Registry"]
    """The kind of file: Registry."""
    storage: StorageSpec
    """Where the artifacts' blobs are stored."""
    stages: list[StageSpec] = []
    """The stages, each with the stages it requires and its policy."""
    rules: Rules = Rules()
    """Repository hygiene settings for the validator."""
    retention: Retention | None = None
    """When versions are retired and their blobs collected (gitreg retire, gitreg gc)."""

    def stage(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)


class ModelInfo(_Strict):
    """models/<model>/model.yaml: one model."""

    api_version: Literal["gitreg/v1"] = Field(alias="apiVersion")
    """The version of the file format: gitreg/v1."""
    kind: Literal["Model"]
    """The kind of file: Model."""
    name: Name
    """The model's name, equal to its folder's: 1-64 lowercase letters, digits, '.', '_' or '-'."""
    description: StrictStr = ""
    """What the model does."""
    owners: list[StrictStr] = []
    """CODEOWNERS handles of the model's owners, such as @risk-ml."""
    tags: dict[StrictStr, StrictStr] = {}
    """Free-form labels."""
    policy: dict[Name, Policy] = {}
    """Per-stage rules that add to registry.yaml's: stage -> policy."""
    retention: Retention | None = None
    """This model's retention: each field it sets overrides registry.yaml's."""


class Artifact(_Strict):
    """The model's bytes in the blob store."""

    digest: Digest
    """sha256:<64 hex digits> of the file, or of the canonical tree listing of a folder."""
    size: Annotated[StrictInt, Field(ge=0, le=MAX_SIZE)]
    """Bytes (of a folder: the sum of its files)."""
    type: Literal["file", "tree"]
    """file, or tree for a folder."""
    name: StrictStr = Field(min_length=1)
    """The file or folder name as registered."""
    format: StrictStr | None = None
    """Free text: onnx, safetensors, pickle, mlflow, ..."""


class Framework(_Strict):
    """The framework that made the model."""

    name: StrictStr
    """Its name, such as sklearn."""
    version: StrictStr | None = None
    """Its version, such as "1.5.2"."""


class CodeLineage(_Strict):
    """The training code."""

    repo: StrictStr | None = None
    """The code's repository URL."""
    commit: StrictStr | None = None
    """The commit trained from."""
    path: StrictStr | None = None
    """The script or entry point in the repository."""


class DataLineage(_Strict):
    """A data set the model was trained on."""

    uri: StrictStr
    """Where the data is."""
    digest: StrictStr | None = None
    """The data's digest, if known."""


class RunLineage(_Strict):
    """The training run."""

    id: StrictStr | None = None
    """The run's id in the tracking system."""
    url: StrictStr | None = None
    """A link to the run."""


class Lineage(_Strict):
    """Where the version came from."""

    code: CodeLineage | None = None
    """The training code."""
    data: list[DataLineage] = []
    """The data sets trained on."""
    run: RunLineage | None = None
    """The training run."""
    parent: VersionNumber | None = None
    """The version of this model this one was derived from."""


class ModelVersion(_Strict):
    """models/<model>/versions/<version>.yaml: one version; once merged only status, tags and description
    may change."""

    api_version: Literal["gitreg/v1"] = Field(alias="apiVersion")
    """The version of the file format: gitreg/v1."""
    kind: Literal["ModelVersion"]
    """The kind of file: ModelVersion."""
    model: Name
    """The model's name, equal to the folder's."""
    version: VersionNumber
    """A positive integer in plain decimal digits, equal to the file's name."""
    artifact: Artifact
    """The model's bytes in the blob store."""
    framework: Framework | None = None
    """The framework that made the model."""
    metrics: dict[StrictStr, Number] = {}
    """Finite numbers, such as {auc: 0.931}; stage policies set thresholds on them."""
    params: dict[StrictStr, Scalar | list[Scalar]] = {}
    """Training parameters: scalars or lists of scalars."""
    lineage: Lineage = Lineage()
    """Where the version came from: code, data, run, parent."""
    signature: dict[StrictStr, Any] | None = None
    """The model's inputs and outputs, free form."""
    tags: dict[StrictStr, StrictStr] = {}
    """Free-form labels (may change after merge)."""
    description: StrictStr = ""
    """What changed in this version (may change after merge)."""
    created_at: Timestamp
    """When it was registered: ISO 8601, such as 2026-11-22T10:00:00Z."""
    created_by: StrictStr
    """Who registered it, such as Alice <alice@example.com>."""
    status: Literal["active", "archived"] = "active"
    """active, or archived (out of service; may change after merge)."""

    _stages: tuple[str, ...] | Callable[[], list[str]] = PrivateAttr(default=())

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    @property
    def stages(self) -> list[str]:
        """The stages that hold this version, in registry.yaml's order, at the commit (or working tree) of
        the ``Registry`` that returned it: ``resolve``, ``version``, ``versions``, ``latest`` and
        ``register`` fill it in (read on first use, then kept). It is context, not content: not in the
        manifest, not in ``model_dump``, not part of equality; a version built by hand (``model_validate``)
        is in no stage."""
        if callable(self._stages):
            self._stages = tuple(self._stages())
        return list(self._stages)

    def in_stages(self, stages: list[str] | Callable[[], list[str]]) -> ModelVersion:
        """A copy of this version that says ``stages`` hold it (or a function that says which, called on
        first use of ``stages``): what a ``Registry`` returns."""
        copy = self.model_copy()
        copy._stages = stages if callable(stages) else tuple(stages)
        return copy

    def __getstate__(self) -> dict[Any, Any]:
        self.stages  # noqa: B018 - a pickle carries the stages, not the function that reads them
        return super().__getstate__()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelVersion):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = _Strict.__hash__

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
        return without_empty_fields(self.model_dump(mode="json", by_alias=True, exclude_none=True))


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
    """The JSON Schema of one kind of file, for editors and other tools (see gitreg.schemas)."""
    from gitreg import schemas  # noqa: PLC0415 - schemas imports this module

    return schemas.json_schema(kind)
