"""The controller's loop: reconcile, sleep ``interval`` seconds give or take ``jitter`` (so controllers
started together do not poll in step), again; a ``POST /reconcile`` or a call to ``wake()`` cuts the sleep
short. SIGTERM or SIGINT stops it at once, whatever it is doing: every change to the target is crash-safe,
so stopping mid-download costs only the download."""

from __future__ import annotations

import random
import signal
import threading
from types import FrameType

from gitreg.controller.events import Event
from gitreg.controller.reconcile import Controller
from gitreg.controller.server import Server


class Stopped(Exception):
    """Raised in the loop's thread by SIGTERM or SIGINT."""


class Loop:
    def __init__(self, controller: Controller, interval: float, jitter: float = 0.1) -> None:
        self.controller = controller
        self.interval = interval
        self.jitter = jitter
        self._wake = threading.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def run(self, server: Server | None = None) -> None:
        """Loop until a signal; the caller has opened the controller and closes it."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        log = self.controller.log
        try:
            if server is not None:
                server.start()
                log(Event("listening", "info", {"url": server.url}))
            force = True  # the first reconcile after a start retries failures at once
            while True:
                try:
                    self.controller.reconcile(force=force)
                except Stopped:
                    raise
                except Exception as exc:  # a bug must not stop the controller: report it and go on
                    log(Event("reconcile-crashed", "error", {"error": f"{type(exc).__name__}: {exc}"}))
                delay = self.interval * random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311
                force = self._wake.wait(delay)
                self._wake.clear()
        except Stopped as stop:
            cancel_git_timers()
            log(Event("stopped", "info", {"signal": str(stop)}))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if server is not None:
                server.stop()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping:
            return
        self._stopping = True
        raise Stopped(signal.Signals(signum).name)


def cancel_git_timers() -> None:
    """Cancel the watchdog timer GitPython starts for a git command with a timeout: interrupted by the
    signal, the command never cancelled it, and the process would wait for it (minutes) before exiting."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
