"""Events: one structured record per thing a controller does, for its log. The library only creates
them and hands them to a callback; the command line prints them, as logfmt text or as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from gitreg.credentials import redact

Level = Literal["debug", "info", "warning", "error"]
Field = str | int | float | bool | None | list[str]


def now() -> str:
    """The time as events and status.json write it: UTC, microseconds, ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    name: str
    level: Level = "info"
    fields: dict[str, Field] = field(default_factory=dict)
    time: str = field(default_factory=now)

    def as_dict(self) -> dict[str, Field]:
        fields = {k: redact(v) if isinstance(v, str) else v for k, v in self.fields.items()}  # URLs' secrets
        return {"time": self.time, "level": self.level, "event": self.name, **fields}

    def json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))

    def text(self) -> str:
        """logfmt: ``time=... level=info event=switch model=fraud version=2``."""
        return " ".join(
            f"{key}={_logfmt(value)}" for key, value in self.as_dict().items() if value is not None
        )


Log = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """A log that drops every event."""


def _logfmt(value: Field) -> str:
    text = (
        ",".join(value)
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
    if text and not any(c in text for c in ' "=\\') and text.isprintable():
        return text
    return json.dumps(text)
