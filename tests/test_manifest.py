"""gitreg.manifest: the schema of registry.yaml, model.yaml, version manifests and stage files, and the way
pydantic's errors become one ``path:line:col: message`` problem each."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from gitreg import manifest, yamlio
from gitreg.errors import ManifestError, Problem
from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig, StageFile

D1 = "sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
D2 = "sha256:" + "a" * 64
T = TypeVar("T", bound=BaseModel)

NAME_HINT = "use 1-64 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit"

REGISTRY = """\
apiVersion: gitreg/v1
kind: Registry
storage:
  url: file:///var/lib/gitreg/blobs
  options: {}
stages:
  - name: staging
  - name: production
    requires: [staging]
    policy:
      fields: [description, lineage.code.commit]
      metrics: {auc: ">= 0.9"}
"""

MODEL = """\
apiVersion: gitreg/v1
kind: Model
name: fraud-detector
description: Card-not-present fraud scoring
owners: ["@risk-ml"]
tags: {team: risk}
policy:
  production:
    metrics: {auc: ">= 0.92"}
"""

VERSION = f"""\
apiVersion: gitreg/v1
kind: ModelVersion
model: fraud-detector
version: 3
artifact:
  digest: {D1}
  size: 48213
  type: file
  name: model.onnx
  format: onnx
framework: {{name: sklearn, version: "1.5.2"}}
metrics: {{auc: 0.931, f1: 0.812}}
params: {{max_depth: 8, solver: adam, layers: [64, 32], dropout: null, early: true}}
lineage:
  code: {{repo: "https://git.example.com/risk/train", commit: 1b2c3d4, path: train.py}}
  data: [{{uri: "s3://datasets/fraud/2026-11", digest: "{D2}"}}]
  run: {{id: "run-8812", url: "https://runs.example.com/8812"}}
  parent: 2
signature: {{inputs: [{{name: x, type: float}}], outputs: [{{name: y}}]}}
tags: {{candidate: "true"}}
description: Retrained on November data
created_at: "2026-11-22T10:00:00Z"
created_by: "Alice <alice@example.com>"
status: active
"""

MINIMAL_VERSION = f"""\
apiVersion: gitreg/v1
kind: ModelVersion
model: fraud-detector
version: 3
artifact:
  digest: {D1}
  size: 48213
  type: file
  name: model.onnx
