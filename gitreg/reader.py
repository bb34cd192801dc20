"""The one reader of a registry's files at one snapshot: each file read once, parsed once (as YAML, then as
its manifest kind), and the index of what is there (model folders, version numbers, stage files).

A parse that fails is kept as its ``ManifestError``, not raised: the registry (``gitreg.registry``) raises
it, the validator's view (``gitreg.validate.view``) records it as findings. No git, no blob store."""

from __future__ import annotations

import re

from gitreg import records, yamlio
from gitreg.errors import ManifestError
from gitreg.layout import (
    MODELS_DIR,
    NAME,
    REGISTRY_FILE,
    STAGES_DIR,
    model_path,
    stage_path,
    version_path,
    versions_dir,
)
from gitreg.snapshot import Snapshot
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:  # the typed models are loaded only when a typed parse is asked for: reads stay light
    from typing import Any, TypeAlias, TypeVar

    from pydantic import BaseModel

    T = TypeVar("T", bound="BaseModel")


#: Every name ``VERSION_FILE_NAME`` matches (``^([1-9][0-9]*)\.yaml$``, whose ``$`` also takes a final
#: newline) in a listing joined by NUL, which no file name holds: one call per folder instead of one a name.
_version_files = re.compile(r"(?:^|\0)([1-9][0-9]*)\.yaml\n?(?=\0|\Z)").findall


#: A versions folder's sorted listing when it holds exactly ``1.yaml`` to ``N.yaml`` (as registering leaves
#: it), by N: made on first use, then compared as a whole (about 2 us a model less than the search). Up to
#: _PLAIN_MAX: a few lists at most, whatever the registry holds (a longer listing is searched).
_PLAIN_LISTINGS: dict[int, list[str]] = {}
_PLAIN_MAX = 64


def _contiguous(names: list[str]) -> int:
    """N if ``names`` (sorted) is exactly ``1.yaml`` ... ``N.yaml``, else 0: then the pattern finds 1 to N."""
    count = len(names)
    if not 0 < count <= _PLAIN_MAX:
        return 0
    plain = _PLAIN_LISTINGS.get(count)
    if plain is None:
        plain = _PLAIN_LISTINGS[count] = sorted(f"{n}.yaml" for n in range(1, count + 1))
    return count if names == plain else 0


class Parsed(Frozen):
    """One file parsed as one kind: its value, or None and why. A model whose YAML does not load has
    neither value nor error (the YAML document's own outcome says why)."""

    __match_args__ = ("value", "error")
    __slots__ = __match_args__
    value: Any
    error: ManifestError | None

    def __init__(self, value: Any, error: ManifestError | None = None) -> None:
        set_fields(self, value, error)


#: Parsed files shared by readers of related snapshots (a walk over many commits): (path, bytes, kind or
#: None for the YAML document) -> outcome. Parsing is a pure function of path and content.
ParseCache: TypeAlias = "dict[tuple[str, bytes, type[BaseModel] | None], Parsed]"


class Reader:
    """A snapshot's registry files, read and parsed on first use, then kept."""

    def __init__(self, snapshot: Snapshot, shared: ParseCache | None = None) -> None:
        self.snapshot = snapshot
        self.shared: ParseCache = shared if shared is not None else {}
        self._data: dict[str, bytes | None] = {}
        self._outcomes: dict[tuple[str, type[BaseModel] | None], Parsed | None] = {}

    # --- files ------------------------------------------------------------------------------------------

    def read(self, path: str) -> bytes | None:
        if path not in self._data:
            self._data[path] = self.snapshot.read(path)
        return self._data[path]

    def exists(self, path: str) -> bool:
        return self.snapshot.size(path) is not None

    def outcome(self, path: str, kind: type[BaseModel] | None) -> Parsed | None:
        """The file parsed as ``kind`` (None: as a YAML document), never raising; None if it is absent."""
        key = (path, kind)
        if key not in self._outcomes:
            data = self.read(path)
            if data is None:
                self._outcomes[key] = None
            else:
                shared_key = (path, data, kind)
                if shared_key not in self.shared:
                    self.shared[shared_key] = self._parse(path, data, kind)
                self._outcomes[key] = self.shared[shared_key]
        return self._outcomes[key]

    def _parse(self, path: str, data: bytes, kind: type[BaseModel] | None) -> Parsed:
        try:
            if kind is None:
                return Parsed(yamlio.load(data, path))
            doc = self.outcome(path, None)
            if doc is None or doc.value is None:
                return Parsed(None)
            from gitreg import manifest  # noqa: PLC0415 - pydantic only where a typed model is wanted

            return Parsed(manifest.parse(kind, doc.value))
        except ManifestError as exc:
            return Parsed(None, exc)

    def document(self, path: str) -> yamlio.Document | None:
        """The file as a YAML document, None if it is absent; raises ManifestError if it does not load."""
        return self._raise(self.outcome(path, None))  # type: ignore[no-any-return]

    def parse(self, path: str, cls: type[T]) -> T | None:
        """The file as ``cls``, None if it is absent; raises ManifestError if it does not load or match."""
        self.document(path)
        result = self._raise(self.outcome(path, cls))
        return result if isinstance(result, cls) else None

    @staticmethod
    def _raise(parsed: Parsed | None) -> Any:
        if parsed is None:
            return None
        if parsed.error is not None:
            raise parsed.error
        return parsed.value

    # --- the index --------------------------------------------------------------------------------------

    def model_folders(self) -> list[str]:
        """Every folder under models/, whatever its name."""
        return self.snapshot.listdir(MODELS_DIR)

    def model_names(self) -> list[str]:
        """The folders under models/ that are valid model names."""
        return [n for n in self.model_folders() if NAME.fullmatch(n)]

    def version_numbers(self, model: str) -> list[int]:
        """The numbers of the files in the model's versions folder named as ``VERSION_FILE_NAME`` says,
        sorted; one regex search over the whole listing, or none when it is ``1.yaml`` to ``N.yaml``."""
        names = self.snapshot.listdir(versions_dir(model))
        if count := _contiguous(names):
            return list(range(1, count + 1))
        return sorted(map(int, _version_files("\0".join(names))))

    def version_span(self, model: str) -> tuple[int | None, int]:
        """The highest of ``version_numbers(model)`` (None if none) and how many there are (``list`` asks
        this of every model)."""
        names = self.snapshot.listdir(versions_dir(model))
        if count := _contiguous(names):
            return count, count
        found = _version_files("\0".join(names))
        return (max(map(int, found)) if found else None), len(found)

    def stage_files(self) -> list[str]:
        """The stages that have a file under stages/, declared or not."""
        return [n.removesuffix(".yaml") for n in self.snapshot.listdir(STAGES_DIR) if n.endswith(".yaml")]

    # --- light reads: YAML data checked where it is used, never a typed model (see gitreg.records) ------

    def stage_map(self, name: str) -> dict[str, int]:
        """The stage file's {model: version}, empty if it does not exist; raises ManifestError if broken."""
        doc = self.document(stage_path(name))
        return records.stage_map(doc) if doc is not None else {}

    def stage_names(self) -> list[str] | None:
        """The stages registry.yaml declares, or None without a registry.yaml."""
        doc = self.document(REGISTRY_FILE)
        return records.stage_names(doc) if doc is not None else None

    def model_record(self, name: str) -> records.Record | None:
        doc = self.document(model_path(name))
        return records.model_record(doc, name) if doc is not None else None

    def version_record(self, model: str, number: int) -> records.VersionRecord | None:
        doc = self.document(version_path(model, number))
        return records.version_record(doc, model, number) if doc is not None else None
