"""Single-file rules on in-memory registries: each rule firing on a bad file and silent on a good one."""

from __future__ import annotations

from gitreg.snapshot import MemorySnapshot
from gitreg.validate import Report, View, validate

COMMIT = "1b2c3d4e5f60718293a4b5c6d7e8f90112233445"
DIGEST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
DATA_DIGEST = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

REGISTRY = """\
apiVersion: gitreg/v1
kind: Registry
storage:
  url: file:///srv/gitreg/blobs
  options: {endpoint_url: "http://minio.internal:9000", region: eu-west-1}
stages:
  - name: staging
  - name: production
    requires: [staging]
    policy:
      fields: [description, lineage.code.commit]
"""

MODEL = """\
apiVersion: gitreg/v1
kind: Model
name: fraud
description: Card-not-present fraud scoring
owners: ["@risk-ml"]
"""

VERSION = f"""\
apiVersion: gitreg/v1
kind: ModelVersion
model: fraud
version: 1
artifact:
  digest: {DIGEST}
  size: 48213
  type: file
  name: model.onnx
metrics: {{auc: 0.931}}
lineage:
  code: {{repo: "https://git.example.com/risk/train", commit: {COMMIT}}}
  data: [{{uri: "s3://datasets/fraud/2026-11", digest: "{DATA_DIGEST}"}}]
description: Retrained on November data
created_at: "2026-11-22T10:00:00Z"
created_by: "Alice <alice@example.com>"
status: active
"""

V1 = "models/fraud/versions/1.yaml"


def files(changes: dict[str, str | bytes | None] | None = None) -> dict[str, bytes]:
    """A small valid registry (fraud@1 in staging) with ``changes`` applied (None removes a file)."""
    base: dict[str, str | bytes | None] = {
        "registry.yaml": REGISTRY,
        "README.md": "# A registry\n",
        "models/.gitkeep": "",
        "models/fraud/model.yaml": MODEL,
        V1: VERSION,
        "stages/.gitkeep": "",
        "stages/staging.yaml": "fraud: 1\n",
    }
    base.update(changes or {})
    return {p: c.encode() if isinstance(c, str) else c for p, c in base.items() if c is not None}


def check(changes: dict[str, str | bytes | None] | None = None) -> Report:
    return validate(View(MemorySnapshot(files(changes))))


def lint(changes: dict[str, str | bytes | None] | None = None) -> list[str]:
    """Every finding, as text (warnings included)."""
    return [str(f) for f in check(changes).findings]


def test_the_baseline_registry_is_clean() -> None:
    report = check()
    assert report.findings == []
    assert report.files_checked == 7


def test_yaml_parse_errors() -> None:
    unclosed = VERSION.replace("metrics: {auc: 0.931}", "metrics: {auc: 0.931")
    duplicate = VERSION.replace("status: active\n", "status: active\nstatus: archived\n")
    tab = MODEL.replace('owners: ["@risk-ml"]', 'owners:\n\t- "@risk-ml"')
    assert lint({V1: unclosed, "models/fraud/model.yaml": tab}) == [
        "models/fraud/model.yaml:6:1: yaml: found character that cannot start any token",
        "models/fraud/versions/1.yaml:11:8: yaml: did not find expected ',' or '}'",
    ]
    assert lint({V1: duplicate}) == ["models/fraud/versions/1.yaml:18:1: yaml: duplicate key 'status'"]
    # Quoting makes the same characters ordinary text.
    assert lint({V1: VERSION.replace("Retrained on November data", "'Retrained: {auc: 0.9'")}) == []