created_at: "2026-11-22T10:00:00Z"
created_by: "Alice <alice@example.com>"
"""


def parse(cls: type[T], text: str, path: str = "f.yaml") -> T:
    return manifest.parse(cls, yamlio.load(text, path))


def problems(cls: type[BaseModel], text: str, path: str = "f.yaml") -> list[str]:
    """Every problem parsing ``text`` as ``cls`` reports, as text; fails the test if it parses."""
    doc = yamlio.load(text, path)
    with pytest.raises(ManifestError) as info:
        manifest.parse(cls, doc)
    return [str(p) for p in info.value.problems]


# --- valid files -----------------------------------------------------------------------------------------


def test_registry_example_parses() -> None:
    config = parse(RegistryConfig, REGISTRY)
    assert config.api_version == "gitreg/v1"
    assert config.kind == "Registry"
    assert config.storage.url == "file:///var/lib/gitreg/blobs"
    assert config.storage.options == {}
    assert [s.name for s in config.stages] == ["staging", "production"]
    production = config.stage("production")
    assert production is not None
    assert production.requires == ["staging"]
    assert production.policy.fields == ["description", "lineage.code.commit"]
    assert production.policy.metrics == {"auc": ">= 0.9"}
    staging = config.stage("staging")
    assert staging is not None
    assert staging.requires == []
    assert staging.policy == manifest.Policy()
    assert config.stage("qa") is None
    assert config.rules.max_file_size == 1024 * 1024


def test_minimal_registry_has_no_stages() -> None:
    config = parse(RegistryConfig, "apiVersion: gitreg/v1\nkind: Registry\nstorage: {url: blobs}\n")
    assert config.stages == []
    assert config.storage.options == {}


def test_model_example_parses() -> None:
    info = parse(ModelInfo, MODEL)
    assert info.name == "fraud-detector"
    assert info.description == "Card-not-present fraud scoring"
    assert info.owners == ["@risk-ml"]
    assert info.tags == {"team": "risk"}
    assert info.policy == {"production": manifest.Policy(metrics={"auc": ">= 0.92"})}


def test_version_example_parses() -> None:
    v = parse(ModelVersion, VERSION)
    assert v.ref == "fraud-detector@3"
    assert v.version == 3
    assert v.artifact == manifest.Artifact(
        digest=D1, size=48213, type="file", name="model.onnx", format="onnx"
    )
    assert v.framework == manifest.Framework(name="sklearn", version="1.5.2")
    assert v.metrics == {"auc": 0.931, "f1": 0.812}
    assert v.params == {"max_depth": 8, "solver": "adam", "layers": [64, 32], "dropout": None, "early": True}
    assert v.lineage.code == manifest.CodeLineage(
        repo="https://git.example.com/risk/train", commit="1b2c3d4", path="train.py"
    )
    assert v.lineage.data == [manifest.DataLineage(uri="s3://datasets/fraud/2026-11", digest=D2)]
    assert v.lineage.run == manifest.RunLineage(id="run-8812", url="https://runs.example.com/8812")
    assert v.lineage.parent == 2
    assert v.signature == {"inputs": [{"name": "x", "type": "float"}], "outputs": [{"name": "y"}]}
    assert v.tags == {"candidate": "true"}
    assert v.description == "Retrained on November data"
    assert v.created_at == "2026-11-22T10:00:00Z"
    assert v.created_by == "Alice <alice@example.com>"
    assert v.status == "active"


def test_minimal_version_gets_defaults() -> None:
    v = parse(ModelVersion, MINIMAL_VERSION)
    assert v.framework is None
    assert v.metrics == {}
    assert v.params == {}
    assert v.lineage == manifest.Lineage()
    assert v.signature is None
    assert v.tags == {}
    assert v.description == ""
    assert v.status == "active"
    assert v.artifact.format is None


def test_tree_artifact_and_archived_status_parse() -> None:
    text = MINIMAL_VERSION.replace("type: file", "type: tree") + "status: archived\n"
    v = parse(ModelVersion, text)
    assert v.artifact.type == "tree"
    assert v.status == "archived"


def test_unquoted_created_at_stays_a_string_and_is_accepted() -> None:
    v = parse(ModelVersion, MINIMAL_VERSION.replace('"2026-11-22T10:00:00Z"', "2026-11-22T10:00:00Z"))
    assert v.created_at == "2026-11-22T10:00:00Z"


def test_stage_file_parses() -> None:
    stage = parse(StageFile, "fraud-detector: 3\nchurn: 7\n")
    assert stage.root == {"fraud-detector": 3, "churn": 7}


def test_empty_stage_file_is_an_empty_stage() -> None:
    assert parse(StageFile, "").root == {}
    assert parse(StageFile, "# nothing deployed yet\n").root == {}


def test_manifests_are_frozen() -> None:
    v = parse(ModelVersion, MINIMAL_VERSION)
    with pytest.raises(ValueError, match="Instance is frozen"):
        v.version = 4  # type: ignore[misc]


# --- unknown fields --------------------------------------------------------------------------------------


def test_unknown_top_level_field_suggests_the_close_one() -> None:
    assert problems(ModelVersion, VERSION.replace("metrics:", "metircs:")) == [
        "f.yaml:12:1: unknown field 'metircs' (did you mean 'metrics'?)"
    ]


def test_unknown_field_in_artifact_is_reported_at_its_key() -> None:
    assert problems(ModelVersion, VERSION.replace("  format: onnx", "  fromat: onnx")) == [
        "f.yaml:10:3: unknown field 'fromat' (did you mean 'format'?)"
    ]


def test_unknown_field_in_a_flow_mapping_is_reported_at_its_key() -> None:
    assert problems(ModelVersion, VERSION.replace("commit: 1b2c3d4", "comit: 1b2c3d4")) == [
        "f.yaml:15:54: unknown field 'comit' (did you mean 'commit'?)"
    ]


def test_unknown_field_deep_in_block_style() -> None:
    text = MINIMAL_VERSION + "lineage:\n  code:\n    comit: abc\n"
    assert problems(ModelVersion, text) == ["f.yaml:14:5: unknown field 'comit' (did you mean 'commit'?)"]


def test_unknown_field_in_a_list_item() -> None:
    text = MINIMAL_VERSION + "lineage:\n  data:\n    - uri: s3://a\n      digets: x\n"
    assert problems(ModelVersion, text) == ["f.yaml:15:7: unknown field 'digets' (did you mean 'digest'?)"]


def test_unknown_field_uses_the_yaml_name_of_aliased_fields() -> None:
    text = MINIMAL_VERSION.replace("apiVersion:", "apiVersoin:")
    assert problems(ModelVersion, text) == [
        "f.yaml:1:1: missing required field 'apiVersion'",
        "f.yaml:1:1: unknown field 'apiVersoin' (did you mean 'apiVersion'?)",
    ]


def test_unknown_field_without_a_close_match_lists_the_allowed_ones() -> None:
    assert problems(ModelVersion, MINIMAL_VERSION.replace("  size:", "  bytes:")) == [
        "f.yaml:5:1: missing required field 'artifact.size'",
        "f.yaml:7:3: unknown field 'bytes' (allowed: digest, format, name, size, type)",
    ]
    assert problems(ModelVersion, MINIMAL_VERSION + "zzz: 1\n") == [
        "f.yaml:12:1: unknown field 'zzz' (allowed: apiVersion, artifact, created_at, created_by, "
        "description, framework, kind, lineage, metrics, model, params, signature, status, tags, version)"
    ]


def test_unknown_fields_in_registry_stages_and_policy() -> None:
    assert problems(RegistryConfig, REGISTRY.replace("requires:", "require:")) == [
        "f.yaml:9:5: unknown field 'require' (did you mean 'requires'?)"
    ]
    assert problems(RegistryConfig, REGISTRY.replace("      fields:", "      feilds:")) == [
        "f.yaml:11:7: unknown field 'feilds' (did you mean 'fields'?)"
    ]
    assert problems(RegistryConfig, REGISTRY + "rules: {max_fil_size: 10}\n") == [
        "f.yaml:13:9: unknown field 'max_fil_size' (did you mean 'max_file_size'?)"
    ]


def test_unknown_field_in_model_policy() -> None:
    assert problems(ModelInfo, MODEL.replace("    metrics:", "    metrcs:")) == [
        "f.yaml:9:5: unknown field 'metrcs' (did you mean 'metrics'?)"
    ]


# --- missing fields and wrong types ----------------------------------------------------------------------


def test_missing_required_top_level_field() -> None:
    assert problems(ModelVersion, MINIMAL_VERSION.replace("version: 3\n", "")) == [
        "f.yaml:1:1: missing required field 'version'"
    ]


def test_missing_required_nested_field_points_at_its_parent() -> None:
    assert problems(ModelVersion, MINIMAL_VERSION.replace("  size: 48213\n", "")) == [
        "f.yaml:5:1: missing required field 'artifact.size'"
    ]


def test_missing_storage_in_registry() -> None:
    assert problems(RegistryConfig, "apiVersion: gitreg/v1\nkind: Registry\n") == [
        "f.yaml:1:1: missing required field 'storage'"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("version: 3", 'version: "3"', "f.yaml:4:1: version: Input should be a valid integer"),
        ("version: 3", "version: 3.0", "f.yaml:4:1: version: Input should be a valid integer"),
        ("version: 3", "version: true", "f.yaml:4:1: version: Input should be a valid integer"),
        ("version: 3", "version: 0", "f.yaml:4:1: version: Input should be greater than 0"),
        ("version: 3", "version: -1", "f.yaml:4:1: version: Input should be greater than 0"),
        ("size: 48213", 'size: "48213"', "f.yaml:7:3: artifact.size: Input should be a valid integer"),
        ("size: 48213", "size: -1", "f.yaml:7:3: artifact.size: Input should be greater than or equal to 0"),
        ("type: file", "type: folder", "f.yaml:8:3: artifact.type: Input should be 'file' or 'tree'"),
        (
            "name: model.onnx",
            'name: ""',
            "f.yaml:9:3: artifact.name: String should have at least 1 character",
        ),
        ("model: fraud-detector", "model: 7", "f.yaml:3:1: model: Input should be a valid string"),
        ("kind: ModelVersion", "kind: Model", "f.yaml:2:1: kind: Input should be 'ModelVersion'"),
        (
            "apiVersion: gitreg/v1",
            "apiVersion: gitreg/v2",
            "f.yaml:1:1: apiVersion: Input should be 'gitreg/v1'",
        ),
        (
            'created_by: "Alice <alice@example.com>"',
            "created_by: 5",
            "f.yaml:11:1: created_by: Input should be a valid string",
        ),
    ],
)
def test_wrong_type_or_value_is_refused_strictly(old: str, new: str, expected: str) -> None:
    assert old in MINIMAL_VERSION
    assert problems(ModelVersion, MINIMAL_VERSION.replace(old, new)) == [expected]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("metrics: {auc: high}", "f.yaml:12:11: metrics.auc: expected an integer or a number"),
        ("metrics: {auc: true}", "f.yaml:12:11: metrics.auc: expected an integer or a number"),
        ("metrics: {auc: '0.9'}", "f.yaml:12:11: metrics.auc: expected an integer or a number"),
        (
            "params: {a: {b: 1}}",
            "f.yaml:12:10: params.a: expected a string or a boolean or an integer or a number or a list",
        ),
        ("tags: {a: 1}", "f.yaml:12:8: tags.a: Input should be a valid string"),
        ("status: deleted", "f.yaml:12:1: status: Input should be 'active' or 'archived'"),
        ("signature: [1]", "f.yaml:12:1: signature: Input should be a valid dictionary"),
        (
            "framework: {name: sklearn, version: 1.5}",
            "f.yaml:12:28: framework.version: Input should be a valid string",
        ),
        ("lineage: {parent: x}", "f.yaml:12:11: lineage.parent: Input should be a valid integer"),
        ("lineage: {parent: 0}", "f.yaml:12:11: lineage.parent: Input should be greater than 0"),
        ("lineage: {data: [{digest: x}]}", "f.yaml:12:18: missing required field 'lineage.data.0.uri'"),
        ("description: [a]", "f.yaml:12:1: description: Input should be a valid string"),
    ],
)
def test_wrong_optional_field_is_one_problem(extra: str, expected: str) -> None:
    assert problems(ModelVersion, MINIMAL_VERSION + extra + "\n") == [expected]


def test_object_where_a_mapping_is_wanted() -> None:
    assert problems(ModelVersion, MINIMAL_VERSION + "framework: sklearn\n") == [
        "f.yaml:12:1: framework: Input should be a valid dictionary or instance of Framework"
    ]


def test_param_list_with_a_bad_item_is_one_problem_at_the_item() -> None:
    # The value fails every member of ``scalar | list of scalars``: one problem, where the bad item is.
    assert problems(ModelVersion, MINIMAL_VERSION + "params:\n  a: [1, {x: 1}]\n") == [
        "f.yaml:13:10: params.a.1: expected a string or a boolean or an integer or a number"
    ]


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:abc",
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "sha256:" + "a" * 65,
        "md5:" + "a" * 32,
        "a" * 64,
        "sha256: " + "a" * 64,
    ],
)
def test_bad_digest_is_refused(digest: str) -> None:
    text = MINIMAL_VERSION.replace(D1, f"'{digest}'")
    assert problems(ModelVersion, text) == [
        "f.yaml:6:3: artifact.digest: String should match pattern '^sha256:[0-9a-f]{64}$'"
    ]


@pytest.mark.parametrize(
    "name",
    ["Fraud", "-fraud", "fraud-", "fraud detector", "a" * 65, "caf\u00e9", "a/b", "_a", "fraud\n", "\nfraud"],
)
def test_bad_model_name_is_refused(name: str) -> None:
    text = MINIMAL_VERSION.replace("model: fraud-detector", f"model: {json.dumps(name)}")
    assert problems(ModelVersion, text) == [f"f.yaml:3:1: model: {name!r} is not a valid name: {NAME_HINT}"]


def test_empty_model_name_is_refused() -> None:
    text = MINIMAL_VERSION.replace("model: fraud-detector", "model: ''")
    assert problems(ModelVersion, text) == [f"f.yaml:3:1: model: '' is not a valid name: {NAME_HINT}"]


@pytest.mark.parametrize("name", ["a", "0", "a" * 64, "fraud.v2_x-y", "9lives"])
def test_good_model_names_are_accepted(name: str) -> None:
    text = MINIMAL_VERSION.replace("model: fraud-detector", f"model: '{name}'")
    assert parse(ModelVersion, text).model == name


def test_bad_stage_name_in_registry_and_model_policy() -> None:
    assert problems(RegistryConfig, REGISTRY.replace("name: staging", "name: Staging")) == [
        f"f.yaml:7:5: stages.0.name: 'Staging' is not a valid name: {NAME_HINT}"
    ]
    assert problems(ModelInfo, MODEL.replace("  production:", "  Production:")) == [
        f"f.yaml:8:3: policy.Production: 'Production' is not a valid name: {NAME_HINT}"
    ]


@pytest.mark.parametrize(
    "threshold", ["at least 0.9", "0.9", ">=", "=> 0.9", "= 0.9", "!= 0.9", ">= 0.9x", ">= .9", ">= nan", ""]
)
def test_bad_threshold_is_refused(threshold: str) -> None:
    text = REGISTRY.replace('">= 0.9"', f"'{threshold}'")
    assert problems(RegistryConfig, text) == [
        f"f.yaml:12:17: stages.1.policy.metrics.auc: {threshold!r} is not a threshold: "
        "write an operator and a number, such as '>= 0.9'"
    ]


def test_threshold_written_as_a_number_is_refused() -> None:
    assert problems(RegistryConfig, REGISTRY.replace('">= 0.9"', "0.9")) == [
        "f.yaml:12:17: stages.1.policy.metrics.auc: Input should be a valid string"
    ]


@pytest.mark.parametrize(
    "threshold", [">= 0.9", ">0.9", "<= 1", "< -2.5", "== 3", " >=  1e-3 ", ">= 1.", ">= 2E+2"]
)
def test_good_thresholds_are_accepted(threshold: str) -> None:
    config = parse(RegistryConfig, REGISTRY.replace('">= 0.9"', f"'{threshold}'"))
    production = config.stage("production")
    assert production is not None
    assert production.policy.metrics == {"auc": threshold}


@pytest.mark.parametrize(
    ("threshold", "value", "holds"),
    [
        (">= 0.9", 0.9, True),
        (">= 0.9", 0.95, True),
        (">= 0.9", 0.89, False),
        ("> 0.9", 0.9, False),
        ("> 0.9", 0.91, True),
        ("<= 0.1", 0.1, True),
        ("<= 0.1", 0.11, False),
        ("< 0.1", 0.1, False),
        ("< 0.1", 0.09, True),
        ("== 3", 3, True),
        ("== 3", 3.0, True),
        ("== 3", 3.5, False),
        (">= -1", -1, True),
        ("< -1", -0.5, False),
        (">= 1e-3", 0.001, True),
        (">=0.5", 0.4, False),
    ],
)
def test_threshold_holds(threshold: str, value: float, holds: bool) -> None:
    assert manifest.threshold_holds(threshold, value) is holds


@pytest.mark.parametrize(
    ("stamp", "ok"),
    [
        ("2026-11-22T10:00:00Z", True),
        ("2026-11-22T10:00:00+02:00", True),
        ("2026-11-22", True),
        ("2026-11-22T10:00:00.123456", True),
        ("yesterday", False),
        ("2026-13-01T00:00:00Z", False),
        ("22/11/2026", False),
    ],
)
def test_created_at_must_be_iso_8601(stamp: str, ok: bool) -> None:
    text = MINIMAL_VERSION.replace('"2026-11-22T10:00:00Z"', f"'{stamp}'")
    if ok:
        assert parse(ModelVersion, text).created_at == stamp
    else:
        assert problems(ModelVersion, text) == [
            f"f.yaml:10:1: created_at: {stamp!r} is not an ISO 8601 timestamp such as '2026-11-22T10:00:00Z'"
        ]


def test_document_that_is_not_a_mapping() -> None:
    assert problems(ModelVersion, "- a\n") == [
        "f.yaml:1:1: Input should be a valid dictionary or instance of ModelVersion"
    ]
    assert problems(ModelVersion, "") == [
        "f.yaml:1:1: Input should be a valid dictionary or instance of ModelVersion"
    ]
    assert problems(StageFile, "- a\n") == ["f.yaml:1:1: Input should be a valid dictionary"]


# --- stage files -----------------------------------------------------------------------------------------


def test_stage_file_keys_are_model_names() -> None:
    assert problems(StageFile, "fraud: 3\nFraud: 4\n", "stages/production.yaml") == [
        f"stages/production.yaml:2:1: Fraud: 'Fraud' is not a valid name: {NAME_HINT}"
    ]


def test_stage_file_key_with_a_trailing_newline_is_not_a_model_name() -> None:
    found = problems(StageFile, 'fraud: 3\n"churn\\n": 4\n')
    assert len(found) == 1
    assert found[0].startswith("f.yaml:2:1: ")
    assert found[0].endswith(f"'churn\\n' is not a valid name: {NAME_HINT}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("'3'", "fraud: Input should be a valid integer"),
        ("3.0", "fraud: Input should be a valid integer"),
        ("null", "fraud: Input should be a valid integer"),
        ("0", "fraud: Input should be greater than 0"),
        ("[3]", "fraud: Input should be a valid integer"),
    ],
)
def test_stage_file_values_are_positive_integers(value: str, expected: str) -> None:
    assert problems(StageFile, f"churn: 7\nfraud: {value}\n") == [f"f.yaml:2:1: {expected}"]


def test_stage_file_problems_are_one_per_entry_in_line_order() -> None:
    assert problems(StageFile, "ok: 1\nBad: 1\nfine: x\nalso-bad: 0\n") == [
        f"f.yaml:2:1: Bad: 'Bad' is not a valid name: {NAME_HINT}",
        "f.yaml:3:1: fine: Input should be a valid integer",
        "f.yaml:4:1: also-bad: Input should be greater than 0",
    ]


def test_stage_entry_with_bad_name_and_bad_version_reports_both() -> None:
    assert problems(StageFile, "Bad: x\n") == [
        f"f.yaml:1:1: Bad: 'Bad' is not a valid name: {NAME_HINT}",
        "f.yaml:1:1: Bad: Input should be a valid integer",
    ]


@pytest.mark.parametrize("name", ["function-approx", "none", "float", "str", "int", "bool"])
def test_stage_entry_for_a_model_named_like_a_type_keeps_its_name_and_line(name: str) -> None:
    # Valid model names that happen to equal pydantic's union member tags must not vanish from the location.
    assert problems(StageFile, f"churn: 7\n{name}: 0\n") == [
        f"f.yaml:2:1: {name}: Input should be greater than 0"
    ]


def test_metric_named_like_a_type_keeps_its_name_and_line() -> None:
    assert problems(ModelVersion, MINIMAL_VERSION + "metrics:\n  auc: 1\n  str: high\n") == [
        "f.yaml:14:3: metrics.str: expected an integer or a number"
    ]


# --- several problems ------------------------------------------------------------------------------------


def test_problems_are_sorted_by_line_and_column() -> None:
    text = (
        "apiVersion: gitreg/v1\n"
        "kind: Registry\n"
        "extra: 1\n"
        "storage: {url: 5}\n"
        "stages:\n"
        "  - nme: x\n"
        "  - name: Bad\n"
    )
    doc = yamlio.load(text, "registry.yaml")
    with pytest.raises(ManifestError) as info:
        manifest.parse(RegistryConfig, doc)
    assert [str(p) for p in info.value.problems] == [
        "registry.yaml:3:1: unknown field 'extra'"
        " (allowed: apiVersion, kind, retention, rules, stages, storage)",
        "registry.yaml:4:11: storage.url: Input should be a valid string",
        "registry.yaml:6:5: missing required field 'stages.0.name'",
        "registry.yaml:6:5: unknown field 'nme' (did you mean 'name'?)",
        f"registry.yaml:7:5: stages.1.name: 'Bad' is not a valid name: {NAME_HINT}",
    ]
    assert str(info.value) == (
        "registry.yaml:3:1: unknown field 'extra'"
        " (allowed: apiVersion, kind, retention, rules, stages, storage)"
        " (and 4 more problems)"
    )
    assert info.value.exit_code == 3


def test_two_problems_say_one_more_problem() -> None:
    with pytest.raises(ManifestError) as info:
        parse(StageFile, "a: 0\nb: 0\n")
    assert str(info.value) == "f.yaml:1:1: a: Input should be greater than 0 (and 1 more problem)"
    assert info.value.problems == [
        Problem("f.yaml", 1, 1, "a: Input should be greater than 0"),
        Problem("f.yaml", 2, 1, "b: Input should be greater than 0"),
    ]


# --- field_value and to_yaml_data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("model", "fraud-detector"),
        ("version", 3),
        ("description", "Retrained on November data"),
        ("artifact.digest", D1),
        ("artifact.format", "onnx"),
        ("framework.version", "1.5.2"),
        ("metrics.auc", 0.931),
        ("metrics.missing", None),
        ("params.layers", [64, 32]),
        ("lineage.code.commit", "1b2c3d4"),
        ("lineage.run.id", "run-8812"),
        ("lineage.parent", 2),
        ("lineage.parent.deeper", None),
        ("signature.inputs", [{"name": "x", "type": "float"}]),
        ("tags.candidate", "true"),
        ("nope", None),
        ("nope.deeper", None),
        ("metrics.auc.deeper", None),
    ],
)
def test_field_value_reads_dotted_paths(dotted: str, value: Any) -> None:
    assert parse(ModelVersion, VERSION).field_value(dotted) == value


def test_field_value_of_absent_optional_parts_is_none() -> None:
    v = parse(ModelVersion, MINIMAL_VERSION)
    assert v.field_value("lineage.code.commit") is None
    assert v.field_value("framework.name") is None
    assert v.field_value("signature.inputs") is None
    assert v.field_value("description") == ""


@pytest.mark.parametrize("dotted", ["model_dump", "to_yaml_data", "artifact.model_copy", "model_config"])
def test_field_value_of_a_method_name_is_not_a_field(dotted: str) -> None:
    # A policy listing ``fields: [model_dump]`` must not be satisfied by a Python attribute.
    assert parse(ModelVersion, VERSION).field_value(dotted) is None


def test_to_yaml_data_keeps_everything_given_in_spec_order() -> None:
    data = parse(ModelVersion, VERSION).to_yaml_data()
    assert list(data) == [
        "apiVersion",
        "kind",
        "model",
        "version",
        "artifact",
        "framework",
        "metrics",
        "params",
        "lineage",
        "signature",
        "tags",
        "description",
        "created_at",
        "created_by",
        "status",
    ]
    assert data == yamlio.load(VERSION, "f.yaml").data


def test_to_yaml_data_leaves_out_empty_optional_fields() -> None:
    assert parse(ModelVersion, MINIMAL_VERSION).to_yaml_data() == {
        "apiVersion": "gitreg/v1",
        "kind": "ModelVersion",
        "model": "fraud-detector",
        "version": 3,
        "artifact": {"digest": D1, "size": 48213, "type": "file", "name": "model.onnx"},
        "created_at": "2026-11-22T10:00:00Z",
        "created_by": "Alice <alice@example.com>",
        "status": "active",
    }


def test_to_yaml_data_leaves_out_explicitly_empty_fields() -> None:
    text = MINIMAL_VERSION + (
        "metrics: {}\nparams: {}\ntags: {}\nsignature: {}\ndescription: ''\n"
        "lineage: {code: {}, data: [], run: {url: null}}\nframework: {name: torch}\n"
    )
    data = parse(ModelVersion, text).to_yaml_data()
    assert "metrics" not in data
    assert "params" not in data
    assert "tags" not in data
    assert "signature" not in data
    assert "description" not in data
    assert "lineage" not in data
    assert data["framework"] == {"name": "torch"}


def test_to_yaml_data_keeps_only_the_filled_parts_of_lineage() -> None:
    text = MINIMAL_VERSION + "lineage: {code: {commit: abc}, data: [], parent: 1}\n"
    assert parse(ModelVersion, text).to_yaml_data()["lineage"] == {"code": {"commit": "abc"}, "parent": 1}


def test_to_yaml_data_round_trips_through_dump_and_parse() -> None:
    for text in (VERSION, MINIMAL_VERSION):
        original = parse(ModelVersion, text)
        dumped = yamlio.dump(original.to_yaml_data())
        assert parse(ModelVersion, dumped) == original


# --- json_schema -----------------------------------------------------------------------------------------


def _objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema and every object schema in its $defs."""
    return [schema, *schema.get("$defs", {}).values()]


