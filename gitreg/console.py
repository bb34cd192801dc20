"""The ``gitreg`` console script and ``python -m gitreg``: ``gitreg.entry.main``, then, after a command that
only reads (``show``, ``list``, ``history``, ``audit``, the plain hook, ``--version``), an exit that skips
the interpreter's teardown once the output is flushed.

The teardown frees every object one by one and empties every module: several milliseconds, which for a
``list`` or ``show`` answered in tens of milliseconds is a tenth of the time a user waits, with nothing
left to do (a read writes nothing but its output; the walk cache closes its database before the command
returns). Anything that may still need it exits as ``main`` does: a command that writes (``pull``, the
controller, everything else), an ``atexit`` callback (a profiler, coverage, a test's probe), a thread still
running, or an output that cannot be flushed (a closed pipe: Python then says what it always says)."""

from __future__ import annotations

import atexit
import os
import sys

from gitreg.entry import main as entry_main

#: The first words of the commands that only read.
READS = frozenset({"show", "list", "history", "audit", "hook", "--version"})


def main() -> None:
    try:
        entry_main()
    except SystemExit as done:
        if type(done.code) is int and reads(sys.argv[1:]) and nothing_left():
            os._exit(done.code)
        raise


def reads(args: list[str]) -> bool:
    """Whether ``gitreg ARGS`` is a command that only reads (``-C DIR`` first is skipped)."""
    if args[:1] == ["-C"]:
        args = args[2:]
    return bool(args) and args[0] in READS


def nothing_left() -> bool:
    """Whether the teardown has nothing to do but free memory: no ``atexit`` callback, no other thread, and
    both output streams flushed (False when flushing fails: the normal exit reports it)."""
    callbacks = getattr(atexit, "_ncallbacks", None)
    if callbacks is None or callbacks() != 0:
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return False
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


if __name__ == "__main__":
    main()