def test_schema_unknown_fields_wrong_types_and_missing_fields() -> None:
    misspelt = VERSION.replace("metrics:", "metric:")
    wrong_type = VERSION.replace("size: 48213", "size: big").replace("status: active", "status: retired")
    missing = VERSION.replace('created_by: "Alice <alice@example.com>"\n', "")
    stranger = MODEL + "maintainer: alice\n"
    assert lint({V1: misspelt, "models/fraud/model.yaml": stranger}) == [
        "models/fraud/model.yaml:6:1: schema: unknown field 'maintainer' "
        "(allowed: apiVersion, description, kind, name, owners, policy, retention, tags)",
        "models/fraud/versions/1.yaml:10:1: schema: unknown field 'metric' (did you mean 'metrics'?)",
    ]
    assert lint({V1: wrong_type}) == [
        "models/fraud/versions/1.yaml:7:3: schema: artifact.size: Input should be a valid integer",
        "models/fraud/versions/1.yaml:17:1: schema: status: Input should be 'active' or 'archived'",
    ]
    assert lint({V1: missing}) == [
        "models/fraud/versions/1.yaml:1:1: schema: missing required field 'created_by'"
    ]
    stage = lint({"stages/staging.yaml": "fraud: latest\n"})
    assert stage == ["stages/staging.yaml:1:1: schema: fraud: Input should be a valid integer"]
    # The same fields, well typed, in another order: nothing to report.
    reordered = "status: active\n" + VERSION.replace("status: active\n", "")
    assert lint({V1: reordered}) == []


def test_names_and_numbers_agree_with_paths() -> None:
    assert lint(
        {
            "models/fraud/model.yaml": MODEL.replace("name: fraud", "name: fraud-v2"),
            V1: VERSION.replace("model: fraud", "model: churn"),
            "models/fraud/versions/2.yaml": VERSION.replace("version: 1", "version: 3"),
            "models/fraud/versions/latest.yaml": VERSION,
            "models/fraud/versions/02.yaml": VERSION.replace("version: 1", "version: 2"),
        }
    ) == [
        "models/fraud/model.yaml:3:1: path-mismatch: name is 'fraud-v2' but the folder is models/fraud/",
        "models/fraud/versions/02.yaml:0:0: path-mismatch: "
        "version files are named <positive integer>.yaml, e.g. versions/3.yaml",
        "models/fraud/versions/1.yaml:3:1: path-mismatch: model is 'churn' but the file is in models/fraud/",
        "models/fraud/versions/2.yaml:4:1: path-mismatch: version is 3 but the file is named 2.yaml",
        "models/fraud/versions/latest.yaml:0:0: path-mismatch: "
        "version files are named <positive integer>.yaml, e.g. versions/3.yaml",
    ]
    # A second version whose manifest says what its path says.
    assert lint({"models/fraud/versions/2.yaml": VERSION.replace("version: 1", "version: 2")}) == []


def test_stray_files_under_models() -> None:
    message = "stray-file: unexpected file in models/: only model.yaml and versions/<n>.yaml belong there"
    assert lint(
        {
            "models/NOTES.md": "notes\n",
            "models/fraud/model.yml": MODEL,
            "models/fraud/train.py": "print('hi')\n",
            "models/fraud/versions/old/1.yaml": VERSION,
        }
    ) == [
        f"models/NOTES.md:0:0: {message}",
        f"models/fraud/model.yml:0:0: {message}",
        f"models/fraud/train.py:0:0: {message}",
        f"models/fraud/versions/old/1.yaml:0:0: {message}",
    ]
    # Placeholders and files outside models/ are not stray.
    assert (
        lint(
            {
                "models/fraud/versions/.gitkeep": "",
                "docs/train.py": "print('hi')\n",
                ".github/workflows/gitreg.yml": "name: gitreg\n",
            }
        )
        == []
    )


def test_stage_file_for_an_undeclared_stage() -> None:
    assert lint({"stages/canary.yaml": "fraud: 1\n", "stages/production.yml": "fraud: 1\n"}) == [
        "stages/canary.yaml:0:0: unknown-stage: "
        "stage 'canary' is not declared in registry.yaml (declared: staging, production)",
        "stages/production.yml:0:0: unknown-stage: stage files are named <stage>.yaml",
    ]
    # A declared stage may have its file, even an empty one.
    assert lint({"stages/production.yaml": ""}) == []


