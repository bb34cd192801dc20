"""A real headless Chromium for the catalog's tests and screenshots: Debian's ``chromium`` package, driven by
Playwright's Python package (test-only: gitreg itself never needs a browser). Playwright's own browser
download is never used: the browser is the system's, given by ``executable_path``, started without any
of the background traffic Chromium would otherwise make (updates, sync, QUIC probes)."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from testing import debian

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python package is not installed (pip install -e '.[test]')"
    return debian.skip_reason("chromium")


@contextmanager
def browser_context(width: int = 1280, height: int = 900) -> Iterator[BrowserContext]:
    """A persistent context of the system's Chromium with a temporary profile, removed afterwards."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - test-only, and only when asked

    with tempfile.TemporaryDirectory(prefix="gitreg-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": width, "height": height},
            timeout=60_000,
        )
        try:
            yield context
        finally:
            context.close()
