"""Option types shared by several commands."""

from __future__ import annotations

from typing import Any

import click

from gitreg.registry import parse_version_number


class VersionNumberType(click.ParamType[int]):
    """A version number in plain decimal digits: ``click.INT`` would also take ``010``, ``+3``, ``1_0`` and
    other scripts' digits, and read each as some other number."""

    name = "version"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        number = parse_version_number(str(value))
        if number is None:
            text = str(value)
            shown = text if len(text) < 40 else text[:20] + "..."
            self.fail(f"{shown!r} is not a version number: write plain decimal digits, such as 3", param, ctx)
        return number


VERSION = VersionNumberType()