def test_registry_config_problems() -> None:
    bad = REGISTRY.replace("requires: [staging]", "requires: [staging, canary, production]") + (
        "  - name: staging\n"
    )
    assert lint({"registry.yaml": bad}) == [
        "registry.yaml:9:25: config: stage 'production' requires undeclared stage 'canary'",
        "registry.yaml:9:33: config: stage 'production' requires itself",
        "registry.yaml:12:5: config: stage 'staging' is declared twice",
    ]
    policy = MODEL + "policy:\n  canary:\n    metrics: {auc: '>= 0.9'}\n"
    assert lint({"models/fraud/model.yaml": policy}) == [
        "models/fraud/model.yaml:7:3: config: policy for undeclared stage 'canary'"
    ]
    assert lint({"registry.yaml": None}) == [
        "registry.yaml:0:0: config: registry.yaml is missing: this is not a gitreg registry"
    ]
    # Policy for a declared stage, and a requirement on a declared stage, are fine.
    declared = MODEL + "policy:\n  production:\n    metrics: {auc: '>= 0.9'}\n"
    assert lint({"models/fraud/model.yaml": declared}) == []


def test_credentials_in_manifests() -> None:
    message = "remove it and rotate it; credentials never belong in the registry"
    leaky = VERSION.replace(
        "metrics: {auc: 0.931}",
        "metrics: {auc: 0.931}\nparams: {aws_key: AKIAIOSFODNN7EXAMPLE}\n"
        "tags: {token: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789}",
    ).replace("https://git.example.com/risk/train", "https://alice:hunter2@git.example.com/risk/train")
    leaky = leaky.replace(
        "description: Retrained on November data",
        'description: "-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA"',
    )
    config = REGISTRY.replace("region: eu-west-1", "region: eu-west-1, secret: hunter2")
    assert lint({V1: leaky, "registry.yaml": config}) == [
        f"models/fraud/versions/1.yaml:11:19: credential: this looks like an AWS access key id: {message}",
        f"models/fraud/versions/1.yaml:12:15: credential: this looks like a GitHub token: {message}",
        f"models/fraud/versions/1.yaml:14:17: credential: this looks like a password in a URL: {message}",
        f"models/fraud/versions/1.yaml:16:15: credential: this looks like a private key: {message}",
        "registry.yaml:5:76: credential: storage option 'secret' looks like a credential: give credentials "
        "through the backend's environment variables or profiles, never in the repository",
    ]
    # The baseline holds a 40-hex commit, sha256 digests, URLs without passwords and plain storage options.
    assert COMMIT in VERSION
    assert DIGEST in VERSION
    ordinary = VERSION.replace(
        "https://git.example.com/risk/train", "ssh://git@git.example.com:22/risk/train.git"
    ).replace("Retrained on November data", "Key rotation AKIA-style ids are checked elsewhere")
    assert lint({V1: ordinary}) == []


def test_large_files() -> None:
    mib = 1024 * 1024
    hint = "model files belong in the blob store (gitreg register), not in the registry repository"
    assert lint({"weights.bin": b"\0" * (mib + 1), "docs/big.pdf": b"\0" * mib}) == [
        f"weights.bin:0:0: large-file: file is {mib + 1} bytes, over the {mib}-byte limit: {hint}"
    ]
    # rules.max_file_size in registry.yaml sets the limit.
    strict = REGISTRY + "rules: {max_file_size: 1000}\n"
    assert lint({"registry.yaml": strict, "notes.txt": "x" * 1001, "ok.txt": "x" * 1000}) == [
        f"notes.txt:0:0: large-file: file is 1001 bytes, over the 1000-byte limit: {hint}"
    ]


def test_model_without_owners_is_a_warning() -> None:
    report = check({"models/fraud/model.yaml": MODEL.replace('owners: ["@risk-ml"]', "owners: []")})
    assert [str(f) for f in report.findings] == [
        "models/fraud/model.yaml:3:1: no-owners: model has no owners: add CODEOWNERS handles under owners:"
    ]
    assert [f.severity for f in report.findings] == ["warning"]
    assert report.errors == []
    assert not report.failed()
    assert report.failed(strict=True)
    owned = check()
    assert owned.findings == []
    assert not owned.failed(strict=True)
