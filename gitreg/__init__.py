"""gitreg: a GitOps model registry. Manifests live in Git; artifacts live in content-addressed blob storage.

The public Python API::

    from gitreg import Registry
    reg = Registry.open(".")
    v = reg.resolve("fraud-detector@production")
    path = reg.pull(v, "/srv/models/fraud")
"""

from __future__ import annotations

__version__ = "0.1.0"

from gitreg.errors import (
    ConflictError,
    GitregError,
    IntegrityError,
    ManifestError,
    NotFoundError,
    StorageError,
    UsageError,
)
from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig
from gitreg.registry import Ref, Registry

__all__ = [
    "ConflictError",
    "GitregError",
    "IntegrityError",
    "ManifestError",
    "ModelInfo",
    "ModelVersion",
    "NotFoundError",
    "Ref",
    "Registry",
    "RegistryConfig",
    "StorageError",
    "UsageError",
    "__version__",
]
