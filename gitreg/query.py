"""The filter language of ``Registry.versions(where=...)`` and ``gitreg list --where``: a hand-written
tokenizer and recursive-descent parser (no ``eval``), compiled once into a predicate over versions.

    metrics.auc >= 0.9 and params.max_depth < 10 and framework.name == 'sklearn'
    not (status == "archived" or tags.team != 'risk') and created_at >= '2026-11-01'

Grammar (the keywords ``and``, ``or``, ``not``, ``true`` and ``false`` in any case)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := operand ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
    operand    := FIELD | 'string' | "string" | NUMBER | true | false

A FIELD is a dotted path of a version manifest: ``model``, ``version``, ``status``, ``description``,
``created_at``, ``created_by``, ``artifact.{digest,size,type,name,format}``, ``framework.{name,version}``,
``lineage.code.{repo,commit,path}``, ``lineage.run.{id,url}``, ``lineage.parent``, and any key below
``metrics.``, ``params.``, ``tags.`` or ``signature.`` (a key with other characters than letters, digits,
``_`` and ``-`` is written in backquotes: ``metrics.`val/auc```). Strings take ``\\`` escapes of the quote
and of the backslash.

How a comparison decides: numbers compare with numbers, strings with strings (by code point), booleans
with booleans (``==`` and ``!=`` only); ``created_at`` compares as a point in time with a string that is an
ISO 8601 date or timestamp (``'2026-11-01'``, ``'2026-11-22T10:00:00Z'``; without an offset, UTC). A field
the version does not have, or a value of another type than the other side (a string against a number, a
list of params against anything), makes the comparison false, whatever the operator, ``!=`` included; ``not``
turns that into true. So ``tags.team != 'risk'`` keeps only versions that have a team tag, and ``not
tags.team == 'risk'`` also keeps those without one.

A syntax error, or a field no version can have, is a ``QueryError`` naming the column."""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gitreg.durations import parse_time
from gitreg.errors import QueryError, UsageError


class Versionlike(Protocol):
    """What a filter reads: a typed ``ModelVersion`` or a ``VersionRecord``."""

    def field_value(self, dotted: str) -> Any: ...


#: Fields with one value, as the schema declares them (gitreg.manifest.ModelVersion).
SCALAR_FIELDS = (
    "model",
    "version",
    "status",
    "description",
    "created_at",
    "created_by",
    "artifact.digest",
    "artifact.size",
    "artifact.type",
    "artifact.name",
    "artifact.format",
    "framework.name",
    "framework.version",
    "lineage.code.repo",
    "lineage.code.commit",
    "lineage.code.path",
    "lineage.run.id",
    "lineage.run.url",
    "lineage.parent",
)
#: Mappings whose keys are the user's: ``metrics.auc`` (one key below), ``signature.x.y`` (any depth).
KEYED_FIELDS = {"metrics": 1, "params": 1, "tags": 1, "signature": None}
TIMESTAMP_FIELDS = ("created_at",)
_ALL = [*SCALAR_FIELDS, *(f"{k}.NAME" for k in KEYED_FIELDS)]
_HINT = "write FIELD OP VALUE joined by and/or/not, e.g. metrics.auc >= 0.9 and tags.team == 'risk'"
_MAX_DEPTH = 100

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_KEYWORDS = ("and", "or", "not", "true", "false")


@dataclass(frozen=True)
class Token:
    kind: str  # field, keyword, string, number, op, (, ), end
    text: str
    column: int  # 1-based
    value: Any = None


def field_error(parts: tuple[str, ...], column: int) -> QueryError | None:
    """Why the dotted path ``parts`` names no field of a version (None if it names one)."""
    path = ".".join(parts)
    if path in SCALAR_FIELDS:
        return None
    head, rest = parts[0], ".".join(parts[1:])
    if head in KEYED_FIELDS:
        depth = KEYED_FIELDS[head]
        if len(parts) > 1 and (depth is None or len(parts) - 1 == depth):
            return None
        return QueryError(f"{head} holds named values: name one, such as {head}.auc", column, _HINT)
    keyed = [f"{k}.{rest}" if rest else k for k in KEYED_FIELDS]
    close = difflib.get_close_matches(path, [*SCALAR_FIELDS, *keyed], n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(_ALL)}"
    return QueryError(f"unknown field {_short(path)!r}", column, hint)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        token, i = _next_token(text, i)
        tokens.append(token)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _next_token(text: str, i: int) -> tuple[Token, int]:
    """The token that starts at ``text[i]`` (not a space), and where the next one starts."""
    char, column = text[i], i + 1
    if char in "()":
        return Token(char, char, column), i + 1
    if text.startswith(("==", "!=", "<=", ">="), i):
        return Token("op", text[i : i + 2], column), i + 2
    if char in "<>":
        return Token("op", char, column), i + 1
    if char == "=":
        raise QueryError("'=' is not an operator: write ==", column, _HINT)
    if char in "'\"":
        value, end = _string(text, i)
        return Token("string", text[i:end], column, value), end
    if (match := _NUMBER.match(text, i)) and not char.isalpha():
        end = match.end()
        if end < len(text) and (text[end].isalnum() or text[end] in "_.`"):
            raise QueryError(f"{_short(_word(text, i))!r} is not a number", column, _HINT)
        return Token("number", match.group(), column, _number(match.group())), end
    if char.isascii() and (char.isalpha() or char == "_"):
        parts, end = _field(text, i)
        if len(parts) == 1 and parts[0].lower() in _KEYWORDS:
            return Token("keyword", parts[0].lower(), column), end
        return Token("field", text[i:end], column, parts), end
    raise QueryError(f"unexpected {char!r}", column, _HINT)


