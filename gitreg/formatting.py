"""How values read as text, with no click: the one size, JSON without NaN, the lines of a table, a time.
``gitreg.cli.output`` prints through these, and so does ``gitreg.entry``'s click-free path, so both say
1.5 GiB alike."""

from __future__ import annotations

import math

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any


def finite(data: Any) -> Any:
    """``data`` with every non-finite float (NaN, infinities) replaced by None, at any depth."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    return data


def table_lines(rows: list[list[str]]) -> list[str]:
    """``rows`` (the first is the header) as columns two spaces apart, each as wide as its widest cell; no
    trailing blanks."""
    columns = len(rows[0])
    if any(len(row) != columns for row in rows):
        raise ValueError("table_lines: every row needs as many cells as the header")
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    # One format per row ("{:<w}" pads as str.ljust does): a table of 1,000 models is one line a model.
    line = "  ".join(f"{{:<{w}}}" for w in widths).format
    return [line(*row).rstrip() for row in rows]


def timestamp(iso: str) -> str:
    """An ISO 8601 time as a table shows it: ``2026-11-01T12:00:00+00:00`` -> ``2026-11-01 12:00:00``."""
    return iso[:19].replace("T", " ")


def size(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.0 MiB``, ``2.0 GiB``, ``1.0 TiB`` (binary units, one decimal)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


__all__ = ["finite", "size", "table_lines", "timestamp"]
