"""Reading a registry at one snapshot: its configuration, models, versions and stages, and resolving refs
such as ``fraud@3``, ``fraud@production`` or ``fraud@latest`` (parsed by ``gitreg.reference``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from gitreg import gitlite, records, yamlio
from gitreg.errors import GitregError, NotFoundError, UsageError
from gitreg.filesystem import check_artifact_name
from gitreg.layout import DEFAULT_BRANCH, NAME, REGISTRY_FILE, model_path, version_path
from gitreg.reader import Reader
from gitreg.records import Record, VersionRecord
from gitreg.reference import Ref, parse_version_number, shorten
from gitreg.snapshot import CommitSnapshot, Snapshot, WorkTreeSnapshot

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)

# Reading a registry loads neither pydantic, the full git layer (GitRepo) nor the blob store: the typed
# models, the full git repository and the store are imported where a caller asks for them (see
# gitreg.records).
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any, NoReturn

    from gitreg import registry_write
    from gitreg.gitrepo import GitRepo
    from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig
    from gitreg.query import Query
    from gitreg.storage import BlobStore
    from gitreg.summary import VersionDiff


class _Write:
    """A write method of ``Registry``, ``gitreg.registry_write``'s function of that name, imported when it is
    first looked up (as a plain function attribute would, it binds to the instance it is read from)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Registry | None, owner: type[Registry]) -> Callable[..., Any]:
        from gitreg import registry_write  # noqa: PLC0415 - only commands that write

        function: Callable[..., Any] = getattr(registry_write, self.name)
        return function if instance is None else function.__get__(instance, owner)


