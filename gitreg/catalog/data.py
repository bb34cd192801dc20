"""What the catalog shows, gathered from a registry at one commit as plain data for the templates.

The snapshot is validated first, with the validator itself: the site is built only from a registry the
validator passes, so a malformed manifest fails the build with its ``path:line:col: rule: message`` and no
page ever shows half-parsed data. Every file is then read through the validator's own view (each file is
parsed once). Stage history and audit flags come from one ``gitreg.ops.history.audit_entries`` walk; the
versions' differences from ``gitreg.summary.version_diff``; folder artifacts' file lists from the store's
tree listings, when the store can be reached."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitreg.credentials import redact
from gitreg.errors import GitregError, InvalidRegistryError, Problem
from gitreg.layout import model_path, version_path
from gitreg.ops.history import AuditEntry, audit_entries
from gitreg.ops.review import evidence
from gitreg.registry import Registry
from gitreg.snapshot import CommitSnapshot
from gitreg.summary import FieldChange, version_diff
from gitreg.validate import validate
from gitreg.validate.view import View

if TYPE_CHECKING:
    from gitreg.storage import BlobStore

#: Metrics shown as columns of a model's versions table (the ones most versions have, first).
KEY_METRICS = 4


@dataclass
class VersionInfo:
    model: str
    number: int
    data: dict[str, Any]  # the manifest as written
    manifest: str  # its text
    stages: list[str]
    #: The version compared with (its parent, else the one before), and what differs from it.
    base: int | None = None
    diff: list[FieldChange] = field(default_factory=list)
    #: A folder artifact's files ({path, size, digest, executable}), or why they could not be listed.
    files: list[dict[str, Any]] | None = None
    files_note: str | None = None

    @property
    def artifact(self) -> dict[str, Any]:
        artifact: dict[str, Any] = self.data.get("artifact", {})
        return artifact

    @property
    def metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = self.data.get("metrics", {})
        return metrics

    @property
    def status(self) -> str:
        return str(self.data.get("status", "active"))


@dataclass
class ModelInfo:
    name: str
    data: dict[str, Any]  # model.yaml as written
    versions: list[VersionInfo]
    stages: dict[str, int]  # stage -> version, in registry.yaml's order
    history: list[AuditEntry] = field(default_factory=list)

    @property
    def latest(self) -> VersionInfo | None:
        """The highest active version (what ``MODEL@latest`` names)."""
        active = [v for v in self.versions if v.status == "active"]
        return active[-1] if active else None

    @property
    def framework(self) -> str:
        latest = self.latest or (self.versions[-1] if self.versions else None)
        framework = latest.data.get("framework") if latest else None
        return str(framework.get("name", "")) if isinstance(framework, dict) else ""

    def metric_names(self) -> list[str]:
        """Every metric any version has: the most common first, then by name."""
        counts = Counter(name for v in self.versions for name in v.metrics)
        return sorted(counts, key=lambda name: (-counts[name], name))

    def series(self, metric: str) -> list[tuple[int, float]]:
        """(version, value) of each version that has ``metric`` as a finite number."""
        points = []
        for v in self.versions:
            value = v.metrics.get(metric)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                points.append((v.number, float(value)))
        return points


@dataclass
class Catalog:
    ref: str
    commit: str | None
    stages: list[str]
    models: list[ModelInfo]
    audit: list[AuditEntry]
    evidence: str
    history_note: str | None = None


def gather(registry: Registry, ref: str, list_trees: bool = True) -> Catalog:
    """The catalog of ``registry`` (opened at ``ref``); InvalidRegistryError with the validator's first
    error if the snapshot does not pass it."""
    view = View(registry.snapshot)
    report = validate(view)
    if report.errors:
        problems = [Problem(f.path, f.line, f.col, f"{f.rule}: {f.message}") for f in report.errors]
        raise InvalidRegistryError(problems)
    stages = [s.name for s in view.config.stages] if view.config is not None else []
    stage_maps = {s: view.stage(s) for s in stages}
    trees = _Trees(registry) if list_trees else None
    models = [_model(view, name, stages, stage_maps, trees) for name in view.reader.model_names()]
    snapshot = registry.snapshot
    commit = snapshot.commit if isinstance(snapshot, CommitSnapshot) else None
    catalog = Catalog(ref, commit, stages, models, [], "none")
    _history(registry, ref, catalog)
    return catalog


def _model(
    view: View, name: str, stages: list[str], stage_maps: dict[str, dict[str, int]], trees: _Trees | None
) -> ModelInfo:
    doc = view.document(model_path(name))
    held = {s: stage_maps[s][name] for s in stages if name in stage_maps[s]}
    numbers = view.version_numbers(name)
    versions = []
    for number in numbers:
        path = version_path(name, number)
        version_doc = view.document(path)
        raw = view.read(path) or b""
        versions.append(
            VersionInfo(
                model=name,
                number=number,
                data=dict(version_doc.data) if version_doc is not None else {},
                manifest=raw.decode("utf-8", errors="replace"),
                stages=[s for s, n in held.items() if n == number],
            )
        )
    normalized: dict[int, _Normalized | None] = {}

    def as_written(number: int) -> Any:  # each version normalized once, though compared up to twice
        if number not in normalized:
            version = view.version(name, number)
            normalized[number] = _Normalized(version.to_yaml_data()) if version is not None else None
        return normalized[number]

    for index, info in enumerate(versions):
        parent = info.data.get("lineage", {}).get("parent")
        base = parent if parent in numbers and parent != info.number else None
        if base is None and index > 0:
            base = versions[index - 1].number
        if base is not None:
            a, b = as_written(base), as_written(info.number)
            if a is not None and b is not None:
                info.base, info.diff = base, version_diff(a, b)
        if trees is not None and info.artifact.get("type") == "tree":
            info.files, info.files_note = trees.listing(str(info.artifact.get("digest")))
    data = dict(doc.data) if doc is not None else {"name": name}
    return ModelInfo(name, data, versions, held)


class _Normalized:
    """A version's ``to_yaml_data()``, computed once: what ``version_diff`` reads of a version."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_yaml_data(self) -> dict[str, Any]:
        return self.data


