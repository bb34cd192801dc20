"""``gitreg import mlflow`` against a real ``mlflow server`` (SQLite backend, local artifacts served by the
server), populated through MLflow's own client. Each test imports models of its own (``--model``), so the
tests share one server per worker."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitreg.storage import open_store
from gitreg.storage.artifact import tree_entries
from testing import Unchanged, git, run, tree_state
from testing.mlflow_server import (
    MlflowServer,
    add_version,
    cutting_proxy,
    free_port,
    model_folder,
)

mlflow = pytest.importorskip("mlflow")

TIMEOUT = 120


@pytest.fixture
def server(mlflow_server: MlflowServer) -> str:
    return mlflow_server.url


@pytest.fixture
def client(server: str) -> Any:
    return mlflow.MlflowClient(tracking_uri=server, registry_uri=server)


def _import(registry: Path, server: str, *args: str) -> Any:
    return run("import", "mlflow", "--tracking-uri", server, *args, cwd=registry)


def _version(registry: Path, model: str, number: int) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((registry / f"models/{model}/versions/{number}.yaml").read_text())
    return data


def _stage(registry: Path, stage: str) -> dict[str, int]:
    path = registry / f"stages/{stage}.yaml"
    return (yaml.safe_load(path.read_text()) if path.exists() else None) or {}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _served_digests(client: Any, run_id: str, tmp: Path) -> dict[str, tuple[int, str]]:
    """path -> (size, sha256) of every file MLflow serves for the run's ``model`` folder, hashed here."""
    local = Path(client.download_artifacts(run_id, "model", str(tmp)))
    found = {}
    for path in sorted(local.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found[path.relative_to(local).as_posix()] = (
                len(data),
                "sha256:" + hashlib.sha256(data).hexdigest(),
            )
    return found


def _head(registry: Path) -> str:
    return git(registry, "rev-parse", "HEAD").strip()


def test_import_keeps_mlflow_records_and_bytes_then_follows_changes(
    registry: Path, blobs: Path, client: Any, tmp_path: Path
) -> None:
    name, other = "Fraud Detector", "story-churn"
    commit = "1b2c3d4e5f60718293a4b5c6d7e8f90123456789"
    run_tags = {
        "mlflow.source.git.commit": commit,
        "mlflow.source.git.repoURL": "https://git.example.com/risk/train.git",
        "mlflow.source.name": "train.py",
        "mlflow.user": "alice",
    }
    v1, run1 = add_version(
        client,
        name,
        model_folder(tmp_path / "m1", 1),
        metrics={"auc": 0.91, "f1": 0.8},
        params={"max_depth": "8", "lr": "0.1"},
        run_tags=run_tags,
        tags={"candidate": "true"},
        description="first",
    )
    v2, run2 = add_version(
        client, name, model_folder(tmp_path / "m2", 2), metrics={"auc": 0.93}, run_tags=run_tags
    )
    client.update_registered_model(name, description="Card-not-present fraud scoring")
    client.set_registered_model_tag(name, "team", "risk")
    client.set_registered_model_alias(name, "champion", str(v2))
    client.set_registered_model_alias(name, "challenger", str(v1))
    with pytest.warns(FutureWarning):
        client.transition_model_version_stage(name, str(v1), "Production")
    c1, crun1 = add_version(client, other, model_folder(tmp_path / "c1", 3), metrics={"auc": 0.7})
    c2, crun2 = add_version(client, other, model_folder(tmp_path / "c2", 4), metrics={"auc": 0.8})
    with pytest.warns(FutureWarning):
        client.transition_model_version_stage(other, str(c1), "Archived")
    client.delete_run(crun2)

    before = _head(registry)
    dry = _import(registry, client.tracking_uri, "--model", name, "--model", other, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "plan: 4 versions of 2 models" in dry.stdout
    assert "model fraud-detector (MLflow 'Fraud Detector'): new model, 2 new versions" in dry.stdout
    assert "dry run: nothing stored or committed" in dry.stdout
    assert _head(registry) == before
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))

    result = _import(
        registry, client.tracking_uri, "--model", name, "--model", other, "--stage-map", "champion=staging"
    )
    assert result.exit_code == 0, result.stderr
    assert "imported fraud-detector@1" in result.stdout
    assert "staging: fraud-detector (none) -> 2 (alias champion)" in result.stdout
    # production requires staging first: the legacy Production stage is held back with the validator's words
    assert (
        "held back: fraud-detector@1 to production (legacy stage Production): stage-transition"
        in result.stderr
    )
    assert "alias 'challenger' (version 1) has no --stage-map entry" in result.stderr
    assert f"story-churn@2: its run {crun2} was deleted" in result.stderr
    assert _stage(registry, "staging") == {"fraud-detector": 2}
    assert _stage(registry, "production") == {}
    assert git(registry, "status", "--porcelain") == ""

    info = yaml.safe_load((registry / "models/fraud-detector/model.yaml").read_text())
    assert info["description"] == "Card-not-present fraud scoring"
    assert info["tags"] == {"team": "risk", "mlflow.name": name}

    store = open_store(blobs.as_uri())
    for model, mlflow_name, number, run_id in [
        ("fraud-detector", name, v1, run1),
        ("fraud-detector", name, v2, run2),
        ("story-churn", other, c1, crun1),
        ("story-churn", other, c2, crun2),
    ]:
        record = client.get_model_version(mlflow_name, str(number))
        mlflow_run = client.get_run(run_id)
        manifest = _version(registry, model, number)
        assert manifest["version"] == int(record.version)
        assert manifest["created_at"] == _iso(record.creation_timestamp)
        assert manifest["created_by"] == (record.user_id or mlflow_run.info.user_id)
        assert manifest.get("description", "") == (record.description or "")
        tags = dict(record.tags)
        if mlflow_run.info.lifecycle_stage == "deleted":
            tags["mlflow.run"] = "deleted"
        assert manifest.get("tags", {}) == tags
        assert manifest.get("metrics", {}) == mlflow_run.data.metrics
        assert manifest.get("params", {}) == mlflow_run.data.params
        assert manifest["lineage"]["run"]["id"] == run_id
        assert manifest["lineage"]["run"]["url"].endswith(f"/runs/{run_id}")
        assert manifest["framework"] == {"name": "sklearn", "version": "1.5.2"}
        assert manifest["signature"] == {
            "inputs": [{"type": "double", "name": "x", "required": True}],
            "outputs": [{"type": "long", "required": True}],
        }
        assert manifest["status"] == ("archived" if record.current_stage == "Archived" else "active")
        assert manifest["artifact"]["format"] == "mlflow"
        assert manifest["artifact"]["type"] == "tree"
        if model == "fraud-detector":
            assert manifest["lineage"]["code"] == {
                "repo": "https://git.example.com/risk/train.git",
                "commit": commit,
                "path": "train.py",
            }
        # every digest is the SHA-256 of the bytes MLflow serves, and the listing's of the listing
        served = _served_digests(client, run_id, tmp_path / f"served-{model}-{number}")
        entries = tree_entries(store, manifest["artifact"]["digest"])
        assert {e.path: (e.size, e.digest) for e in entries} == served
        assert manifest["artifact"]["size"] == sum(size for size, _ in served.values())
        assert "data/nested/weights.bin" in served

    validated = run("validate", cwd=registry)
    assert validated.exit_code == 0, validated.stdout

    # nothing new: a no-op that says so
    head = _head(registry)
    again = _import(
        registry, client.tracking_uri, "--model", name, "--model", other, "--stage-map", "champion=staging"
    )
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "nothing to import: 2 models, 4 versions already up to date\n"
    assert _head(registry) == head

    # a new version, and the alias moved to it
    v3, _ = add_version(client, name, model_folder(tmp_path / "m3", 5), metrics={"auc": 0.95})
    client.set_registered_model_alias(name, "champion", str(v3))
    later = _import(registry, client.tracking_uri, "--model", name, "--stage-map", "champion=staging")
    assert later.exit_code == 0, later.stderr
    assert later.stdout.splitlines()[:2] == [
        "imported fraud-detector@3",
        "staging: fraud-detector 2 -> 3 (alias champion)",
    ]
    assert _stage(registry, "staging") == {"fraud-detector": 3}
    assert run("validate", "--base", head, cwd=registry).exit_code == 0

    # an imported version's files changed in MLflow: a conflict, never overwritten
    extra = tmp_path / "extra.txt"
    extra.write_text("added later\n")
    client.log_artifact(run1, str(extra), "model")
    head = _head(registry)
    unchanged = Unchanged(registry)
    conflict = _import(registry, client.tracking_uri, "--model", name, "--stage-map", "champion=staging")
    assert conflict.exit_code == 1, conflict.stderr
    assert (
        "conflict: fraud-detector@1: its artifacts in MLflow changed since it was imported (extra.txt is new)"
        in (conflict.stderr)
    )
    assert conflict.stdout == "nothing to import: 1 model, 3 versions already up to date\n"
    assert _head(registry) == head
    unchanged.check()


