"""The deployment controller: keeps a target folder in step with one stage of a registry's branch.

    from gitreg.controller import reconcile_once
    result = reconcile_once("https://git.example.com/ml/registry.git", "production", "/srv/models")
    print(result.outcome, [str(c) for c in result.changes])

``Controller`` is the long-lived form (``gitreg controller`` without ``--once`` runs it in a loop with
an HTTP server beside it); ``status.json`` in the target's ``.gitreg`` folder says what it did."""

from __future__ import annotations

from gitreg.controller.config import ControllerConfig, ModelChange, ReconcileResult
from gitreg.controller.events import Event
from gitreg.controller.reconcile import Controller, reconcile_once
from gitreg.controller.status import Status

__all__ = [
    "Controller",
    "ControllerConfig",
    "Event",
    "ModelChange",
    "ReconcileResult",
    "Status",
    "reconcile_once",
]