class _Trees:
    """Folder artifacts' tree listings, from the store if it can be reached (opened once, on first use)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.store: BlobStore | None = None
        self.unreachable: str | None = None

    def listing(self, digest: str) -> tuple[list[dict[str, Any]] | None, str | None]:
        from gitreg.storage.artifact import tree_entries  # noqa: PLC0415 - only folder artifacts need it

        if self.store is None and self.unreachable is None:
            try:
                self.store = self.registry.store
            except GitregError as exc:
                self.unreachable = redact(str(exc))
        if self.store is None:
            return None, f"The store could not be reached ({self.unreachable})."
        try:
            entries = tree_entries(self.store, digest)
        except (GitregError, OSError) as exc:
            reason = redact(str(exc)) if isinstance(exc, GitregError) else exc.strerror or type(exc).__name__
            return None, f"The store could not give this folder's file list ({reason})."
        rows = [{"path": e.path, "size": e.size, "digest": e.digest, "exec": e.executable} for e in entries]
        return rows, None


def _history(registry: Registry, ref: str, catalog: Catalog) -> None:
    """Stage history and audit flags of ``ref`` (one walk), spread over the models."""
    repo = registry.repo
    if repo is None:
        catalog.history_note = "stage history needs the registry's git repository"
        return
    source = evidence(repo, ref)
    catalog.evidence = source.name
    catalog.audit = list(audit_entries(repo, ref, evidence=source))
    by_model = {m.name: m for m in catalog.models}
    for entry in catalog.audit:
        model = by_model.get(entry.change.model)
        if model is not None:
            model.history.append(entry)
