"""The validator's light path: a record (``gitreg.records``) stands in for a file's typed model when the
model provably accepts the file as it is, so a commit that changes only valid files (a promotion) is
validated without importing pydantic.

``light`` gives a record only when a predicate at least as strict as the model, field by field, accepts the
file; any file it does not vouch for goes to the model (pydantic), which says what is wrong. So the
validator's verdict and messages are the model's. tests/validate/test_light.py holds each predicate to the
model on valid files and on many mutations of them."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from gitreg.durations import retention_problem
from gitreg.filesystem import name_problem
from gitreg.layout import DIGEST, MAX_SIZE, NAME
from gitreg.records import THRESHOLD, ConfigRecord, ModelRecord, VersionRecord

Check = Callable[[Any], bool]


def _str(v: Any) -> bool:
    return type(v) is str


def _name(v: Any) -> bool:
    return type(v) is str and _good_name(v)


@lru_cache(maxsize=4096)  # names recur in every file of a model, and across a walk's files
def _good_name(v: str) -> bool:
    return NAME.fullmatch(v) is not None and name_problem(v) is None


def _positive(v: Any) -> bool:
    return type(v) is int and v > 0


def _number(v: Any) -> bool:
    return type(v) is int or (type(v) is float and math.isfinite(v))


def _scalar(v: Any) -> bool:
    return v is None or type(v) in (str, bool, int) or _number(v)


def _timestamp(v: Any) -> bool:
    try:
        datetime.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return type(v) is str


def _is(*allowed: str) -> Check:
    return lambda v: type(v) is str and v in allowed


def _optional(check: Check) -> Check:
    return lambda v: v is None or check(v)


# The checks below are loops rather than all(...) over a generator: a walk runs them on thousands of files.


def _list(check: Check) -> Check:
    def each(v: Any) -> bool:
        if type(v) is not list:
            return False
        for x in v:  # noqa: SIM110 - see above
            if not check(x):
                return False
        return True

    return each


def _dict(check: Check, key: Check = _str) -> Check:
    def each(v: Any) -> bool:
        if type(v) is not dict:
            return False
        for k, x in v.items():  # noqa: SIM110 - see above
            if not (key(k) and check(x)):
                return False
        return True

    def each_str(v: Any) -> bool:  # string keys (most mappings): checked here, not by a call each
        if type(v) is not dict:
            return False
        for k, x in v.items():  # noqa: SIM110 - see above
            if type(k) is not str or not check(x):
                return False
        return True

    return each_str if key is _str else each


def _fields(required: dict[str, Check], optional: dict[str, Check]) -> Check:
    """A sub-model: a mapping with every required field, no unknown one, each as its check says."""
    known = required | optional
    needed = tuple(required)

    def check(v: Any) -> bool:
        if type(v) is not dict:
            return False
        for k in needed:
            if k not in v:
                return False
        for k, x in v.items():
            field = known.get(k)
            if field is None or not field(x):
                return False
        return True

    return check


_ANY_STR: Check = lambda v: v is None or type(v) is str  # noqa: E731 - as _optional(_str), one call less
_POLICY = _fields(
    {}, {"fields": _list(_str), "metrics": _dict(lambda t: _str(t) and bool(THRESHOLD.fullmatch(t)))}
)
_PERIOD = _optional(lambda v: _str(v) and retention_problem(v) is None)
_RETENTION = _optional(
    _fields(
        {},
        {
            "keep_last": _optional(_positive),
            "archive_after": _PERIOD,
            "protect": _optional(_list(_name)),
            "delete_archived_after": _PERIOD,
        },
    )
)
_HEAD = {"apiVersion": _is("gitreg/v1")}
ACCEPTS: dict[str, Check] = {
    "Registry": _fields(
        {
            **_HEAD,
            "kind": _is("Registry"),
            "storage": _fields({"url": _str}, {"options": _dict(lambda _: True)}),
        },
        {
            "stages": _list(_fields({"name": _name}, {"requires": _list(_name), "policy": _POLICY})),
            "rules": _fields({}, {"max_file_size": _positive}),
            "retention": _RETENTION,
        },
    ),
    "Model": _fields(
        {**_HEAD, "kind": _is("Model"), "name": _name},
        {
            "description": _str,
            "owners": _list(_str),
            "tags": _dict(_str),
            "policy": _dict(_POLICY, _name),
            "retention": _RETENTION,
        },
    ),
    "ModelVersion": _fields(
        {
            **_HEAD,
            "kind": _is("ModelVersion"),
            "model": _name,
            "version": _positive,
            "artifact": _fields(
                {
                    "digest": lambda v: _str(v) and DIGEST.fullmatch(v) is not None,
                    "size": lambda v: type(v) is int and 0 <= v <= MAX_SIZE,
                    "type": _is("file", "tree"),
                    "name": lambda v: _str(v) and bool(v),
                },
                {"format": _ANY_STR},
            ),
            "created_at": _timestamp,
            "created_by": _str,
        },
        {
            "framework": _optional(_fields({"name": _str}, {"version": _ANY_STR})),
            "metrics": _dict(_number),
            "params": _dict(lambda v: _scalar(v) or _list(_scalar)(v)),
            "lineage": _fields(
                {},
                {
                    "code": _optional(_fields({}, {"repo": _ANY_STR, "commit": _ANY_STR, "path": _ANY_STR})),
                    "data": _list(_fields({"uri": _str}, {"digest": _ANY_STR})),
                    "run": _optional(_fields({}, {"id": _ANY_STR, "url": _ANY_STR})),
                    "parent": _optional(_positive),
                },
            ),
            "signature": _optional(_dict(lambda _: True)),
            "tags": _dict(_str),
            "description": _str,
            "status": _is("active", "archived"),
        },
    ),
    "Stage": lambda v: v is None or _dict(_positive, _name)(v),
}


def light(kind: str, data: Any) -> Any:
    """A record of ``data`` (a file of ``kind``, as the YAML loader gives it) when the typed model accepts
    it as it is; None when only the model can say (it may reject it, or convert a value)."""
    if not ACCEPTS[kind](data):
        return None
    if kind == "Registry":
        return ConfigRecord(data)
    if kind == "Model":
        return ModelRecord(data)
    if kind == "ModelVersion":
        return VersionRecord(data)
    return dict(data or {})


__all__ = ["ACCEPTS", "light"]
