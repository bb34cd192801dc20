"""The deployment controller: keeps a target folder in step with one stage of a registry's branch.

    from gitreg.controller import reconcile_once
    result = reconcile_once("https://git.example.com/ml/registry.git", "production", "/srv/models")
    print(result.outcome, [str(c) for c in result.changes])

``Controller`` is the long-lived form (``gitreg controller`` without ``--once`` runs it in a loop with
an HTTP server beside it); ``status.json`` in the target's ``.gitreg`` folder says what it did.

The names are imported on first use (PEP 562): ``gitreg controller --once`` answers a poll that finds
nothing new from the light modules of this package (``poll``, ``target``, ``events``, ``config``) without
loading pydantic, ``GitRepo`` or prometheus_client."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

    from gitreg.controller.config import ControllerConfig, ModelChange, ReconcileResult
    from gitreg.controller.events import Event
    from gitreg.controller.reconcile import Controller, reconcile_once
    from gitreg.controller.status import Status

_EXPORTS = {
    "Controller": "gitreg.controller.reconcile",
    "ControllerConfig": "gitreg.controller.config",
    "Event": "gitreg.controller.events",
    "ModelChange": "gitreg.controller.config",
    "ReconcileResult": "gitreg.controller.config",
    "Status": "gitreg.controller.status",
    "reconcile_once": "gitreg.controller.reconcile",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gitreg.controller' has no attribute {name!r}")


__all__ = [
    "Controller",
    "ControllerConfig",
    "Event",
    "ModelChange",
    "ReconcileResult",
    "Status",
    "reconcile_once",
]