@pytest.mark.parametrize(
    ("kind", "required"),
    [
        ("Registry", ["apiVersion", "kind", "storage"]),
        ("Model", ["apiVersion", "kind", "name"]),
        ("ModelVersion", ["apiVersion", "kind", "model", "version", "artifact", "created_at", "created_by"]),
    ],
)
def test_json_schema_of_a_manifest_kind(kind: str, required: list[str]) -> None:
    schema = manifest.json_schema(kind)
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert sorted(schema["required"]) == sorted(required)
    assert schema["properties"]["apiVersion"]["const"] == "gitreg/v1"
    assert schema["properties"]["kind"]["const"] == kind
    for obj in _objects(schema):
        assert obj["type"] == "object"
        assert obj["properties"]
        assert obj["additionalProperties"] is False, obj.get("title")
    names = set(yamlio.load({"Registry": REGISTRY, "Model": MODEL, "ModelVersion": VERSION}[kind], "f").data)
    assert names <= set(schema["properties"])


def test_json_schema_of_a_version_carries_the_constraints() -> None:
    schema = manifest.json_schema("ModelVersion")
    artifact = schema["$defs"]["Artifact"]
    assert artifact["properties"]["digest"]["pattern"] == manifest.DIGEST_PATTERN
    assert artifact["properties"]["type"]["enum"] == ["file", "tree"]
    assert artifact["properties"]["size"]["minimum"] == 0
    assert schema["properties"]["version"] == {
        "exclusiveMinimum": 0,
        "title": "version",
        "type": "integer",
        "description": "A positive integer in plain decimal digits, equal to the file's name.",
    }
    assert schema["properties"]["status"]["enum"] == ["active", "archived"]


def test_json_schema_of_a_stage_file() -> None:
    schema = manifest.json_schema("Stage")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == ["object", "null"]  # an empty stage file is an empty stage
    assert schema["additionalProperties"] == {"exclusiveMinimum": 0, "type": "integer"}
    assert schema["propertyNames"]["pattern"] == manifest.NAME_SCHEMA["pattern"]
    assert schema["title"] == "Stage"


def test_kinds_name_every_file_type() -> None:
    kinds = manifest.KINDS
    assert kinds == {
        "Registry": RegistryConfig,
        "Model": ModelInfo,
        "ModelVersion": ModelVersion,
        "Stage": StageFile,
    }
