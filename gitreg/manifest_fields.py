"""The constrained field types the manifest models are built from (names, digests, version numbers,
thresholds, timestamps, retention settings), each with its validator and what JSON Schema can say of it.
Re-exported by ``gitreg.manifest``, where callers import them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from gitreg import durations
from gitreg.filesystem import name_problem
from gitreg.layout import NAME
from gitreg.records import THRESHOLD

API_VERSION = "gitreg/v1"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
_NAME_RE = NAME


def name_error(value: str) -> str | None:
    """Why ``value`` cannot name a model or a stage (both become file names), or None when it can."""
    if not _NAME_RE.fullmatch(value):
        return (
            f"{value!r} is not a valid name: use 1-64 lowercase letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    problem = name_problem(value)
    return None if problem is None else f"{value!r} is not a valid name: it {problem}"


def _name(value: str) -> str:
    error = name_error(value)
    if error is not None:
        raise ValueError(error)
    return value


#: What JSON Schema can say of a name: the pattern, and not a Windows device name (filesystem.name_problem).
NAME_SCHEMA = {
    "type": "string",
    "pattern": NAME.pattern,
    "not": {"pattern": r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\.|$)"},
}
Name = Annotated[StrictStr, AfterValidator(_name), WithJsonSchema(NAME_SCHEMA)]
Digest = Annotated[StrictStr, Field(pattern=DIGEST_PATTERN)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]


_NUMBER_LIKE = re.compile(r"[-+]?[0-9][0-9A-Za-z_:.]*")
_DECIMAL = re.compile(r"[1-9][0-9]*")


def _not_text(value: Any) -> Any:
    """Say why 010, 0x0a, 1_0 or +10 is not a version (the YAML loader leaves them as text: see yamlio);
    other text gets pydantic's "should be a valid integer"."""
    if isinstance(value, str) and _NUMBER_LIKE.fullmatch(value) and not _DECIMAL.fullmatch(value):
        raise ValueError(f"expected a version number in plain decimal digits, such as 3, not {value!r}")
    return value


#: A version number: a positive integer written in plain decimal digits.
VersionNumber = Annotated[PositiveInt, BeforeValidator(_not_text)]
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat | None
Number = StrictInt | StrictFloat

_THRESHOLD_RE = THRESHOLD


def _threshold(value: str) -> str:
    if not _THRESHOLD_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a threshold: write an operator and a number, such as '>= 0.9'")
    return value


Threshold = Annotated[
    StrictStr,
    AfterValidator(_threshold),
    WithJsonSchema({"type": "string", "pattern": _THRESHOLD_RE.pattern}),
]


def _iso_timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp such as '2026-11-22T10:00:00Z'") from None
    return value


#: What JSON Schema can say of an ISO 8601 timestamp: it starts with a date (the rest only Python can judge).
_TIMESTAMP_SCHEMA = {"type": "string", "pattern": "^[0-9]{4}(-?[0-9]{2}-?[0-9]{2}|-?W[0-9]{2})"}
Timestamp = Annotated[StrictStr, AfterValidator(_iso_timestamp), WithJsonSchema(_TIMESTAMP_SCHEMA)]


def _retention_period(value: Any) -> Any:
    problem = durations.retention_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _at_least_one(value: Any) -> Any:
    if type(value) is int and value < 1:
        raise ValueError(f"{value} is below 1: the newest version is always kept, so write 1 or more")
    return value


#: How many of a model's newest active versions retention always keeps.
KeepLast = Annotated[
    StrictInt, BeforeValidator(_at_least_one), WithJsonSchema({"type": "integer", "minimum": 1})
]
#: A retention period: days or weeks with the unit, such as 180d or 26w (see gitreg.durations).
RetentionPeriod = Annotated[
    StrictStr,
    BeforeValidator(_retention_period),
    WithJsonSchema({"type": "string", "pattern": durations.RETENTION_PATTERN}),
]
