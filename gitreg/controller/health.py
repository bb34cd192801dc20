"""Is the controller doing its job? Three states, each with its own meaning for whoever watches it:

    ok      polls reach the remote, and the branch's tip is applied (or being applied)
    stuck   polls reach the remote, but the tip was refused (invalid, or its signature does not verify):
            the target keeps the last good state until someone fixes the branch. Restarting the
            controller cannot help, so ``/healthz`` stays 200 and says so; alert on the metric.
    stale   no poll has succeeded for ``stale_after`` seconds (the remote is unreachable, or the loop is
            hung): ``/healthz`` answers 503, so a liveness probe restarts the controller.

A poll succeeds when it reaches the remote and finishes, whatever it then decided."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

from gitreg.controller.config import ReconcileResult
from gitreg.controller.events import now
from gitreg.controller.status import Status

State = Literal["ok", "stuck", "stale"]
STATES: tuple[State, ...] = ("ok", "stuck", "stale")
# The default threshold: a few intervals, and never less than git's own timeout, so that a slow fetch or a
# large download is not mistaken for a hang (set --stale-after above your longest reconcile).
MIN_STALE_AFTER = 300.0


def default_stale_after(interval: float) -> float:
    return max(3 * interval, MIN_STALE_AFTER)


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str
    seconds_since_success: float
    last_success: str | None

    def as_json(self, stale_after: float) -> dict[str, object]:
        return {
            "state": self.state,
            "reason": self.reason,
            "last_successful_poll": self.last_success,
            "seconds_since_successful_poll": round(self.seconds_since_success, 3),
            "stale_after_seconds": stale_after,
        }


class Health:
    """Told of every poll by the loop (``polled``), asked by the HTTP server and the metrics (``check``).
    The clock starts when the controller does: it has ``stale_after`` seconds for its first poll."""

    def __init__(self, stale_after: float) -> None:
        self.stale_after = stale_after
        self._lock = threading.Lock()
        self._success = time.monotonic()
        self._success_time: str | None = None

    def polled(self, result: ReconcileResult) -> None:
        if result.outcome == "unreachable":
            return
        with self._lock:
            self._success = time.monotonic()
            self._success_time = now()

    def check(self, status: Status) -> Verdict:
        with self._lock:
            since, when = time.monotonic() - self._success, self._success_time
        if since > self.stale_after:
            if status.remote_error is not None:
                why = f"the remote is unreachable: {status.remote_error.message}"
            else:
                why = "the loop has not finished a poll"
            reason = f"no successful poll for {since:.0f}s (more than {self.stale_after:g}s): {why}"
            return Verdict("stale", reason, since, when)
        refused = stuck_on(status)
        if refused is not None:
            return Verdict("stuck", refused, since, when)
        return Verdict("ok", "", since, when)


def stuck_on(status: Status) -> str | None:
    """Why the branch's tip is not applied, if it was refused; None if it was not."""
    attempted, observed = status.attempted, status.observed
    if attempted is None or attempted.result != "invalid":
        return None
    if observed is not None and observed.commit != attempted.commit:
        return None  # the branch has moved on: the new tip is being looked at
    kept = f"keeping {status.applied.commit[:12]}" if status.applied else "nothing applied yet"
    errors = "; ".join(attempted.errors[:3]) or "refused"
    return f"commit {attempted.commit[:12]} was refused ({kept}): {errors}"
