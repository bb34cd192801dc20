"""Findings, and the read-only view of a snapshot that the rules work on.

The view parses each file once and never raises: a file that does not parse or match its schema yields
findings (kept with the file) and ``None`` for its data, so one broken file does not hide the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from gitreg import manifest, yamlio
from gitreg.errors import ManifestError, Problem
from gitreg.layout import VERSION_FILE_NAME, model_path, stage_path, version_path
from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig, StageFile
from gitreg.snapshot import Snapshot

T = TypeVar("T", bound=BaseModel)
Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where (file, 1-based line and column; 0 when it concerns the whole file), which rule,
    what is wrong and what to do."""

    path: str
    line: int
    col: int
    rule: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.rule}: {self.message}"

    def as_dict(self) -> dict[str, str | int]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
        }


#: Parsed files shared by views of related snapshots (a walk over many commits): (path, bytes, kind or
#: None for the YAML document) -> (result, findings). Parsing is a pure function of path and content.
ParseCache = dict[tuple[str, bytes, type[BaseModel] | None], tuple[Any, list[Finding]]]


class View:
    """A snapshot with parsed, cached, never-raising access to its registry files."""

    def __init__(self, snapshot: Snapshot, shared: ParseCache | None = None) -> None:
        self.snapshot = snapshot
        self.shared: ParseCache = shared if shared is not None else {}
        self._data: dict[str, bytes | None] = {}
        self._docs: dict[str, yamlio.Document | None] = {}
        self._parsed: dict[str, BaseModel | None] = {}
        self.problems: dict[str, list[Finding]] = {}

    def read(self, path: str) -> bytes | None:
        if path not in self._data:
            self._data[path] = self.snapshot.read(path)
        return self._data[path]

    def document(self, path: str) -> yamlio.Document | None:
        if path not in self._docs:
            data = self.read(path)
            self._docs[path] = None if data is None else self._cached(path, data, None, _load_document)
        return self._docs[path]

    def parse(self, path: str, cls: type[T]) -> T | None:
        """The file parsed as ``cls``, or None when it is absent or invalid (see ``problems``)."""
        if path not in self._parsed:
            doc = self.document(path)
            data = self.read(path)
            if doc is None or data is None:
                self._parsed[path] = None
            else:
                self._parsed[path] = self._cached(path, data, cls, lambda p, _d: _parse_model(cls, doc))
        result = self._parsed[path]
        return result if isinstance(result, cls) else None

    def _cached(
        self,
        path: str,
        data: bytes,
        kind: type[BaseModel] | None,
        make: Callable[[str, bytes], tuple[Any, list[Finding]]],
    ) -> Any:
        """``make(path, data)``, remembered in the shared cache; its findings are recorded for ``path``."""
        key = (path, data, kind)
        if key not in self.shared:
            self.shared[key] = make(path, data)
        result, problems = self.shared[key]
        if problems:
            self.problems[path] = problems
        return result

    def exists(self, path: str) -> bool:
        return self.snapshot.size(path) is not None

    @property
    def config(self) -> RegistryConfig | None:
        return self.parse("registry.yaml", RegistryConfig)

    def model(self, name: str) -> ModelInfo | None:
        return self.parse(model_path(name), ModelInfo)

    def version(self, model: str, number: int) -> ModelVersion | None:
        return self.parse(version_path(model, number), ModelVersion)

    def version_numbers(self, model: str) -> list[int]:
        names = self.snapshot.listdir(f"models/{model}/versions")
        return sorted(int(m.group(1)) for n in names if (m := VERSION_FILE_NAME.match(n)))

    def stage(self, name: str) -> dict[str, int]:
        stage = self.parse(stage_path(name), StageFile)
        return dict(stage.root) if stage is not None else {}

    def model_folders(self) -> list[str]:
        return self.snapshot.listdir("models")

    def stage_files(self) -> list[str]:
        return [n.removesuffix(".yaml") for n in self.snapshot.listdir("stages") if n.endswith(".yaml")]

    def position(self, path: str, key: tuple[str | int, ...]) -> tuple[int, int]:
        doc = self.document(path)
        return doc.position(key) if doc is not None else (0, 0)


def _load_document(path: str, data: bytes) -> tuple[yamlio.Document | None, list[Finding]]:
    try:
        return yamlio.load(data, path), []
    except ManifestError as exc:
        return None, [_finding(p, "yaml") for p in exc.problems]


def _parse_model(cls: type[BaseModel], doc: yamlio.Document) -> tuple[BaseModel | None, list[Finding]]:
    try:
        return manifest.parse(cls, doc), []
    except ManifestError as exc:
        return None, [_finding(p, "schema") for p in exc.problems]


def _finding(problem: Problem, default_rule: str) -> Finding:
    message = problem.message
    rule = default_rule
    if message.startswith("yaml: "):
        rule, message = "yaml", message.removeprefix("yaml: ")
    return Finding(problem.path, problem.line, problem.col, rule, message)