def _string(text: str, start: int) -> tuple[str, int]:
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise QueryError(f"the string starting here has no closing {quote}", start + 1, _HINT)


def _field(text: str, start: int) -> tuple[tuple[str, ...], int]:
    """A dotted path: segments of letters, digits, ``_`` and ``-``, or in backquotes."""
    parts, i = [], start
    while True:
        if i < len(text) and text[i] == "`":
            end = text.find("`", i + 1)
            if end <= i + 1:
                raise QueryError("a backquoted name needs a closing ` and a name inside", i + 1, _HINT)
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            match = _SEGMENT.match(text, i)
            if match is None:
                raise QueryError("expected a name after '.'", i + 1, _HINT)
            parts.append(match.group())
            i = match.end()
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return tuple(parts), i


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _word(text: str, start: int) -> str:
    end = start
    while end < len(text) and not text[end].isspace() and text[end] not in "()=!<>":
        end += 1
    return text[start:end]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- parsing: each node compiles to a function of a version ---------------------------------------------

Predicate = Callable[[Versionlike], bool]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        if self.token.kind == "end":
            raise QueryError("the filter is empty", 1, _HINT)
        predicate = self.or_expr()
        if self.token.kind != "end":
            what = "')' closes no '('" if self.token.kind == ")" else f"unexpected {self.token.text!r}"
            raise QueryError(what, self.token.column, "join conditions with and / or")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.token.kind == "keyword" and self.token.text == "or":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else lambda v: any(p(v) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.token.kind == "keyword" and self.token.text == "and":
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else lambda v: all(p(v) for p in parts)

    def not_expr(self) -> Predicate:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise QueryError(f"more than {_MAX_DEPTH} levels of not and parentheses", self.token.column)
        token = self.token
        if token.kind == "keyword" and token.text == "not":
            self.take()
            inner = self.not_expr()
            result: Predicate = lambda v: not inner(v)  # noqa: E731 - a closure per node
        elif token.kind == "(":
            self.take()
            result = self.or_expr()
            if self.token.kind != ")":
                raise QueryError("this '(' is never closed", token.column, _HINT)
            self.take()
        else:
            result = self.comparison()
        self.depth -= 1
        return result

    def comparison(self) -> Predicate:
        left = self.operand()
        op = self.token
        if op.kind != "op":
            found = "the end" if op.kind == "end" else repr(op.text)
            raise QueryError(f"expected ==, !=, <, <=, > or >= after {left.text!r}, found {found}", op.column)
        self.take()
        right = self.operand()
        if left.kind != "field" and right.kind != "field":
            raise QueryError("compare a field with a value, such as metrics.auc >= 0.9", left.column)
        return _compare(left, op.text, right)

    def operand(self) -> Token:
        token = self.token
        if token.kind in ("field", "string", "number"):
            self.take()
        elif token.kind == "keyword" and token.text in ("true", "false"):
            self.take()
            token = Token("bool", token.text, token.column, token.text == "true")
        else:
            found = "the end" if token.kind == "end" else repr(token.text)
            raise QueryError(f"expected a field or a value, found {found}", token.column, _HINT)
        if token.kind == "field" and (error := field_error(token.value, token.column)) is not None:
            raise error
        return token


def _compare(left: Token, op: str, right: Token) -> Predicate:
    test = _OPERATORS[op]
    getters = [_getter(left, right), _getter(right, left)]
    get_a, get_b = getters

    def predicate(version: Versionlike) -> bool:
        a, b = get_a(version), get_b(version)
        if a is None or b is None:
            return False
        kind = value_kind(a)
        if kind is None or kind != value_kind(b) or (kind == "bool" and op not in ("==", "!=")):
            return False
        return test(a, b)

    return predicate


def _getter(token: Token, other: Token) -> Callable[[Versionlike], Any]:
    """How a side of a comparison gets its value: a literal's is fixed (a timestamp's parsed once)."""
    if token.kind == "field":
        return field_getter(token.value)
    value = token.value
    if other.kind == "field" and ".".join(other.value) in TIMESTAMP_FIELDS:
        if not isinstance(value, str) or (moment := parse_time(value)) is None:
            raise QueryError(
                f"{other.text} compares with an ISO 8601 date or timestamp, not {token.text}",
                token.column,
                "write it as a string, such as '2026-11-01' or '2026-11-22T10:00:00Z'",
            )
        return lambda _v: moment
    return lambda _v: value


def field_getter(parts: tuple[str, ...]) -> Callable[[Versionlike], Any]:
    """The value of a field (see ``field_error``) in a version: None where the version has none. A keyed
    field's keys are looked up as they are, dots and all; ``created_at`` is a datetime."""
    path = ".".join(parts)
    if path in TIMESTAMP_FIELDS:
        return lambda v: parse_time(v.field_value(path))
    if path in SCALAR_FIELDS:
        return lambda v: v.field_value(path)
    head, keys = parts[0], parts[1:]

    def get(version: Versionlike) -> Any:
        value = version.field_value(head)
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def value_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "time"
    return None


@dataclass(frozen=True)
class Query:
    """A compiled filter: ``matches(version)`` for a ``ModelVersion`` or a ``VersionRecord``."""

    text: str
    predicate: Predicate

    @classmethod
    def parse(cls, text: str) -> Query:
        if not isinstance(text, str):
            raise UsageError(f"a filter is a string, not {type(text).__name__}")
        return cls(text, _Parser(text).parse())

    def matches(self, version: Versionlike) -> bool:
        return self.predicate(version)


__all__ = ["Query", "field_error", "field_getter", "tokenize", "value_kind"]