def test_purged_run_leaves_nothing_to_import_and_says_so(
    registry: Path, client: Any, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    _, purged = add_version(client, "purged-model", model_folder(tmp_path / "m1", 1))
    add_version(client, "purged-model", model_folder(tmp_path / "m2", 2))
    client.delete_run(purged)
    mlflow_server.purge_runs(purged)
    result = _import(registry, client.tracking_uri, "--model", "purged-model")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("imported purged-model@2\n")
    assert "note: purged-model@1: its artifacts are gone from MLflow: not imported" in result.stderr
    assert not (registry / "models/purged-model/versions/1.yaml").exists()
    assert run("validate", cwd=registry).exit_code == 0


def test_branch_proposes_the_import_and_leaves_the_checkout(
    registry: Path, client: Any, tmp_path: Path
) -> None:
    add_version(client, "branch-model", model_folder(tmp_path / "m", 1))
    head = _head(registry)
    worktree = tree_state(registry / "models"), tree_state(registry / "stages")
    result = _import(registry, client.tracking_uri, "--model", "branch-model", "--branch", "import/mlflow")
    assert result.exit_code == 0, result.stderr
    assert "branch import/mlflow" in result.stdout
    assert _head(registry) == head
    assert git(registry, "status", "--porcelain") == ""
    assert (tree_state(registry / "models"), tree_state(registry / "stages")) == worktree
    assert git(registry, "show", "import/mlflow:models/branch-model/versions/1.yaml").startswith("apiVersion")
    again = _import(registry, client.tracking_uri, "--model", "branch-model", "--branch", "import/mlflow")
    assert again.exit_code == 3
    assert "branch import/mlflow already exists" in again.stderr


def test_model_names_are_mapped_by_the_rule_or_refused(registry: Path, client: Any, tmp_path: Path) -> None:
    add_version(client, "Team Churn v2", model_folder(tmp_path / "a", 1))
    mapped = _import(registry, client.tracking_uri, "--model", "Team Churn v2")
    assert mapped.exit_code == 0, mapped.stderr
    assert "imported team-churn-v2@1" in mapped.stdout
    info = yaml.safe_load((registry / "models/team-churn-v2/model.yaml").read_text())
    assert info["tags"]["mlflow.name"] == "Team Churn v2"

    add_version(client, "!!!", model_folder(tmp_path / "b", 2))
    add_version(client, "Team  Churn (V2)", model_folder(tmp_path / "c", 3))
    add_version(client, "CON", model_folder(tmp_path / "d", 4))
    unchanged = Unchanged(registry)
    for wanted, message in [
        ("!!!", "MLflow model '!!!' has no valid gitreg name ('' is not one)"),
        ("CON", "MLflow model 'CON' has no valid gitreg name ('con' is not one)"),
        (
            "Team  Churn (V2)",
            "maps to 'team-churn-v2', and the registry's team-churn-v2 was imported from MLflow",
        ),
    ]:
        refused = _import(registry, client.tracking_uri, "--model", wanted)
        assert refused.exit_code in (2, 3), refused.stderr
        assert message in refused.stderr
        assert refused.stderr.count("\n") == 1
        unchanged.check()
    add_version(client, "Churn Twin", model_folder(tmp_path / "e", 5))
    add_version(client, "churn-twin", model_folder(tmp_path / "f", 6))
    both = _import(registry, client.tracking_uri, "--model", "Churn Twin", "--model", "churn-twin")
    assert both.exit_code == 2
    assert both.stderr.startswith(
        "error: MLflow models 'Churn Twin' and 'churn-twin' both map to the gitreg name 'churn-twin' "
        "(gitreg maps an MLflow name by lowercasing it"
    )
    unchanged.check()


def test_unreachable_tracking_uri_fails_fast(registry: Path) -> None:
    unchanged = Unchanged(registry)
    result = _import(registry, f"http://127.0.0.1:{free_port()}", "--model", "x")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: cannot reach MLflow at http://127.0.0.1:")
    assert "(check --tracking-uri and that the server is running)" in result.stderr
    unchanged.check()


def test_unknown_model_and_bad_stage_map(registry: Path, client: Any) -> None:
    unchanged = Unchanged(registry)
    missing = _import(registry, client.tracking_uri, "--model", "no-such-model")
    assert missing.exit_code == 3
    assert "cannot read registered model 'no-such-model'" in missing.stderr
    bad = _import(registry, client.tracking_uri, "--stage-map", "champion=prod")
    assert bad.exit_code == 2
    assert "registry.yaml declares no stage 'prod'" in bad.stderr
    malformed = _import(registry, client.tracking_uri, "--stage-map", "champion")
    assert malformed.exit_code == 2
    assert "--stage-map 'champion': write ALIAS=STAGE" in malformed.stderr
    push = _import(registry, client.tracking_uri, "--push")
    assert push.exit_code == 2
    assert "--push and --open-pr go with --branch NEW" in push.stderr
    unchanged.check()


def test_download_cut_midstream_commits_nothing(
    registry: Path, blobs: Path, client: Any, server: str, tmp_path: Path
) -> None:
    add_version(client, "cut-model", model_folder(tmp_path / "m", 1))
    head = _head(registry)
    unchanged = Unchanged(registry)
    with cutting_proxy(server, lambda path: "model.pkl" in path) as proxy:
        result = _import(registry, proxy.url, "--model", "cut-model")
    assert result.exit_code == 3, result.stderr
    assert proxy.cut_count >= 1
    assert result.stderr.startswith("error: ")
    assert "model.pkl" in result.stderr
    assert result.stderr.count("\n") == 1
    assert _head(registry) == head
    unchanged.check()
    done = _import(registry, server, "--model", "cut-model")
    assert done.exit_code == 0, done.stderr
    assert run("validate", cwd=registry).exit_code == 0


def test_killed_import_completes_on_the_next_run(
    registry: Path, client: Any, server: str, tmp_path: Path
) -> None:
    add_version(client, "killed-model", model_folder(tmp_path / "m", 1))
    add_version(client, "killed-model", model_folder(tmp_path / "m2", 2))
    head = _head(registry)
    with cutting_proxy(server, lambda path: "weights.bin" in path, stall=True) as proxy:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gitreg",
                "import",
                "mlflow",
                "--tracking-uri",
                proxy.url,
                "--model",
                "killed-model",
            ],
            cwd=registry,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        try:
            assert proxy.stalled.wait(TIMEOUT), "the import never reached the stalled download"
            time.sleep(0.2)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=TIMEOUT)
    assert process.returncode == -signal.SIGKILL
    assert _head(registry) == head
    assert git(registry, "status", "--porcelain") == ""
    done = _import(registry, server, "--model", "killed-model")
    assert done.exit_code == 0, done.stderr
    assert "imported killed-model@1" in done.stdout
    assert "imported killed-model@2" in done.stdout
    assert run("validate", cwd=registry).exit_code == 0


def test_without_the_extra_one_line_names_it(registry: Path) -> None:
    code = (
        "import sys; sys.modules['mlflow'] = None; from gitreg.cli import main; "
        "sys.argv = ['gitreg', 'import', 'mlflow', '--tracking-uri', 'http://127.0.0.1:9']; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=registry,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr == (
        "error: importing from MLflow needs the mlflow extra, which is not installed "
        "(pip install 'gitreg-registry[mlflow]')\n"
    )
