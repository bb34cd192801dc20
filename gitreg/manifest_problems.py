"""pydantic's validation errors as ``path:line:col: message`` problems, one per error at the document key
it concerns, with a "did you mean" hint for a misspelt field: what ``gitreg.manifest.parse`` raises."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel, ValidationError

from gitreg.errors import Problem
from gitreg.yamlio import Document

_TYPE_NAMES = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "none_required": "null",
}


def problems(cls: type[BaseModel], doc: Document, exc: ValidationError) -> list[Problem]:
    """One problem per error, at the document key it concerns; a value that fails every member of a union
    on its type is one "expected a or b" problem (and none at all if a member matched deeper down)."""
    by_loc: dict[tuple[str | int, ...], list[Any]] = {}
    for err in exc.errors():
        by_loc.setdefault(_document_loc(doc.data, err), []).append(err)
    found: list[Problem] = []
    for loc, errs in by_loc.items():
        type_errors = all(e["type"] in _TYPE_NAMES for e in errs)
        if type_errors and len(errs) > 1:
            if any(len(other) > len(loc) and other[: len(loc)] == loc for other in by_loc):
                continue  # a container member matched, and its items say what is wrong
            expected = " or ".join(dict.fromkeys(_TYPE_NAMES[e["type"]] for e in errs))
            first = _problem(cls, doc, loc, errs[0])
            head = first.message.split(": ", 1)[0] if loc else ""
            message = f"{head}: expected {expected}" if head else f"expected {expected}"
            found.append(Problem(first.path, first.line, first.col, message))
        else:
            found += [_problem(cls, doc, loc, e) for e in errs]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda p: (p.line, p.col))


def _document_loc(data: Any, err: Any) -> tuple[str | int, ...]:
    """The error's location as keys of the document: pydantic also puts union members' names ("str",
    "function-after[...]") and "[key]" markers in locations, which are not keys; walking the data tells
    them apart, even from a model that is really named "str"."""
    raw = tuple(err["loc"])
    keep_last = err["type"] in ("missing", "extra_forbidden")
    out: list[str | int] = []
    current = data
    for index, part in enumerate(raw):
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            out.append(part)
            current = current[part]
        elif keep_last and index == len(raw) - 1:
            out.append(part)
    return tuple(out)


def _problem(cls: type[BaseModel], doc: Document, loc: tuple[str | int, ...], err: Any) -> Problem:
    dotted = ".".join(str(p) for p in loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown field {loc[-1]!r}"
        candidates = _field_names(cls, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), candidates, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        elif candidates:
            message += f" (allowed: {', '.join(sorted(candidates))})"
    elif kind == "missing":
        message = f"missing required field {dotted!r}"
    else:
        text = str(err["msg"]).removeprefix("Value error, ")
        message = f"{dotted}: {text}" if dotted else text
    line, col = doc.position(loc)
    return Problem(doc.path, line, col, message)


def _field_names(cls: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names (as written in YAML) of the model found at ``loc`` below ``cls``."""
    target: Any = cls
    for part in loc:
        target = unwrap(target)
        if isinstance(target, type) and issubclass(target, BaseModel):
            field = next(
                (f for n, f in target.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return []
            target = field.annotation
        elif typing.get_origin(target) in (list, dict):
            target = typing.get_args(target)[-1]
        else:
            return []
    target = unwrap(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return [f.alias or n for n, f in target.model_fields.items()]
    return []


def unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] down to the model or container inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
