"""``gitreg import mlflow`` refuses a version whose artifact files a registry could not hold safely, before a
byte is downloaded: the names come from the MLflow server, which is not gitreg's to trust (a name that
separates folders on Windows, two names one file on macOS and Windows, a device name, a
trailing dot). Each refusal is one line and a non-zero exit, and leaves the registry and the blob store as
they were. (A control character cannot come from a real MLflow server: its listings escape one, even in a
name put straight into its artifact folder; ``gitreg.filesystem.name_problem`` refuses it all the same.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from testing import Unchanged, run
from testing.mlflow_server import MlflowServer, add_version, model_folder

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def client(mlflow_server: MlflowServer) -> Any:
    return mlflow.MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)


HOSTILE = {
    "backslash": ("data\\evil.bin", "contains a backslash, which separates folders on Windows"),
    "case": ("Model.pkl", "differ only in case or Unicode form"),
    "device": ("data/CON.txt", "is a device name on Windows"),
    "dot": ("notes.", "ends with a dot or a space"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_artifact_name_is_refused_before_any_download(
    registry: Path, blobs: Path, client: Any, tmp_path: Path, case: str
) -> None:
    name, why = HOSTILE[case]
    model = f"hostile-{case}"
    add_version(client, model, model_folder(tmp_path / "m", 1, extra={name: b"payload"}))
    unchanged = Unchanged(registry)
    stored = sorted(p for p in blobs.rglob("*") if p.is_file())
    result = run("import", "mlflow", "--tracking-uri", client.tracking_uri, "--model", model, cwd=registry)
    assert result.exit_code != 0
    assert result.stderr.startswith(f"error: cannot import {model}@1: ")
    assert why in result.stderr
    assert result.stderr.count("\n") == 1
    unchanged.check()
    assert sorted(p for p in blobs.rglob("*") if p.is_file()) == stored
