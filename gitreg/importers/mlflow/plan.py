"""What an import will do, computed before a byte is downloaded: which models and versions are new, how many
bytes they hold, which stage entries change, and what is reported rather than imported (aliases and legacy
stages with no mapping, versions that are not ready, versions whose artifacts changed since they were
imported). ``--dry-run`` prints this plan; the import carries it out.

Stages: ``--stage-map champion=production`` maps an MLflow alias, ``--stage-map Production=production`` a
legacy stage (``current_stage``; names of legacy stages are matched without regard to case). The legacy
stages ``Staging`` and ``Production`` map by default to the registry's stages of the same name, lowercased,
when it declares them; a version in the legacy stage ``Archived`` is imported with ``status: archived``.
Where an alias and a legacy stage give one stage two versions, the alias wins (MLflow's own guidance)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitreg.errors import ConflictError, NotFoundError, StorageError, UsageError
from gitreg.importers.mlflow.names import NAME_TAG, map_names
from gitreg.importers.mlflow.source import Source, SourceFile, SourceModel, SourceVersion
from gitreg.registry import Registry
from gitreg.storage import artifact as artifacts

#: Legacy stages that map by default to the registry's stage of the same (lowercased) name.
LEGACY_STAGES = ("Staging", "Production")
ARCHIVED = "Archived"


@dataclass(frozen=True)
class NewVersion:
    source: SourceVersion
    model: str  # the gitreg name
    files: list[SourceFile]
    archived: bool

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.source.number}"


@dataclass(frozen=True)
class StageChange:
    stage: str
    model: str
    version: int
    previous: int | None
    why: str  # "alias champion", "legacy stage Production"


@dataclass
class ModelPlan:
    source: SourceModel
    name: str  # the gitreg name
    new: bool  # no model.yaml yet
    current: int  # versions already imported


@dataclass
class Plan:
    models: list[ModelPlan] = field(default_factory=list)
    versions: list[NewVersion] = field(default_factory=list)
    stages: list[StageChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reported, not imported
    conflicts: list[str] = field(default_factory=list)  # imported versions MLflow now disagrees with

    @property
    def size(self) -> int:
        return sum(v.size for v in self.versions)

    @property
    def empty(self) -> bool:
        return not self.versions and not self.stages


def parse_stage_map(items: list[str], registry: Registry) -> dict[str, str]:
    """``ALIAS=STAGE`` items as a mapping; each stage must be declared in registry.yaml."""
    declared = [s.name for s in registry.config.stages]
    mapping: dict[str, str] = {}
    for item in items:
        key, sep, stage = item.partition("=")
        if not sep or not key or not stage:
            raise UsageError(f"--stage-map {item!r}: write ALIAS=STAGE, such as champion=production")
        if stage not in declared:
            raise UsageError(
                f"--stage-map {item!r}: registry.yaml declares no stage {stage!r}",
                f"its stages: {', '.join(declared) or 'none'}",
            )
        if key in mapping and mapping[key] != stage:
            raise UsageError(f"--stage-map {key!r} is given twice")
        mapping[key] = stage
    return mapping


def make_plan(source: Source, registry: Registry, wanted: list[str], stage_map: dict[str, str]) -> Plan:
    """The plan of importing the models ``wanted`` (all when empty) into ``registry`` (read at the base)."""
    names = map_names(source.model_names(wanted))
    legacy = _legacy_map(stage_map, [s.name for s in registry.config.stages])
    plan = Plan()
    for mlflow_name, name in names.items():
        model = source.model(mlflow_name)
        _check_model(registry, model, name)
        numbers = registry.version_numbers(name) if registry.has_model(name) else []
        plan.models.append(ModelPlan(model, name, not registry.has_model(name), len(numbers)))
        imported = set(numbers)
        listings = source.listings(mlflow_name, [v.number for v in model.versions if v.status == "READY"])
        for version in model.versions:
            files = listings.get(version.number, [])
            if isinstance(files, NotFoundError):
                plan.notes.append(
                    f"{name}@{version.number}: its artifacts are gone from MLflow: not imported"
                )
                continue
            planned = len(plan.versions)
            _plan_version(registry, plan, version, files, name, numbers)
            if len(plan.versions) > planned or version.number in numbers:
                imported.add(version.number)
        _plan_stages(registry, plan, model, name, stage_map, legacy, imported)
    return plan


def _check_model(registry: Registry, model: SourceModel, name: str) -> None:
    """A gitreg model of that name must be new, or one imported from this very MLflow model."""
    if not registry.has_model(name):
        return
    recorded = registry.model(name).tags.get(NAME_TAG)
    if recorded != model.name:
        origin = f"from MLflow model {recorded!r}" if recorded else "not from MLflow"
        raise ConflictError(
            f"MLflow model {model.name!r} maps to {name!r}, and the registry's {name} was imported {origin}",
            "leave it out with --model, or rename one of them",
        )


def _plan_version(
    registry: Registry,
    plan: Plan,
    version: SourceVersion,
    files: list[SourceFile],
    name: str,
    numbers: list[int],
) -> None:
    ref = f"{name}@{version.number}"
    if version.status != "READY":
        plan.notes.append(f"{ref}: MLflow says {version.status}, not READY: not imported this time")
        return
    if version.number in numbers:
        problem = _differs(registry, name, version.number, files)
        if problem:
            plan.conflicts.append(
                f"{ref}: its artifacts in MLflow changed since it was imported ({problem}); gitreg versions "
                "are immutable, so it is left as it is: register the new files as a new version in MLflow"
            )
        return
    if numbers and version.number < max(numbers):
        plan.conflicts.append(
            f"{ref}: MLflow has it, but {name} already has version {max(numbers)} and gitreg version numbers "
            "only go up: not imported"
        )
        return
    if version.run is not None and version.run.gone:
        plan.notes.append(
            f"{ref}: its run {version.run.id} was {version.run.gone}; imported with what is left"
        )
    archived = version.current_stage.lower() == ARCHIVED.lower()
    plan.versions.append(NewVersion(version, name, files, archived))


def _differs(registry: Registry, name: str, number: int, files: list[SourceFile]) -> str | None:
    """How the files MLflow lists differ from the imported tree (paths and sizes), or None."""
    art = registry.version(name, number).artifact
    if art.type != "tree":
        return "it was not imported as a folder"
    try:
        entries = artifacts.tree_entries(registry.store, art.digest)
    except StorageError as exc:
        return f"its imported tree cannot be read: {exc}"
    stored = {e.path: e.size for e in entries}
    listed = {f.path: f.size for f in files}
    for path in sorted(set(stored) | set(listed)):
        if path not in stored:
            return f"{path} is new"
        if path not in listed:
            return f"{path} is gone"
        if listed[path] is not None and stored[path] != listed[path]:
            return f"{path} is {listed[path]} bytes, was {stored[path]}"
    return None


def _legacy_map(stage_map: dict[str, str], declared: list[str]) -> dict[str, str]:
    """Legacy stage (lowercased) -> stage: the defaults for declared stages, then the user's map."""
    found = {s.lower(): s.lower() for s in LEGACY_STAGES if s.lower() in declared}
    found.update(
        {key.lower(): stage for key, stage in stage_map.items() if key.lower() in ("staging", "production")}
    )
    return found


