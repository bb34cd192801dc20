"""A reference to a model's version as people write it: ``MODEL``, ``MODEL@VERSION``, ``MODEL@STAGE``,
``MODEL@latest``, and MLflow's model URIs for the same. ``Registry`` resolves it."""

from __future__ import annotations

import re

from gitreg.errors import UsageError
from gitreg.values import Frozen, set_fields

_REF = re.compile(r"^(?P<model>[^@\s]+)(?:@(?P<selector>[^@\s]+))?$")
#: A version number as people and files write it. 18 digits always fit in 63 bits.
VERSION_NUMBER = re.compile(r"[1-9][0-9]{0,17}")
#: What only a version number could have been meant as: a sign, leading zeros, 1_0, 1:30, 0x0a, 0b1010.
_NUMBER_LIKE = re.compile(r"[-+]?(?:[0-9][0-9_]*(?::[0-9_]+)*|0[xXoObB][0-9a-fA-F_]+)")


#: MLflow's model URIs: ``models:/fraud@production``, ``models:/fraud/3``.
MLFLOW_PREFIX = "models:/"


def _from_mlflow(text: str, rest: str) -> str:
    """An MLflow model URI's path (after ``models:/``) as gitreg writes the reference: ``NAME@ALIAS`` stays,
    ``NAME/SELECTOR`` becomes ``NAME@SELECTOR``."""
    model, slash, selector = rest.partition("/")
    if not model or "/" in selector or (slash and (not selector or "@" in model)):
        raise UsageError(
            f"{shorten(text)!r} is not a model URI",
            "write models:/MODEL@STAGE, models:/MODEL/VERSION or models:/MODEL/latest",
        )
    return f"{model}@{selector}" if slash else model


def parse_version_number(text: str) -> int | None:
    """The version ``text`` names in plain decimal digits, or None."""
    return int(text) if VERSION_NUMBER.fullmatch(text) else None


class Ref(Frozen):
    """A parsed reference: a model, and a version number, a stage, ``latest``, or nothing."""

    __match_args__ = ("model", "selector")
    __slots__ = __match_args__
    model: str
    selector: str | None

    def __init__(self, model: str, selector: str | None) -> None:
        set_fields(self, model, selector)

    @classmethod
    def parse(cls, text: str) -> Ref:
        """``MODEL``, ``MODEL@VERSION``, ``MODEL@STAGE``, ``MODEL@latest``, and MLflow's forms of the same:
        ``models:/MODEL@ALIAS`` and ``models:/MODEL/VERSION`` (or ``/STAGE``, ``/latest``)."""
        hint = "write MODEL, MODEL@VERSION, MODEL@STAGE or MODEL@latest"
        stripped = text.strip()
        if stripped.startswith(MLFLOW_PREFIX):
            stripped = _from_mlflow(text, stripped.removeprefix(MLFLOW_PREFIX))
        match = _REF.match(stripped)
        if not match:
            raise UsageError(f"{shorten(text)!r} is not a reference", hint)
        selector = match["selector"]
        number_like = selector and (_NUMBER_LIKE.fullmatch(selector) or selector.isnumeric())  # ² and ٣ too
        if number_like and not VERSION_NUMBER.fullmatch(selector):
            raise UsageError(
                f"{shorten(text)!r} is not a reference: a version is written in plain decimal digits", hint
            )
        return cls(match["model"], selector)

    @property
    def version(self) -> int | None:
        return parse_version_number(self.selector) if self.selector else None

    def __str__(self) -> str:
        return f"{self.model}@{self.selector}" if self.selector else self.model


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to fit in a message."""
    return text if len(text) < limit else text[: limit // 2] + "..."


__all__ = ["MLFLOW_PREFIX", "VERSION_NUMBER", "Ref", "parse_version_number"]
