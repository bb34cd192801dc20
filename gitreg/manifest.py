"""Pydantic models of the files in a registry repository: registry.yaml, model.yaml, version manifests and
stage files. Every model forbids unknown fields; ``parse`` turns pydantic's errors into one
``path:line:col: message`` problem each, with a "did you mean" hint for a misspelt field (see
``manifest_problems``). The constrained field types the models are built from are in ``manifest_fields``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    StrictInt,
    StrictStr,
    ValidationError,
)

from gitreg.errors import ManifestError
from gitreg.filesystem import is_name as is_name  # noqa: PLC0414 - a re-export: callers import it here
from gitreg.layout import MAX_SIZE

# the field types, re-exported: callers import them here
from gitreg.manifest_fields import API_VERSION as API_VERSION  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import DIGEST_PATTERN as DIGEST_PATTERN  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import NAME_SCHEMA as NAME_SCHEMA  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import Digest as Digest  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import KeepLast as KeepLast  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import Name as Name  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import Number as Number  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import PositiveInt as PositiveInt  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import RetentionPeriod as RetentionPeriod  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import Scalar as Scalar  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import Threshold as Threshold  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import Timestamp as Timestamp  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import VersionNumber as VersionNumber  # noqa: PLC0414 - a re-export
from gitreg.manifest_fields import name_error as name_error  # noqa: PLC0414 - a re-export
from gitreg.manifest_problems import problems, unwrap
from gitreg.records import threshold_holds as threshold_holds  # noqa: PLC0414 - a re-export: its old home
from gitreg.records import without_empty_fields
from gitreg.yamlio import Document

_unwrap = unwrap  # its old name here, which tests walk the models' annotations with


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
        raise ManifestError(problems(cls, doc, exc)) from None


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file, for editors and other tools (see gitreg.schemas)."""
    from gitreg import schemas  # noqa: PLC0415 - schemas imports this module

    return schemas.json_schema(kind)
