"""The retention rule: a retention policy (registry.yaml's, or a model's in its model.yaml) protects only
stages registry.yaml declares. Its periods and ``keep_last`` are checked by the schema (``schema`` rule,
see ``gitreg.durations``); a ``protect`` naming no stage would protect nothing, silently."""

from __future__ import annotations

from collections.abc import Iterator

from gitreg.layout import REGISTRY_FILE
from gitreg.validate.findings import Finding
from gitreg.validate.view import View


def check_retention(view: View, path: str, document: object) -> Iterator[Finding]:
    """Findings of ``document``'s retention policy (a registry or model manifest read from ``path``)."""
    retention = getattr(document, "retention", None)
    protect = getattr(retention, "protect", None) if retention is not None else None
    config = view.config if path != REGISTRY_FILE else document
    if not protect or config is None:
        return
    declared = [s.name for s in getattr(config, "stages", [])]
    for index, stage in enumerate(protect):
        if stage not in declared:
            line, col = view.position(path, ("retention", "protect", index))
            known = ", ".join(declared) or "none"
            yield Finding(
                path,
                line,
                col,
                "retention",
                f"retention.protect names stage {stage!r}, which registry.yaml does not declare "
                f"(declared: {known}): name a declared stage, or leave it out",
            )


__all__ = ["check_retention"]
