"""Rules that span files, on in-memory registries: model folders have a model.yaml, and stage entries name
existing, active versions that meet the stage's policy (registry.yaml's and the model's own)."""

from __future__ import annotations

from gitreg.snapshot import MemorySnapshot
from gitreg.validate import View, validate

COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"

REGISTRY = """\
apiVersion: gitreg/v1
kind: Registry
storage: {url: file:///srv/gitreg/blobs}
stages:
  - name: staging
  - name: production
    requires: [staging]
    policy:
      fields: [description, lineage.code.commit]
      metrics: {auc: ">= 0.9"}
"""


def model(name: str, policy: str = "") -> str:
    return f'apiVersion: gitreg/v1\nkind: Model\nname: {name}\nowners: ["@risk-ml"]\n{policy}'


def version(
    name: str,
    number: int,
    metrics: str = "{auc: 0.95, f1: 0.85}",
    extra: str = f"description: Retrained\nlineage: {{code: {{commit: {COMMIT}}}}}\n",
    status: str = "active",
) -> str:
    digest = f"sha256:{number:064x}"
    return (
        f"apiVersion: gitreg/v1\nkind: ModelVersion\nmodel: {name}\nversion: {number}\n"
        f"artifact: {{digest: '{digest}', size: 10, type: file, name: model.onnx}}\n"
        f"metrics: {metrics}\n{extra}"
        f"created_at: '2026-11-22T10:00:00Z'\ncreated_by: Alice <alice@example.com>\nstatus: {status}\n"
    )


def lint(files: dict[str, str]) -> list[str]:
    """Every finding on a registry made of registry.yaml plus ``files``."""
    snapshot = MemorySnapshot({p: t.encode() for p, t in {"registry.yaml": REGISTRY, **files}.items()})
    return [str(f) for f in validate(View(snapshot)).findings]


def test_model_folder_without_model_yaml() -> None:
    files = {
        "models/fraud/model.yaml": model("fraud"),
        "models/fraud/versions/1.yaml": version("fraud", 1),
        "models/churn/versions/1.yaml": version("churn", 1),
    }
    assert lint(files) == [
        "models/churn:0:0: missing-model-file: model folder has no model.yaml: "
        "add models/churn/model.yaml (gitreg register writes it for a new model)"
    ]
    assert lint({**files, "models/churn/model.yaml": model("churn")}) == []


def test_stage_entries_name_existing_versions() -> None:
    files = {
        "models/fraud/model.yaml": model("fraud"),
        "models/fraud/versions/1.yaml": version("fraud", 1),
        "models/fraud/versions/2.yaml": version("fraud", 2),
    }
    stages = {"stages/staging.yaml": "fraud: 2\nghost: 1\n", "stages/production.yaml": "fraud: 3\n"}
    assert lint({**files, **stages}) == [
        "stages/production.yaml:1:1: stage-entry: fraud@3 does not exist",
        "stages/staging.yaml:2:1: stage-entry: model 'ghost' is not in the registry",
    ]
    assert lint({**files, "stages/staging.yaml": "fraud: 2\n", "stages/production.yaml": "fraud: 1\n"}) == []


def test_archived_version_in_a_stage() -> None:
    files = {
        "models/fraud/model.yaml": model("fraud"),
        "models/fraud/versions/1.yaml": version("fraud", 1, status="archived"),
        "models/fraud/versions/2.yaml": version("fraud", 2),
    }
    assert lint({**files, "stages/staging.yaml": "fraud: 1\n"}) == [
        "stages/staging.yaml:1:1: stage-archived: fraud@1 is archived: restore it, or remove it from staging"
    ]
    # The archived version out of every stage, an active one in it.
    assert lint({**files, "stages/staging.yaml": "fraud: 2\n"}) == []


def test_policy_required_fields() -> None:
    bare = version("fraud", 2, extra="")
    no_commit = version("fraud", 3, extra="description: Retrained\nlineage: {code: {repo: https://x/y}}\n")
    files = {
        "models/fraud/model.yaml": model("fraud"),
        "models/fraud/versions/1.yaml": version("fraud", 1),
        "models/fraud/versions/2.yaml": bare,
        "models/fraud/versions/3.yaml": no_commit,
        "models/churn/model.yaml": model("churn"),
        "models/churn/versions/1.yaml": version("churn", 1, extra=""),
    }
    stages = {"stages/staging.yaml": "churn: 1\nfraud: 2\n", "stages/production.yaml": "fraud: 2\n"}
    assert lint({**files, **stages}) == [
        "stages/production.yaml:1:1: policy-field: fraud@2 has no description, "
        "which stage 'production' requires",
        "stages/production.yaml:1:1: policy-field: fraud@2 has no lineage.code.commit, "
        "which stage 'production' requires",
    ]
    assert lint({**files, "stages/production.yaml": "fraud: 3\n"}) == [
        "stages/production.yaml:1:1: policy-field: fraud@3 has no lineage.code.commit, "
        "which stage 'production' requires",
    ]
    # staging has no policy: versions without the fields may be there; production takes a complete one.
    assert (
        lint({**files, "stages/staging.yaml": "churn: 1\nfraud: 2\n", "stages/production.yaml": "fraud: 1\n"})
        == []
    )


def test_policy_metric_thresholds_of_registry_and_model_both_apply() -> None:
    files = {
        "models/fraud/model.yaml": model("fraud", "policy:\n  production:\n    metrics: {f1: '>= 0.8'}\n"),
        "models/fraud/versions/1.yaml": version("fraud", 1, metrics="{auc: 0.95, f1: 0.85}"),
        "models/fraud/versions/2.yaml": version("fraud", 2, metrics="{auc: 0.85, f1: 0.85}"),
        "models/fraud/versions/3.yaml": version("fraud", 3, metrics="{auc: 0.95, f1: 0.7}"),
        "models/fraud/versions/4.yaml": version("fraud", 4, metrics="{auc: 0.95}"),
        "models/churn/model.yaml": model("churn"),
        "models/churn/versions/1.yaml": version("churn", 1, metrics="{auc: 0.91}"),
        "models/churn/versions/2.yaml": version("churn", 2, metrics="{f1: 0.99}"),
    }
    fails = {
        2: "fraud@2 has auc=0.85; stage 'production' requires auc >= 0.9",
        3: "fraud@3 has f1=0.7; stage 'production' requires f1 >= 0.8",
        4: "fraud@4 has no metric 'f1'; stage 'production' requires f1 >= 0.8",
    }
    for number, message in fails.items():
        stage = f"fraud: {number}\n"
        assert lint({**files, "stages/production.yaml": stage}) == [
            f"stages/production.yaml:1:1: policy-metric: {message}"
        ]
    assert lint({**files, "stages/production.yaml": "churn: 2\n"}) == [
        "stages/production.yaml:1:1: policy-metric: "
        "churn@2 has no metric 'auc'; stage 'production' requires auc >= 0.9"
    ]
    # fraud's own threshold does not apply to churn; both thresholds hold for fraud@1; staging has none.
    ok = {"stages/production.yaml": "churn: 1\nfraud: 1\n", "stages/staging.yaml": "fraud: 2\n"}
    assert lint({**files, **ok}) == []
