"""gitreg: a GitOps model registry. Manifests live in Git; artifacts live in content-addressed blob storage.

The public Python API::

    from gitreg import Registry
    reg = Registry.open(".")
    v = reg.resolve("fraud-detector@production")
    path = reg.pull(v, "/srv/models/fraud")
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

    from gitreg.errors import (
        ConflictError,
        DestinationExistsError,
        GitregError,
        IntegrityError,
        ManifestError,
        NotFoundError,
        QueryError,
        StorageError,
        UnsafePathError,
        UsageError,
    )
    from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig
    from gitreg.query import Query
    from gitreg.registry import Ref, Registry
    from gitreg.registry_write import Proposal
    from gitreg.summary import FieldChange, VersionDiff

#: Where each public name lives. They are imported on first use (PEP 562), so that `import gitreg` (and
#: the CLI's start-up) does not load pydantic and the full git layer before a command needs them.
_EXPORTS = {
    "ConflictError": "gitreg.errors",
    "DestinationExistsError": "gitreg.errors",
    "GitregError": "gitreg.errors",
    "IntegrityError": "gitreg.errors",
    "ManifestError": "gitreg.errors",
    "NotFoundError": "gitreg.errors",
    "QueryError": "gitreg.errors",
    "StorageError": "gitreg.errors",
    "UnsafePathError": "gitreg.errors",
    "UsageError": "gitreg.errors",
    "ModelInfo": "gitreg.manifest",
    "ModelVersion": "gitreg.manifest",
    "RegistryConfig": "gitreg.manifest",
    "Ref": "gitreg.registry",
    "Registry": "gitreg.registry",
    "Proposal": "gitreg.registry_write",
    "Query": "gitreg.query",
    "FieldChange": "gitreg.summary",
    "VersionDiff": "gitreg.summary",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gitreg' has no attribute {name!r}")


__all__ = [
    "ConflictError",
    "DestinationExistsError",
    "FieldChange",
    "GitregError",
    "IntegrityError",
    "ManifestError",
    "ModelInfo",
    "ModelVersion",
    "NotFoundError",
    "Proposal",
    "Query",
    "QueryError",
    "Ref",
    "Registry",
    "RegistryConfig",
    "StorageError",
    "UnsafePathError",
    "UsageError",
    "VersionDiff",
    "__version__",
]
