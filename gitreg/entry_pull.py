"""``gitreg pull REF`` answered by the entry point (``gitreg.entry``) without click, as
``gitreg.cli.read``'s ``pull`` answers it: a version of the registry here (``-C DIR``), a destination given
as ``DEST`` or ``-o PATH``, ``--force``, ``--json``, ``-q``. Only where no progress bar would be drawn (with
``-q``, or when stderr is no terminal); a URI or ``oci://`` reference, a progress bar, ``--output=PATH`` or
anything else stays click's."""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path

from gitreg.entry import Command, _name_like, _options, _readable_or_absent, echo, print_json


def pull_plan(directory: str, args: list[str]) -> Command | None:
    values: dict[str, str | None] = {"-o": None, "--output": None}
    flags = dict.fromkeys(("--force", "--json", "-q", "--quiet"), False)
    words = list[str]()
    if not _options(args, values, flags, words) or not 1 <= len(words) <= 2 or not _name_like(words[0]):
        return None
    if values["-o"] is not None and values["--output"] is not None:
        return None  # click takes the last one given
    dest = values["-o"] or values["--output"]
    folder = words[1] if len(words) == 2 else None
    if not all(_readable_or_absent(p) for p in (dest, folder) if p is not None):
        return None  # click.Path's usage error: it exists and cannot be read
    if not (flags["-q"] or flags["--quiet"]) and sys.stderr.isatty():
        return None  # a progress bar: click's
    return partial(_pull, directory, words[0], folder, dest, flags["--force"], flags["--json"])


def _pull(directory: str, ref: str, folder: str | None, dest: str | None, force: bool, as_json: bool) -> int:
    """gitreg.cli.read's ``pull`` for a reference to this registry, without a progress bar."""
    from gitreg.gitfind import LocateAhead  # noqa: PLC0415 - what this command needs

    with LocateAhead(Path(directory)):  # git finds the repository while the rest is imported
        return _pulled(directory, ref, folder, dest, force, as_json)


def _pulled(
    directory: str, ref: str, folder: str | None, dest: str | None, force: bool, as_json: bool
) -> int:
    from gitreg.errors import DestinationExistsError, UsageError  # noqa: PLC0415
    from gitreg.registry import Registry  # noqa: PLC0415

    if folder is not None and dest is not None:
        raise UsageError("give DEST or -o PATH, not both")
    where = folder if folder is not None else dest
    path_arg = os.path.join(directory, where if where is not None else ".")  # noqa: PTH118 - as click's
    try:
        reg = Registry.open(directory)
        version = reg.resolve_record(ref)
        path = reg.pull(version, path_arg, force=force, folder=folder is not None)
    except DestinationExistsError as exc:
        raise DestinationExistsError(exc.path, "remove it, or pass --force to replace it") from None
    if as_json:
        print_json(
            {
                "ref": version.ref,
                "path": str(path),
                "digest": version.artifact.digest,
                "size": version.artifact.size,
            }
        )
    else:
        echo(str(path))
    return 0


__all__ = ["pull_plan"]
