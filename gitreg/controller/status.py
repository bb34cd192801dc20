"""What a controller reports about its target: ``DIR/.gitreg/status.json``, written atomically after every
reconcile that did something, and read back when the controller starts again.

The file is the controller's memory across restarts (which commit is applied, each model's failures) and
its report to humans and tools (``gitreg controller status``, ``GET /status``). The target itself (the
``current`` links on disk) stays the truth about what is served: the controller re-reads it every time."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from gitreg.credentials import redact_data
from gitreg.errors import GitregError, NotFoundError, StorageError
from gitreg.layout import NAME_PATTERN

#: A model's key in status.json, a folder name in the target: never a path (a file edited by hand or by
#: someone else must not lead the controller outside its target).
ModelName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]

HISTORY = 20
ModelState = Literal["synced", "progressing", "failed", "retained"]
Outcome = Literal["unchanged", "applied", "partial", "invalid", "unreachable"]


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class _Loose(BaseModel):
    # A newer controller may add fields; an older one reading its file keeps what it knows.
    model_config = ConfigDict(extra="ignore")


class CommitMark(_Loose):
    commit: str
    time: str


class Attempt(_Loose):
    commit: str
    time: str
    result: Outcome
    errors: list[str] = Field(default_factory=list)


class RemoteError(_Loose):
    message: str
    since: str


class ModelStatus(_Loose):
    """One model in the target. ``state``: synced (live is wanted), progressing (being deployed now),
    failed (see ``error``; live is the version that still serves), retained (no longer in the stage,
    kept because pruning is off). ``digest`` and ``path`` are those of ``live``, what ``current`` points at
    on disk; ``wanted_digest`` is that of ``wanted``."""

    wanted: int | None = None
    live: int | None = None
    digest: str | None = None  # of ``live``: what ``current`` points at
    path: str | None = None
    wanted_digest: str | None = None
    state: ModelState = "progressing"
    error: str | None = None
    changed_at: str | None = None
    failed_version: int | None = None
    failures: int = 0
    retry_at: str | None = None


class HistoryEntry(_Loose):
    time: str
    commit: str | None
    result: Outcome
    duration_seconds: float
    changes: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class Spec(_Loose):
    """What the controller was asked to do; a different spec means the applied commit must be re-applied."""

    repo: str
    branch: str
    stage: str
    prune: bool
    keep: int


class Status(_Loose):
    api_version: str = Field(default="gitreg/v1", alias="apiVersion")
    kind: str = "ControllerStatus"
    spec: Spec | None = None
    target: str = ""
    last_poll: str | None = None
    observed: CommitMark | None = None
    attempted: Attempt | None = None
    applied: CommitMark | None = None
    remote_error: RemoteError | None = None
    models: dict[ModelName, ModelStatus] = Field(default_factory=dict)
    history: list[HistoryEntry] = Field(default_factory=list)

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def record(self, entry: HistoryEntry) -> None:
        self.history = [*self.history, entry][-HISTORY:]

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = redact_data(self.model_dump(mode="json", by_alias=True))
        return data


def read(path: Path) -> Status | None:
    """The status file, or None if there is none or it cannot be used (the controller then starts afresh
    from what is on disk)."""
    try:
        return Status.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def read_for_humans(target: Path) -> Status:
    path = target / ".gitreg" / "status.json"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            f"{target} has no controller status ({path} does not exist)",
            "run gitreg controller with --target pointing here first",
        ) from None
    except OSError as exc:
        raise GitregError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return Status.model_validate_json(data)
    except (ValidationError, ValueError):
        raise GitregError(f"{path} is not a gitreg controller status file") from None


def write(path: Path, status: Status) -> None:
    """Write the file atomically: a temporary sibling, flushed, then renamed over the old one."""
    data = (json.dumps(status.as_json(), indent=2) + "\n").encode()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.tmp-")
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise StorageError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
