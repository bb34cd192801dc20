"""How the command line writes things: the one table, the one size, the one age, plurals, JSON, the
progress bars of transfers. Every
command prints through these, so `gitreg list` and `gitreg gc` agree on what 1.5 GiB looks like."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import click

from gitreg.credentials import redact, redact_data
from gitreg.formatting import finite, size, table_lines, timestamp


def print_json(data: Any) -> None:
    """``data`` as strict JSON, with the credentials of any URL in it redacted. JSON has no NaN or infinity:
    a non-finite number (a hand-written ``.nan`` metric, which the validator refuses) comes out as null."""
    click.echo(json.dumps(finite(redact_data(data)), indent=2, sort_keys=False, allow_nan=False))


def table(rows: list[list[str]]) -> None:
    """Print ``rows`` (the first is the header) as columns two spaces apart, each as wide as its widest
    cell; no trailing blanks."""
    for line in table_lines(rows):
        click.echo(line)


def age(seconds: float) -> str:
    """A duration in its largest whole unit: ``3d``, ``5h``, ``12m``, ``40s`` (never negative)."""
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            return f"{int(seconds // length)}{unit}"
    return f"{max(0, int(seconds))}s"


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
