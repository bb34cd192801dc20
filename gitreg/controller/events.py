"""Events: one structured record per thing a controller does, for its log. The library only creates
them and hands them to a callback; the command line prints them, as logfmt text or as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable

from gitreg.credentials import redact
from gitreg.values import Frozen, set_fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Literal

    Level = Literal["debug", "info", "warning", "error"]
else:  # the same name at run time, without importing typing for it
    Level = str
Field = str | int | float | bool | None | list[str]


def now() -> str:
    """The time as events and status.json write it: UTC, microseconds, ``Z``."""
    from datetime import UTC, datetime  # noqa: PLC0415 - a poll that finds nothing new logs nothing

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Event(Frozen):
    __match_args__ = ("name", "level", "fields", "time")
    __slots__ = __match_args__
    name: str
    level: Level
    fields: dict[str, Field]
    time: str

    def __init__(
        self,
        name: str,
        level: Level = "info",
        fields: dict[str, Field] | None = None,
        time: str | None = None,
    ) -> None:
        set_fields(self, name, level, {} if fields is None else fields, now() if time is None else time)

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
