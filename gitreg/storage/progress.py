"""Progress of transfers, reported to whoever asked for it.

The library never prints: the command line installs a reporter (a progress bar on a terminal) with
``reporting`` around a call, and the stores ask ``meter`` for a callback that counts bytes. With no reporter,
or for transfers under ``THRESHOLD`` bytes, the callback does nothing. The reporter is looked up in the
calling thread, so stores resolve it before handing work to their I/O threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

#: Transfers smaller than this show no progress: they end before a bar would be read.
THRESHOLD = 4 * 1024 * 1024

Update = Callable[[int], None]
#: ``reporter(total_bytes, label)`` returns a context manager that yields a callback taking a byte count.
Reporter = Callable[[int, str], AbstractContextManager[Update]]

_reporter: ContextVar[Reporter | None] = ContextVar("gitreg_progress_reporter", default=None)


def ignore(_n: int) -> None:
    """The callback of a transfer nobody watches."""
    return None


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Report the progress of transfers made inside the ``with`` block to ``reporter``."""
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


def active() -> bool:
    """Whether anyone asked for progress (so a store may spend a request on a size to report)."""
    return _reporter.get() is not None


@contextmanager
def meter(total: int, label: str) -> Iterator[Update]:
    """A callback that counts transferred bytes of a ``total``-byte transfer (a no-op when nobody asked)."""
    reporter = _reporter.get()
    if reporter is None or total < THRESHOLD:
        yield ignore
        return
    with reporter(total, label) as update:
        yield update


__all__ = ["THRESHOLD", "Reporter", "Update", "active", "ignore", "meter", "reporting"]
