"""testing.synthetic makes registries that gitreg accepts: the benchmarks time only clean registries, so a
change to the manifests' schema or rules must fail here rather than mid-benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.registry import Registry
from gitreg.validate.runner import validate_registry
from testing import git
from testing.synthetic import make_registry, model_names, registry_files


@pytest.mark.parametrize("lean", [False, True])
def test_a_synthetic_registry_validates_clean_and_reads_back(tmp_path: Path, lean: bool) -> None:
    names = model_names(12)
    stages = {"staging": dict.fromkeys(names[::2], 3), "production": dict.fromkeys(names[::4], 3)}
    files = registry_files(names, 3, stages=stages, lean=lean, production_metrics={"auc": ">= 0.5"})
    root = tmp_path / "registry"
    head = make_registry(root, tmp_path / "blobs", files)

    assert git(root, "rev-parse", "HEAD").strip() == head
    assert git(root, "status", "--porcelain") == ""
    for ref in (None, "HEAD"):
        report = validate_registry(Registry.open(root, ref=ref))
        assert [str(f) for f in report.findings] == []
    registry = Registry.open(root)
    assert [v.version for v in registry.versions(names[4])] == [1, 2, 3]
    assert registry.resolve(f"{names[4]}@production").version == 3
