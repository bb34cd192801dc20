"""How the command line writes things: the one table, the one size, the one age, plurals, JSON, the
progress bars of transfers. Every
command prints through these, so `gitreg list` and `gitreg gc` agree on what 1.5 GiB looks like."""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import click

from gitreg.credentials import redact, redact_data


def print_json(data: Any) -> None:
    """``data`` as strict JSON, with the credentials of any URL in it redacted. JSON has no NaN or infinity:
    a non-finite number (a hand-written ``.nan`` metric, which the validator refuses) comes out as null."""
    click.echo(json.dumps(finite(redact_data(data)), indent=2, sort_keys=False, allow_nan=False))


def finite(data: Any) -> Any:
    """``data`` with every non-finite float (NaN, infinities) replaced by None, at any depth."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    return data


def table(rows: list[list[str]]) -> None:
    """Print ``rows`` (the first is the header) as columns two spaces apart, each as wide as its widest
    cell; no trailing blanks."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def size(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.0 MiB``, ``2.0 GiB``, ``1.0 TiB`` (binary units, one decimal)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def age(seconds: float) -> str:
    """A duration in its largest whole unit: ``3d``, ``5h``, ``12m``, ``40s`` (never negative)."""
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            return f"{int(seconds // length)}{unit}"
    return f"{max(0, int(seconds))}s"


def timestamp(iso: str) -> str:
    """An ISO 8601 time as a table shows it: ``2026-11-01T12:00:00+00:00`` -> ``2026-11-01 12:00:00``."""
    return iso[:19].replace("T", " ")


def plural(count: int, noun: str) -> str:
    """``1 blob``, ``2 blobs``, ``0 blobs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def cell(value: Any) -> str:
    """A value in a line of text: ``(none)`` for nothing, JSON for lists and mappings."""
    if value is None:
        return "(none)"
    return redact(json.dumps(value) if isinstance(value, list | dict) else str(value))


@contextmanager
def _bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    from tqdm import tqdm  # noqa: PLC0415 - only a terminal session pays for the import

    columns = shutil.get_terminal_size((0, 0)).columns
    with tqdm(
        total=total,
        desc=label,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=columns > 0,
        ncols=None if columns > 0 else 80,  # a terminal that reports no width still gets a bar
    ) as bar:

        def update(n: int) -> None:
            bar.update(n)

        yield update


def transfer_progress(quiet: bool) -> AbstractContextManager[None]:
    """Progress bars (bytes, rate, ETA) on stderr for transfers over a few MB, when stderr is a terminal
    and not ``--quiet``."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()
    from gitreg.storage import progress  # noqa: PLC0415 - a command without transfers does not load storage

    return progress.reporting(_bar)


__all__ = ["age", "cell", "finite", "plural", "print_json", "size", "table", "timestamp", "transfer_progress"]
