"""The exported JSON Schemas agree with the validator: a corpus of valid and invalid files is fed to
check-jsonschema (the tool editors' and CI's schema checks use) with the schemas ``gitreg schema`` prints,
and to ``gitreg validate``; wherever the schema can decide, they give the same verdict. Also: every field
has a title and a description, each schema an ``$id``, ``gitreg schema`` alone validates only registry
files, and ``gitreg init`` / ``gitreg schema --write`` set up editors."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitreg import schemas
from testing import assert_error, commit_all, git, run

CHECK = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
Doc = Any
Mutation = Callable[[Doc], Doc]


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: Doc) -> Doc:
        doc = copy.deepcopy(doc)
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
        return doc

    return mutate


_DELETE = object()
VERSION: Doc = {
    "apiVersion": "gitreg/v1",
    "kind": "ModelVersion",
    "model": "fraud",
    "version": 1,
    "artifact": {"digest": "sha256:" + "a" * 64, "size": 10, "type": "file", "name": "model.onnx"},
    "created_at": "2026-11-22T10:00:00Z",
    "created_by": "Alice <alice@example.com>",
}
FULL = {
    "framework": {"name": "sklearn", "version": "1.5.2"},
    "metrics": {"auc": 0.931, "n": 3},
    "params": {"depth": 8, "layers": [1, "a", None, True]},
    "lineage": {
        "code": {"repo": "https://x", "commit": "abc", "path": "t.py"},
        "data": [{"uri": "s3://d", "digest": "sha256:x"}],
        "run": {"id": "r", "url": "https://r"},
        "parent": 1,
    },
    "signature": {"inputs": [1]},
    "tags": {"a": "b"},
    "description": "d",
    "status": "archived",
}
#: (name, mutation, valid to the validator's schema rule, the schema can decide)
VERSION_CASES: list[tuple[str, Mutation, bool, bool]] = [
    ("minimal", lambda d: d, True, True),
    ("full", lambda d: {**d, **FULL}, True, True),
    ("date only", _set("created_at", "2026-11-22"), True, True),
    ("space and no zone", _set("created_at", "2026-11-22 10:00"), True, True),
    ("week date", _set("created_at", "2026W47"), True, True),
    ("non-finite metric", _set("metrics", {"auc": float("nan"), "f1": float("inf")}), True, True),
    ("model uppercase", _set("model", "Fraud"), False, True),
    ("model device name", _set("model", "con"), False, True),
    ("model device name with dot", _set("model", "com1.x"), False, True),
    ("model leading dash", _set("model", "-fraud"), False, True),
    ("model too long", _set("model", "a" * 65), False, True),
    ("version zero", _set("version", 0), False, True),
    ("version negative", _set("version", -1), False, True),
    ("version text", _set("version", "3"), False, True),
    ("version boolean", _set("version", True), False, True),
    ("version 2.0", _set("version", 2.0), False, False),  # JSON does not tell 2.0 from 2
    ("digest short", _set("artifact.digest", "sha256:abc"), False, True),
    ("digest md5", _set("artifact.digest", "md5:" + "a" * 32), False, True),
    ("size negative", _set("artifact.size", -1), False, True),
    ("size text", _set("artifact.size", "10"), False, True),
    ("type folder", _set("artifact.type", "folder"), False, True),
    ("name empty", _set("artifact.name", ""), False, True),
    ("unknown field", _set("colour", "red"), False, True),
    ("unknown artifact field", _set("artifact.sha", "x"), False, True),
    ("missing created_by", _set("created_by", _DELETE), False, True),
    ("missing artifact", _set("artifact", _DELETE), False, True),
    ("api v2", _set("apiVersion", "gitreg/v2"), False, True),
    ("wrong kind", _set("kind", "Model"), False, True),
    ("metric text", _set("metrics", {"auc": "high"}), False, True),
    ("param mapping", _set("params", {"x": {"a": 1}}), False, True),
    ("status deleted", _set("status", "deleted"), False, True),
    ("created_at words", _set("created_at", "yesterday"), False, True),
    ("created_at year only", _set("created_at", "2026"), False, True),
    ("created_at number", _set("created_at", 20261122), False, True),
    ("created_at month 13", _set("created_at", "2026-13-01"), False, False),  # a calendar, not a pattern
    ("tag number", _set("tags", {"a": 1}), False, True),
    ("parent zero", _set("lineage.parent", 0), False, True),
    ("code text", _set("lineage.code", "x"), False, True),
    ("data without uri", _set("lineage.data", [{"digest": "x"}]), False, True),
]
MODEL: Doc = {
    "apiVersion": "gitreg/v1",
    "kind": "Model",
    "name": "m",
    "owners": ["@risk"],
    "policy": {"production": {"metrics": {"auc": ">= 0.9"}, "fields": ["description"]}},
}
MODEL_CASES: list[tuple[str, Mutation, bool, bool]] = [
    ("model", lambda d: d, True, True),
    (
        "thresholds",
        _set("policy.production.metrics", {"a": "<0.1", "b": "== 1e-3", "c": " > -2 "}),
        True,
        True,
    ),
    ("threshold without operator", _set("policy.production.metrics", {"a": "0.9"}), False, True),
    ("threshold reversed", _set("policy.production.metrics", {"a": "=> 0.9"}), False, True),
    ("threshold words", _set("policy.production.metrics", {"a": ">= high"}), False, True),
    ("threshold number", _set("policy.production.metrics", {"a": 0.9}), False, True),
    ("policy stage uppercase", _set("policy", {"Prod": {}}), False, True),
    ("policy stage device", _set("policy", {"nul": {}}), False, True),
    ("policy fields text", _set("policy.production.fields", "x"), False, True),
    ("name uppercase", _set("name", "M"), False, True),
    ("tag number", _set("tags", {"x": 2}), False, True),
    ("unknown field", _set("team", "x"), False, True),
    ("missing name", _set("name", _DELETE), False, True),
]
STAGE_CASES: list[tuple[str, Doc, bool, bool]] = [
    ("stage", {"fraud": 1, "churn": 7}, True, True),
    ("empty stage", None, True, True),
    ("empty mapping", {}, True, True),
    ("model uppercase", {"Fraud": 1}, False, True),
    ("model device", {"aux": 1}, False, True),
    ("version zero", {"fraud": 0}, False, True),
    ("version text", {"fraud": "1"}, False, True),
    ("version fraction", {"fraud": 1.5}, False, True),
    ("version null", {"fraud": None}, False, True),
    ("a list", [1], False, True),
]
REGISTRY: Doc = {
    "apiVersion": "gitreg/v1",
    "kind": "Registry",
    "storage": {"url": "file:///nowhere/blobs", "options": {"endpoint_url": "http://x"}},
    "stages": [
        {"name": "staging"},
        {"name": "production", "requires": ["staging"], "policy": {"metrics": {"auc": ">= 0.9"}}},
    ],
    "rules": {"max_file_size": 2048},
}
REGISTRY_CASES: list[tuple[str, Mutation, bool, bool]] = [
    ("registry", lambda d: d, True, True),
    ("stage uppercase", _set("stages", [{"name": "Prod"}]), False, True),
    ("requires uppercase", _set("stages", [{"name": "a", "requires": ["B"]}]), False, True),
    ("policy threshold", _set("stages", [{"name": "a", "policy": {"metrics": {"x": "big"}}}]), False, True),
    ("no storage", _set("storage", _DELETE), False, True),
    ("size zero", _set("rules.max_file_size", 0), False, True),
    ("unknown field", _set("owners", []), False, True),
]


def dump(doc: Doc) -> str:
    return "" if doc is None else yaml.safe_dump(doc, sort_keys=False)


def schema_verdicts(schema_file: Path, files: list[Path]) -> dict[Path, bool]:
    """{file: valid} according to check-jsonschema."""
    done = subprocess.run(
        [CHECK, "--schemafile", str(schema_file), "-o", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    bad = {Path(e["filename"]) for e in report["errors"]}
    return {f: f not in bad for f in files}


def validator_verdicts(registry: Path) -> set[str]:
    """The paths the validator's schema rule refuses."""
    git(registry, "add", "--all")
    result = run("validate", "--format", "json", cwd=registry)
    return {f["path"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "schema"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each kind's schema, and the one for any file, as ``gitreg schema`` prints them."""
    folder = tmp_path_factory.mktemp("schemas")
    out = {}
    for kind in (*schemas.FILES, ""):
        result = run("schema", *([kind] if kind else []), cwd=folder)
        assert result.exit_code == 0, result.stderr
        out[kind] = folder / f"{kind or 'all'}.json"
        out[kind].write_text(result.stdout)
    return out


def test_the_schemas_and_the_validator_agree(tmp_path: Path, exported: dict[str, Path]) -> None:
    reg = tmp_path / "corpus"
    stages = [f"s{i}" for i in range(len(STAGE_CASES))]
    assert run("init", reg, "--storage", (tmp_path / "blobs").as_uri()).exit_code == 0
    (reg / "registry.yaml").write_text(
        dump({**REGISTRY, "stages": [{"name": s} for s in stages], "rules": {"max_file_size": 2048}})
    )
    cases: list[tuple[str, str, Path, bool, bool]] = []  # kind, name, path, valid, decidable
    for i, (name, mutate, valid, decidable) in enumerate(VERSION_CASES, start=1):
        path = reg / "models" / "fraud" / "versions" / f"{i}.yaml"
        doc = mutate(VERSION)
        if (
            isinstance(doc.get("version"), int)
            and doc["version"] == 1
            and not isinstance(doc["version"], bool)
        ):
            doc["version"] = i
        cases.append(("ModelVersion", name, path, valid, decidable))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(doc))
    for i, (name, mutate, valid, decidable) in enumerate(MODEL_CASES):
        path = reg / "models" / f"m{i}" / "model.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(dump(mutate(MODEL)))
        cases.append(("Model", name, path, valid, decidable))
    for stage, (name, doc, valid, decidable) in zip(stages, STAGE_CASES, strict=True):
        path = reg / "stages" / f"{stage}.yaml"
        path.write_text(dump(doc))
        cases.append(("Stage", name, path, valid, decidable))
    refused = validator_verdicts(reg)
    for i, (name, mutate, valid, decidable) in enumerate(REGISTRY_CASES):
        other = tmp_path / f"registry-{i}"
        other.mkdir()
        git(other, "init", "--quiet")
        (other / "registry.yaml").write_text(dump(mutate(REGISTRY)))
        commit_all(other, "registry")
        if validator_verdicts(other):
            refused.add(str(other / "registry.yaml"))
        cases.append(("Registry", name, other / "registry.yaml", valid, decidable))

    def key(path: Path) -> str:
        return str(path) if path.name == "registry.yaml" else path.relative_to(reg).as_posix()

    disagreements = []
    for kind in (*schemas.FILES, ""):
        files = [c[2] for c in cases if not kind or c[0] == kind]
        verdicts = schema_verdicts(exported[kind], files)
        for case_kind, name, path, valid, decidable in cases:
            if path not in verdicts:
                continue
            by_validator = key(path) not in refused
            assert by_validator == valid, f"{case_kind} {name}: the validator says {by_validator}"
            if verdicts[path] != by_validator:
                disagreements.append((kind or "any", case_kind, name))
                assert not decidable, f"{kind or 'any'} schema on {case_kind} {name!r}: {verdicts[path]}"
    # what the schema cannot decide, it lets through, for the validator to refuse
    undecidable = {(k, n) for k, n, _, _, d in [(c[0], c[1], 0, 0, c[4]) for c in cases] if not d}
    assert {(k, n) for _, k, n in disagreements} == undecidable
    assert len(cases) == 69


def test_any_kind_schema_refuses_what_is_no_registry_file(tmp_path: Path, exported: dict[str, Path]) -> None:
    files = []
    for i, doc in enumerate(({"a": {}}, {"kind": "Nope"}, "text", [1, 2], {"fraud": "x"})):
        path = tmp_path / f"{i}.yaml"
        path.write_text(dump(doc))
        files.append(path)
    assert schema_verdicts(exported[""], files) == dict.fromkeys(files, False)


def test_every_field_has_a_title_and_a_description() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, field in (node.get("properties") or {}).items():
                assert field.get("title") == name, f"{where}.{name}"
                assert field.get("description"), f"{where}.{name} has no description"
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    for kind in schemas.FILES:
        schema = schemas.json_schema(kind)
        assert schema["$id"] == f"https://gitreg.dev/schemas/v1/{schemas.FILES[kind][0]}"
        assert schema["title"] == kind
        assert schema["description"]
        walk(schema, kind)
    assert schemas.json_schema("ModelVersion")["properties"]["apiVersion"]["title"] == "apiVersion"


def test_init_sets_up_editors_and_schema_write_keeps_them_in_step(registry: Path) -> None:
    settings = json.loads((registry / ".vscode" / "settings.json").read_text())
    assert settings["yaml.schemas"]["./.gitreg/schemas/model-version.json"] == ["models/*/versions/*.yaml"]
    assert settings["yaml.schemas"]["./.gitreg/schemas/stage.json"] == ["stages/*.yaml"]
    for kind, (name, _) in schemas.FILES.items():
        assert json.loads((registry / ".gitreg" / "schemas" / name).read_text()) == schemas.json_schema(kind)
    assert git(registry, "status", "--porcelain") == ""  # committed: every clone's editor has them
    assert ".gitreg/schemas/model.json" in git(registry, "ls-files")
    # a stale schema and the user's own settings
    (registry / ".gitreg" / "schemas" / "model.json").write_text("{}")
    (registry / ".vscode" / "settings.json").write_text('{"editor.tabSize": 2}')
    result = run("schema", "--write", cwd=registry)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "wrote .gitreg/schemas/model.json\nwrote .vscode/settings.json\n"
    settings = json.loads((registry / ".vscode" / "settings.json").read_text())
    assert settings["editor.tabSize"] == 2
    assert len(settings["yaml.schemas"]) == 4
    assert run("schema", "--write", cwd=registry).stdout == ""
    assert_error(
        run("schema", "Model", "--write", cwd=registry), 2, "--write writes every kind: give no KIND"
    )
