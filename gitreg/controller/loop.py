"""The controller's loop: reconcile, sleep ``interval`` seconds give or take ``jitter`` (so controllers
started together do not poll in step), again; a ``POST /reconcile`` or a call to ``wake()`` cuts the sleep
short. Every poll is reported to ``health`` (which ``/healthz`` and the metrics read).

SIGTERM or SIGINT stops it at once, whatever it is doing: every change to the target is crash-safe, so
stopping mid-download costs only the download. The stop is bounded: the HTTP server is shut, every process
the controller started (git, the on-deploy hook, what they started) is ended, and should anything still
hang (a finaliser reading from a git that will not answer), the kernel ends the process ``STOP_GRACE``
seconds after the signal (SIGALRM; the command line asks for it with ``stop_grace``). A second signal
ends it at once."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from gitreg.controller.events import Event, Field
from gitreg.controller.health import Health, default_stale_after
from gitreg.controller.reconcile import Controller
from gitreg.controller.server import Server
from gitreg.errors import Stopped

STOP_GRACE = 10  # seconds from the signal to the end of the process, whatever is in flight
CHILD_GRACE = 2.0  # seconds the processes the controller started have to exit after SIGTERM


class Loop:
    def __init__(
        self,
        controller: Controller,
        interval: float,
        jitter: float = 0.1,
        stale_after: float | None = None,
        stop_grace: int | None = None,
    ) -> None:
        """``stop_grace``: after a signal, have the kernel end the process that many seconds later if it
        has not exited by then (for a process that exits when ``run`` returns, as the command line's)."""
        self.controller = controller
        self.interval = interval
        self.jitter = jitter
        self.health = Health(stale_after if stale_after is not None else default_stale_after(interval))
        controller.metrics.watch_health(lambda: self.health.check(controller.published()))
        self.stop_grace = stop_grace
        self._wake = threading.Event()
        self._stopping = ""  # the name of the signal that asked the loop to stop
        self._children: list[int] = []

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
                    self.health.polled(self.controller.reconcile(force=force))
                except Exception as exc:  # a bug must not stop the controller: report it and go on
                    log(Event("reconcile-crashed", "error", {"error": f"{type(exc).__name__}: {exc}"}))
                delay = self.interval * random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311
                force = self._wake.wait(delay)
                self._wake.clear()
                if self._stopping:  # the Stopped raised by the signal was swallowed somewhere: stop now
                    raise Stopped(self._stopping)
        except Stopped as stop:
            ended = end_children(self._children)
            fields: dict[str, Field] = {"signal": str(stop)}
            if ended:
                fields["ended_processes"] = ended
            log(Event("stopped", "info", fields))
        finally:
            if server is not None:
                server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping:  # a second signal: no more waiting
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self._stopping = signal.Signals(signum).name
        self._children = _descendants(os.getpid())  # now: unwinding may orphan some (a hook's children)
        self._wake.set()
        if self.stop_grace is not None and hasattr(signal, "alarm"):
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the kernel's doing: no Python needed to run it
            signal.alarm(self.stop_grace)
        raise Stopped(self._stopping)


def end_children(known: list[int] | None = None, grace: float = CHILD_GRACE) -> int:
    """SIGTERM every process below this one (an interrupted git, its transport helper, an on-deploy hook
    and what it started), SIGKILL those still there after ``grace`` seconds; how many there were. Their
    pipes then reach end of file, so nothing in this process waits on them. Needs Linux's /proc; elsewhere
    it ends nothing. ``known``: processes found earlier, which may have been orphaned since."""
    now = _descendants(os.getpid())
    pids = now + [pid for pid in known or [] if pid not in now and _running(pid)]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.02)
    for pid in pids:
        if _running(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return len(pids)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = [p.name for p in Path("/proc").iterdir()]
    except OSError:
        return []
    for name in entries:
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                children.setdefault(int(stat[1]), []).append(int(name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stat(pid: int) -> list[str] | None:
    """``state ppid ...`` from /proc/PID/stat (after the command name, which may hold spaces and ')')."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")
