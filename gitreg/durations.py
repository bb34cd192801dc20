"""The one grammar of durations gitreg reads: a whole number of ASCII digits and one unit letter.

    duration  = digits [unit]          e.g. 7d, 12h, 30m, 45s, 2w, 0
    unit      = s | m | h | d | w      seconds, minutes, hours, days, weeks (none: seconds)
    digits    = 1 to 12 of 0-9         no sign, no fraction, no spaces inside

A command-line option (``gc --grace``) takes the whole grammar. A retention period written in a registry
(``retention.archive_after``, ``retention.delete_archived_after``) takes only days and weeks, always with
the unit (``180d``, ``26w``, ``0d``): there, ``6m`` would be six minutes to gitreg and six months to most
readers, and a month or a year has no fixed length, so both are refused with the days to write instead.
Every duration is at most a century (36,500 days): a longer one overflows date arithmetic.

A point in time (a manifest's ``created_at``, a commit's date, a ``since`` or a filter's time) is ISO 8601
text, read by ``parse_time``: the one reading that filters and retention share."""

from __future__ import annotations

import re
from datetime import UTC, datetime

DURATION = re.compile(r"([0-9]{1,12})([smhdw]?)")
#: A retention period: days or weeks, the unit required (JSON Schema says the same with this pattern).
RETENTION_PATTERN = r"^[0-9]{1,6}[dw]$"
RETENTION = re.compile(RETENTION_PATTERN)
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DAY = 86400
#: The longest duration accepted: a hundred years keeps everything.
MAX_SECONDS = 100 * 365 * DAY
_MONTHS_OR_YEARS = re.compile(r"([0-9]{1,6})\s*(m|mo|mon|month|months|y|yr|year|years)", re.IGNORECASE)


def seconds(text: str) -> int | None:
    """Seconds in a duration of the whole grammar (spaces around it allowed), or None if it is not one or
    is longer than a century."""
    match = DURATION.fullmatch(text.strip())
    if not match:
        return None
    value = int(match[1]) * UNITS[match[2]]
    return value if value <= MAX_SECONDS else None


def retention_problem(value: object) -> str | None:
    """Why ``value`` (as the YAML loader gives it) is not a retention period, or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"{shown(value)} is not a retention period: write days or weeks, such as 180d or 26w"
    text = str(value)
    if isinstance(value, int) or text.isdigit():
        return f"{shown(text)} has no unit: write days or weeks, such as {text}d"
    if RETENTION.fullmatch(text):
        if retention_seconds(text) > MAX_SECONDS:
            return f"{shown(text)} is longer than a century: write at most 36500d"
        return None
    months = _MONTHS_OR_YEARS.fullmatch(text.strip())
    if months:
        count = int(months[1])
        days = count * (365 if months[2].lower().startswith("y") else 30)
        return (
            f"{shown(text)} is not a retention period: months and years vary in length (and m would be "
            f"minutes), so write days or weeks, such as {days}d"
        )
    return f"{shown(text)} is not a retention period: write days or weeks, such as 180d or 26w"


def retention_seconds(text: str) -> int:
    """Seconds in a retention period that ``retention_problem`` accepts."""
    return int(text[:-1]) * UNITS[text[-1]]


def parse_time(text: object) -> datetime | None:
    """ISO 8601 text as an aware datetime (UTC when it names no zone), or None if it is not such text."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) < 40 else text[:20] + "...'"


__all__ = [
    "DURATION",
    "RETENTION",
    "RETENTION_PATTERN",
    "parse_time",
    "retention_problem",
    "retention_seconds",
    "seconds",
]
