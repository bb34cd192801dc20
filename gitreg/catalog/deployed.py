"""What is deployed now: what controllers report in their ``status.json`` files (``DIR/.gitreg/status.json``
of each target), given as files or folders of them. Read with the controller's own model of the file, so
the catalog shows what ``gitreg controller status`` would."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitreg.controller.status import ModelStatus, Status
from gitreg.errors import NotFoundError, UsageError

#: The most status files one build reads (a folder of them is walked for ``status.json`` files).
MAX_FILES = 1000
#: A status file larger than this is not one a controller wrote (it keeps a bounded history).
MAX_BYTES = 8 * 1024 * 1024


@dataclass
class Target:
    source: str  # the file, as given
    status: Status

    @property
    def name(self) -> str:
        spec = self.status.spec
        return f"{spec.stage} on {self.status.target or self.source}" if spec else self.source

    @property
    def models(self) -> list[tuple[str, ModelStatus]]:
        return sorted(self.status.models.items())


def status_files(given: Iterable[Path]) -> list[Path]:
    """Each status file ``given`` names: a file, or every ``status.json`` below a folder."""
    found: list[Path] = []
    for path in given:
        if path.is_dir():
            found += sorted(p for p in path.rglob("status.json") if p.is_file() and not p.is_symlink())
        elif path.is_file():
            found.append(path)
        else:
            raise NotFoundError(f"--status {path}: no such file or folder")
        if len(found) > MAX_FILES:
            raise UsageError(f"--status names more than {MAX_FILES} status files", "name fewer folders")
    return found


def read_targets(given: Iterable[Path]) -> list[Target]:
    """The controllers' reports, in the order given; UsageError for a file that is not one."""
    targets = []
    for path in status_files(given):
        not_one = UsageError(
            f"--status {path} is not a gitreg controller status file",
            "give the DIR/.gitreg/status.json a controller writes, or a folder of them",
        )
        try:
            if path.stat().st_size > MAX_BYTES:
                raise not_one
            data = json.loads(path.read_bytes())
            # every field of the file has a default: only its kind says that it is one
            if not isinstance(data, dict) or data.get("kind") != "ControllerStatus":
                raise not_one
            status = Status.model_validate(data)
        except OSError as exc:
            raise UsageError(f"--status {path} cannot be read: {exc.strerror}") from None
        except ValueError:  # not JSON, or not the controller's fields (pydantic's errors are ValueErrors)
            raise not_one from None
        targets.append(Target(str(path), status))
    return targets
