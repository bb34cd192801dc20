"""Option types shared by several commands."""

from __future__ import annotations

import math
from typing import Any

import click


class VersionNumberType(click.ParamType[int]):
    """A version number in plain decimal digits: ``click.INT`` would also take ``010``, ``+3``, ``1_0`` and
    other scripts' digits, and read each as some other number."""

    name = "version"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from gitreg.registry import parse_version_number  # noqa: PLC0415 - a controller's poll needs none

        number = parse_version_number(str(value))
        if number is None:
            text = str(value)
            shown = text if len(text) < 40 else text[:20] + "..."
            self.fail(f"{shown!r} is not a version number: write plain decimal digits, such as 3", param, ctx)
        return number


VERSION = VersionNumberType()


class SecondsType(click.ParamType[float]):
    """A finite number of seconds within bounds: ``click.FloatRange`` lets ``nan`` through, and takes
    ``inf`` or ``1e17``, which overflow the clock when a controller sleeps or waits that long."""

    name = "seconds"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and self.minimum <= seconds <= self.maximum):
            text = str(value)
            shown = text if len(text) < 40 else text[:20] + "..."
            self.fail(
                f"{shown!r} is not a number of seconds from {self.minimum:g} to {self.maximum:g}", param, ctx
            )
        return seconds


DAY = 86400.0