class Registry:
    """A registry at one snapshot: the facade of its ``Reader`` that raises what the reader records. Files
    are read and parsed on first use, then kept. The write methods (``register``, ``promote``, ...) are
    ``gitreg.registry_write``'s."""

    def __init__(
        self,
        snapshot: Snapshot,
        repo: GitRepo | None = None,
        workdir: Path | None = None,
        git_dir: Path | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.workdir = workdir
        self.reader = Reader(snapshot)
        self._repo = repo
        self._git_dir = git_dir
        self._store: BlobStore | None = None

    @property
    def repo(self) -> GitRepo | None:
        """The git repository (``GitRepo``), opened on first use: reads do not need it."""
        if self._repo is None and self._git_dir is not None:
            from gitreg.gitrepo import GitRepo  # noqa: PLC0415 - only commands that write or validate

            self._repo = GitRepo.open(self.workdir or self._git_dir)
        return self._repo

    # --- opening ----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, location: str | os.PathLike[str] = ".", ref: str | None = None) -> Registry:
        """Open a registry checkout (its working tree, or ``ref`` in it), or a remote registry by git URL
        (``ref`` defaults to ``main``; fetched shallowly into a cache)."""
        text = os.fspath(location)
        if "://" in text or re.match(r"^[\w.-]+@[\w.-]+:", text):
            return cls.open_remote(text, ref or DEFAULT_BRANCH)
        found = gitlite.locate(Path(text))
        workdir = found.workdir
        if ref is None and workdir is not None:
            snapshot: Snapshot = WorkTreeSnapshot(workdir)
        else:
            objects = gitlite.LiteRepo(found.git_dir, found.workdir)
            commit = objects.rev_parse(ref or "HEAD")
            if commit is None:
                raise NotFoundError(f"{ref or 'HEAD'} does not name a commit in {text}")
            snapshot = CommitSnapshot(objects, commit)
        registry = cls(snapshot, None, workdir, found.git_dir)
        if isinstance(snapshot, WorkTreeSnapshot):
            snapshot.open_repo = lambda: registry.repo
        if registry.reader.read(REGISTRY_FILE) is None:
            where = workdir or text
            raise NotFoundError(
                f"{where} is not a gitreg registry (no registry.yaml at its top)",
                "create one with gitreg init",
            )
        return registry

    @classmethod
    def open_remote(cls, url: str, ref: str = DEFAULT_BRANCH) -> Registry:
        import hashlib  # noqa: PLC0415 - only a remote registry needs it

        cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        cache = Path(cache_home) / "gitreg" / "repos" / hashlib.sha256(url.encode()).hexdigest()[:16]
        from gitreg.gitrepo import GitRepo  # noqa: PLC0415 - fetching is GitRepo's

        repo = (
            GitRepo.open(cache, search_parents=False)
            if (cache / "HEAD").exists()
            else GitRepo.init_bare(cache)
        )
        commit = repo.fetch_shallow(url, ref, "refs/gitreg/fetched")
        return cls(CommitSnapshot(repo, commit), repo, None)

    # --- files ------------------------------------------------------------------------------------------

    def document(self, path: str) -> yamlio.Document | None:
        return self.reader.document(path)

    @property
    def config(self) -> RegistryConfig:
        from gitreg.manifest import RegistryConfig  # noqa: PLC0415 - the typed model, when asked for

        config = self.reader.parse(REGISTRY_FILE, RegistryConfig)
        if config is None:
            raise NotFoundError(
                "this is not a gitreg registry (no registry.yaml)", "create one with gitreg init"
            )
        return config

    @property
    def store(self) -> BlobStore:
        """The blob store. ``GITREG_STORAGE_URL`` and ``GITREG_STORAGE_OPTIONS`` (JSON) override
        registry.yaml; an empty GITREG_STORAGE_URL counts as unset."""
        if self._store is None:
            doc = self.reader.document(REGISTRY_FILE)
            if doc is None:
                raise NotFoundError(
                    "this is not a gitreg registry (no registry.yaml)", "create one with gitreg init"
                )
            configured, options = records.storage_spec(doc)
            url = os.environ.get("GITREG_STORAGE_URL") or configured
            if raw := os.environ.get("GITREG_STORAGE_OPTIONS"):
                import json  # noqa: PLC0415 - only options from the environment need it (reads do not)

                try:
                    extra = json.loads(raw)
                except ValueError:
                    raise UsageError("GITREG_STORAGE_OPTIONS is not valid JSON") from None
                if not isinstance(extra, dict):
                    raise UsageError("GITREG_STORAGE_OPTIONS must be a JSON object")
                options.update(extra)
            from gitreg.storage import open_store  # noqa: PLC0415 - only what moves artifacts loads storage

            self._store = open_store(url, options, self.workdir)
        return self._store

    # --- models and versions ----------------------------------------------------------------------------
    # Each read has two forms: a record (``model_record``, ``version_record``...), the file's data checked
    # where it is used, which is what the command line shows; and the typed model (``model``, ``version``,
    # ``resolve``...), fully validated by pydantic, for Python callers.

    def model_names(self) -> list[str]:
        return self.reader.model_names()

    def has_model(self, name: str) -> bool:
        return NAME.fullmatch(name) is not None and self.reader.read(model_path(name)) is not None

    def _unknown(self, name: str) -> NotFoundError:
        return NotFoundError(
            f"model {shorten(name)!r} is not in the registry", _suggest(name, self.model_names())
        )

    def _named(self, name: str) -> str:
        """``name``, if it can name a model: anything else (a path, an overlong name) is unknown here, and
        never reaches the file system as part of a path."""
        if NAME.fullmatch(name) is None:
            raise self._unknown(name)
        return name

    def model_record(self, name: str) -> Record:
        info = self.reader.model_record(self._named(name))
        if info is None:
            raise self._unknown(name)
        return info

    def model(self, name: str) -> ModelInfo:
        from gitreg.manifest import ModelInfo  # noqa: PLC0415 - the typed model, when asked for

        info = self.reader.parse(model_path(self._named(name)), ModelInfo)
        if info is None:
            raise self._unknown(name)
        return info

    def version_numbers(self, model: str) -> list[int]:
        return self.reader.version_numbers(model) if NAME.fullmatch(model) else []

    def version_record(self, model: str, number: int) -> VersionRecord:
        found = self.reader.version_record(self._named(model), number)
        if found is None:
            self._no_version(model, number)
        return found

    def version(self, model: str, number: int) -> ModelVersion:
        """One version, with the stages that hold it here (``ModelVersion.stages``, read on first use)."""
        from gitreg.manifest import ModelVersion  # noqa: PLC0415 - the typed model, when asked for

        found = self.reader.parse(version_path(self._named(model), number), ModelVersion)
        if found is None:
            self._no_version(model, number)
        return found.in_stages(lambda: [s for s, n in self.stages_of(model).items() if n == number])

    def _no_version(self, model: str, number: int) -> NoReturn:
        if not self.has_model(model):
            self.model_record(model)  # raises the unknown-model error
        numbers = self.version_numbers(model)
        known = f"it has versions {_span(numbers)}" if numbers else "it has no versions yet"
        raise NotFoundError(f"{model} has no version {number}", known)

    def version_records(self, model: str) -> list[VersionRecord]:
        return [self.version_record(model, n) for n in self.version_numbers(model)]

    def versions(
        self,
        model: str | None = None,
        *,
        stage: str | None = None,
        status: str | None = "active",
        where: str | Query | None = None,
        tags: Mapping[str, str] | None = None,
        since: str | datetime | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[ModelVersion]:
        """The versions of ``model`` (of every model if None) matching every criterion given, each knowing
        its ``stages``: see ``gitreg.search.select`` for the criteria, ``gitreg.query`` for ``where``."""
        from gitreg.search import select  # noqa: PLC0415 - the filter language, when asked for

        found = select(
            self,
            model,
            stage=stage,
            status=status,
            where=where,
            tags=tags,
            since=since,
            order_by=order_by,
            limit=limit,
        )
        return [self.version(item.version.model, item.version.version) for item in found]

    def diff(self, a: str | Ref | ModelVersion, b: str | Ref | ModelVersion) -> VersionDiff:
        """What differs from version ``a`` to ``b`` (references, resolved here, or versions): what ``gitreg
        diff --json`` prints, metrics first, each change with its ``delta`` when both sides are numbers."""
        from gitreg.summary import VersionDiff, version_diff  # noqa: PLC0415 - see versions

        old, new = (self.resolve_record(v) if isinstance(v, str | Ref) else v for v in (a, b))
        return VersionDiff(old.ref, new.ref, version_diff(old, new))

    def latest_number(self, model: str) -> int:
        """The highest active version's number: versions are read from the highest down, so the cost does
        not grow with the number of versions."""
        for number in reversed(self.version_numbers(model)):
            if self.version_record(model, number).status == "active":
                return number
        self.model_record(model)
        raise NotFoundError(f"{model} has no active version", "register one with gitreg register")

    def latest(self, model: str) -> ModelVersion:
        """The highest active version."""
        return self.version(model, self.latest_number(model))

    # --- stages -----------------------------------------------------------------------------------------

    def stage_names(self) -> list[str]:
        names = self.reader.stage_names()
        if names is None:
            raise NotFoundError(
                "this is not a gitreg registry (no registry.yaml)", "create one with gitreg init"
            )
        return names

    def stage(self, name: str) -> dict[str, int]:
        """The stage's {model: version}; empty if the stage file does not exist yet."""
        if name not in self.stage_names():
            raise NotFoundError(
                f"stage {name!r} is not declared in registry.yaml", _suggest(name, self.stage_names())
            )
        return self.reader.stage_map(name)

    def stages_of(self, model: str) -> dict[str, int]:
        """{stage: version} for every stage that holds a version of ``model``."""
        held = {s: self.reader.stage_map(s) for s in self.stage_names()}
        return {s: entries[model] for s, entries in held.items() if model in entries}

    # --- refs -------------------------------------------------------------------------------------------

    def locate(self, ref: str | Ref) -> tuple[str, int]:
        """The model and version number a reference names: ``MODEL@3``, ``MODEL@production``,
        ``MODEL@latest`` or ``MODEL`` (its latest active version)."""
        parsed = Ref.parse(ref) if isinstance(ref, str) else ref
        self.model_record(parsed.model)
        selector = parsed.selector
        if selector is None or selector == "latest":
            return parsed.model, self.latest_number(parsed.model)
        if parsed.version is not None:
            return parsed.model, parsed.version
        number = self.stage(selector).get(parsed.model)
        if number is None:
            raise NotFoundError(f"{parsed.model} has no version in stage {selector!r}")
        return parsed.model, number

    def resolve(self, ref: str | Ref) -> ModelVersion:
        """The version a reference names (see ``locate``), as the typed, fully validated model."""
        parsed = Ref.parse(ref) if isinstance(ref, str) else ref
        self.model(parsed.model)
        return self.version(*self.locate(parsed))

    def resolve_record(self, ref: str | Ref) -> VersionRecord:
        """The version a reference names (see ``locate``), as a record: what the command line reads."""
        return self.version_record(*self.locate(ref))

    # --- writing: gitreg.registry_write ---------------------------------------------------------------

    if TYPE_CHECKING:
        register = registry_write.register
        promote = registry_write.promote
        rollback = registry_write.rollback
        archive = registry_write.archive
        restore = registry_write.restore
    else:  # imported on first use: reads do without it
        register = _Write("register")
        promote = _Write("promote")
        rollback = _Write("rollback")
        archive = _Write("archive")
        restore = _Write("restore")

    # --- artifacts --------------------------------------------------------------------------------------

    def pull(
        self,
        version: ModelVersion | VersionRecord | str,
        dest: str | os.PathLike[str] | None = None,
        *,
        force: bool = False,
        folder: bool = False,
    ) -> Path:
        """Download a version's artifact, verified against its digest, and return where it is.

        ``dest`` is the path to create; if it is an existing folder, or ends with a slash, the artifact goes
        inside it under its registered name; by default, the current folder. With ``folder``, ``dest`` is
        the model's folder instead (KServe's storage-initializer convention, ``/mnt/models``): created if
        missing, it is to hold exactly the artifact: a file artifact under its registered name, or a folder
        artifact's files; it is checked and replaced as a whole.

        If that place already holds exactly the artifact (every byte hashed), nothing is downloaded. If it
        holds something else, DestinationExistsError, unless ``force``: then the artifact is downloaded
        beside it, verified, and swapped in (see gitreg.storage.placing)."""
        if isinstance(version, str):
            version = self.resolve_record(version)
        from gitreg.storage import artifact as artifacts  # noqa: PLC0415 - see store

        art = version.artifact
        check_artifact_name(version.ref, art.name)
        base = Path(dest) if dest is not None else Path.cwd()
        if folder:
            inside = art.name if art.type == "file" else None
            return artifacts.download(self.store, art.digest, art.type, base, force=force, inside=inside)
        if base.is_dir():
            if art.type == "tree" and _holds(base, art.digest, art.type):
                return base  # an existing folder is where the artifact goes, unless it is the artifact
            target = base / art.name
        else:
            target = base / art.name if os.fspath(dest or "").endswith(("/", os.sep)) else base
        return artifacts.download(self.store, art.digest, art.type, target, force=force)


def _holds(path: Path, digest: str, kind: str) -> bool:
    from gitreg.storage import placing  # noqa: PLC0415 - see Registry.store

    return placing.holds(path, digest, kind)


def _span(numbers: list[int]) -> str:
    return f"{numbers[0]}..{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def _suggest(name: str, known: list[str]) -> str | None:
    import difflib  # noqa: PLC0415 - only a name not found needs it

    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known: {', '.join(known[:10])}" + (" ..." if len(known) > 10 else "") if known else None


__all__ = ["GitregError", "Ref", "Registry", "parse_version_number"]
