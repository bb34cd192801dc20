"""The read-only view of a snapshot that the rules work on: the registry's reader (``gitreg.reader``), with
each file's parse problems recorded as findings instead of raised.

The view never raises: a file that does not parse or match its schema yields findings (kept with the file)
and ``None`` for its data, so one broken file does not hide the others.

``config``, ``model``, ``version``, ``stage`` and ``manifest`` give a record (``gitreg.validate.light``) for
a file its typed model accepts as it is, and the typed model otherwise: the same values and findings either
way, and pydantic is imported only when a file needs it (``records=False``: always the typed model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from gitreg import yamlio
from gitreg.errors import Problem
from gitreg.layout import REGISTRY_FILE, model_path, stage_path, version_path
from gitreg.reader import ParseCache, Parsed, Reader
from gitreg.snapshot import Snapshot
from gitreg.validate.findings import Finding
from gitreg.validate.light import light

if TYPE_CHECKING:
    from pydantic import BaseModel

    from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig

T = TypeVar("T", bound="BaseModel")


class View:
    """A snapshot with parsed, cached, never-raising access to its registry files."""

    def __init__(self, snapshot: Snapshot, shared: ParseCache | None = None, records: bool = True) -> None:
        self.reader = Reader(snapshot, shared)
        self.snapshot = snapshot
        self.records = records
        self.problems: dict[str, list[Finding]] = {}
        self._recorded: set[tuple[str, type[BaseModel] | None]] = set()
        self._manifests: dict[str, Any] = {}

    def read(self, path: str) -> bytes | None:
        return self.reader.read(path)

    def document(self, path: str) -> yamlio.Document | None:
        parsed = self._outcome(path, None)
        return parsed.value if parsed is not None else None

    def parse(self, path: str, cls: type[T]) -> T | None:
        """The file parsed as ``cls``, or None when it is absent or invalid (see ``problems``)."""
        self._outcome(path, None)
        parsed = self._outcome(path, cls)
        result = parsed.value if parsed is not None else None
        return result if isinstance(result, cls) else None

    def _outcome(self, path: str, kind: type[BaseModel] | None) -> Parsed | None:
        """The reader's outcome; the first time, its problems are recorded for ``path``."""
        parsed = self.reader.outcome(path, kind)
        if (path, kind) not in self._recorded:
            self._recorded.add((path, kind))
            if parsed is not None and parsed.error is not None and parsed.error.problems:
                problems = parsed.error.problems
                self.problems[path] = [_finding(p, "yaml" if kind is None else "schema") for p in problems]
        return parsed

    def exists(self, path: str) -> bool:
        return self.reader.exists(path)

    def manifest(self, path: str, kind: str) -> Any:
        """The file as a ``kind`` (see ``gitreg.layout.KINDS``): a record where the typed model accepts it
        as it is, else the typed model; None when it is absent or invalid (see ``problems``). A stage file
        is its {model: version} mapping."""
        if path not in self._manifests:
            doc = self.document(path)
            value = light(kind, doc.data) if doc is not None and self.records else None
            if value is None and doc is not None:
                from gitreg import manifest  # noqa: PLC0415 - pydantic only for a file that needs it

                value = self.parse(path, manifest.KINDS[kind])
                if kind == "Stage" and value is not None:
                    value = dict(value.root)  # type: ignore[attr-defined]
            self._manifests[path] = value
        return self._manifests[path]

    # A record stands in for the typed model it is checked against (gitreg.validate.light): the rules read
    # the same attributes of either.
    @property
    def config(self) -> RegistryConfig | None:
        return cast("RegistryConfig | None", self.manifest(REGISTRY_FILE, "Registry"))

    def model(self, name: str) -> ModelInfo | None:
        return cast("ModelInfo | None", self.manifest(model_path(name), "Model"))

    def version(self, model: str, number: int) -> ModelVersion | None:
        return cast("ModelVersion | None", self.manifest(version_path(model, number), "ModelVersion"))

    def version_numbers(self, model: str) -> list[int]:
        return self.reader.version_numbers(model)

    def stage(self, name: str) -> dict[str, int]:
        stage = self.manifest(stage_path(name), "Stage")
        return dict(stage) if stage is not None else {}

    def model_folders(self) -> list[str]:
        return self.reader.model_folders()

    def stage_files(self) -> list[str]:
        return self.reader.stage_files()

    def position(self, path: str, key: tuple[str | int, ...]) -> tuple[int, int]:
        doc = self.document(path)
        return doc.position(key) if doc is not None else (0, 0)


def _finding(problem: Problem, default_rule: str) -> Finding:
    path, line, col, message = problem.path, problem.line, problem.col, problem.message
    if message.startswith("yaml: "):
        return Finding(path, line, col, "yaml", message.removeprefix("yaml: "))
    return Finding(path, line, col, default_rule, message)


__all__ = ["Finding", "ParseCache", "View"]