def _plan_stages(
    registry: Registry,
    plan: Plan,
    model: SourceModel,
    name: str,
    stage_map: dict[str, str],
    legacy: dict[str, str],
    imported: set[int],
) -> None:
    wanted: dict[str, tuple[int, str]] = {}
    for alias, number in sorted(model.aliases.items()):
        stage = stage_map.get(alias)
        if stage is None:
            plan.notes.append(
                f"{name}: alias {alias!r} (version {number}) has no --stage-map entry: not a stage"
            )
        elif stage in wanted and wanted[stage][0] != number:
            plan.notes.append(
                f"{name}: alias {alias!r} (version {number}) maps to {stage}, which {wanted[stage][1]} "
                f"(version {wanted[stage][0]}) already takes"
            )
        else:
            wanted.setdefault(stage, (number, f"alias {alias}"))
    for version in model.versions:
        current = version.current_stage
        if current.lower() in ("none", ARCHIVED.lower()):
            continue
        stage = legacy.get(current.lower())
        if stage is None:
            plan.notes.append(
                f"{name}@{version.number}: legacy stage {current!r} has no --stage-map entry: not a stage"
            )
        elif stage in wanted and wanted[stage][0] != version.number:
            plan.notes.append(
                f"{name}@{version.number}: legacy stage {current!r} maps to {stage}, which "
                f"{wanted[stage][1]} (version {wanted[stage][0]}) already takes"
            )
        else:
            wanted.setdefault(stage, (version.number, f"legacy stage {current}"))
    for stage, (number, why) in sorted(wanted.items()):
        if number not in imported:
            plan.notes.append(f"{name}: {why} names version {number}, which is not imported: not a stage")
            continue
        previous = registry.stage(stage).get(name)
        if previous != number:
            plan.stages.append(StageChange(stage, name, number, previous, why))


__all__ = ["ModelPlan", "NewVersion", "Plan", "StageChange", "make_plan", "parse_stage_map"]
