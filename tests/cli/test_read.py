"""The read commands: list, show, diff, pull, schema, as text and as JSON, and their one-line errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing import assert_error, commit_all, git, run, sha256_file, tree_state, write_bytes

KINDS = ["Model", "ModelVersion", "Registry", "Stage"]


def ok(*args: str | Path, cwd: Path | None) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def as_json(*args: str | Path, cwd: Path) -> Any:
    return json.loads(ok(*args, "--json", cwd=cwd))


@pytest.fixture
def populated(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 (auc 0.9) and fraud@2 (auc 0.93), the same bytes; churn@1; staging holds fraud@2."""
    art = write_bytes(tmp_path / "art" / "model.bin", 300, 1)
    ok("register", "fraud", art, "--metric", "auc=0.9", cwd=registry)
    ok("register", "fraud", art, "--metric", "auc=0.93", cwd=registry)
    ok("register", "churn", write_bytes(tmp_path / "art2" / "churn.pkl", 2048, 2), cwd=registry)
    (registry / "stages" / "staging.yaml").write_text("fraud: 2\n")
    commit_all(registry, "Promote fraud@2 to staging")
    return registry


# --- list -------------------------------------------------------------------------------------------------


def test_list_models_table(populated: Path) -> None:
    assert ok("list", cwd=populated) == (
        "MODEL  LATEST  VERSIONS  STAGES\nchurn  1       1         -\nfraud  2       2         staging=2\n"
    )


def test_list_models_json(populated: Path) -> None:
    assert as_json("list", cwd=populated) == [
        {"model": "churn", "latest": 1, "versions": 1, "stages": {}},
        {"model": "fraud", "latest": 2, "versions": 2, "stages": {"staging": 2}},
    ]


def test_list_models_in_a_stage(populated: Path) -> None:
    lines = ok("list", "--stage", "staging", cwd=populated).splitlines()
    assert lines[0].split() == ["MODEL", "LATEST", "VERSIONS", "STAGES"]
    assert [line.split() for line in lines[1:]] == [["fraud", "2", "2", "staging=2"]]
    assert [r["model"] for r in as_json("list", "--stage", "staging", cwd=populated)] == ["fraud"]
    assert as_json("list", "--stage", "production", cwd=populated) == []


def test_list_one_models_versions(populated: Path) -> None:
    digest = sha256_file(populated.parent / "art" / "model.bin")
    lines = ok("list", "fraud", cwd=populated).splitlines()
    assert lines[0].split() == ["VERSION", "STATUS", "STAGES", "CREATED", "SIZE", "DIGEST", "METRICS"]
    rows = [line.split() for line in lines[1:]]
    assert len(rows) == 2
    for row, (number, stages, auc) in zip(rows, [("1", "-", "0.9"), ("2", "staging", "0.93")], strict=True):
        assert row[:3] == [number, "active", stages]
        assert row[3].endswith("Z")
        assert row[4:6] == ["300", "B"]
        assert digest.startswith(row[6])
        assert row[7] == f"auc={auc}"


def test_list_one_models_versions_json(populated: Path) -> None:
    digest = sha256_file(populated.parent / "art" / "model.bin")
    items = as_json("list", "fraud", cwd=populated)
    created = [i.pop("created_at") for i in items]
    assert all(isinstance(c, str) and c.endswith("Z") for c in created)
    assert items == [
        {
            "version": 1,
            "status": "active",
            "stages": [],
            "digest": digest,
            "size": 300,
            "metrics": {"auc": 0.9},
        },
        {
            "version": 2,
            "status": "active",
            "stages": ["staging"],
            "digest": digest,
            "size": 300,
            "metrics": {"auc": 0.93},
        },
    ]
    assert [i["version"] for i in as_json("list", "fraud", "--stage", "staging", cwd=populated)] == [2]


def test_list_shows_archived_status(populated: Path) -> None:
    path = populated / "models" / "fraud" / "versions" / "1.yaml"
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    commit_all(populated, "archive")
    assert [i["status"] for i in as_json("list", "fraud", cwd=populated)] == ["archived", "active"]


# --- show -------------------------------------------------------------------------------------------------


def test_show_version_yaml(populated: Path) -> None:
    data = yaml.safe_load(ok("show", "fraud@2", cwd=populated))
    assert "apiVersion" not in data
    assert "kind" not in data
    assert data["model"] == "fraud"
    assert data["version"] == 2
    assert data["metrics"] == {"auc": 0.93}
    assert data["stages"] == ["staging"]
    assert data["status"] == "active"
    assert data["created_by"] == "Test User <test@example.com>"
    assert data["artifact"]["digest"] == sha256_file(populated.parent / "art" / "model.bin")
    assert yaml.safe_load(ok("show", "fraud@1", cwd=populated))["stages"] == []


def test_show_by_stage_and_latest(populated: Path) -> None:
    by_number = ok("show", "fraud@2", cwd=populated)
    assert ok("show", "fraud@staging", cwd=populated) == by_number
    assert ok("show", "fraud@latest", cwd=populated) == by_number


def test_show_version_json(populated: Path) -> None:
    data = as_json("show", "fraud@1", cwd=populated)
    assert data["apiVersion"] == "gitreg/v1"
    assert data["kind"] == "ModelVersion"
    assert data["version"] == 1
    assert data["stages"] == []
    assert data["artifact"]["size"] == 300


def test_show_model_summary(populated: Path) -> None:
    data = yaml.safe_load(ok("show", "fraud", cwd=populated))
    assert data["name"] == "fraud"
    assert data["versions"] == 2
    assert data["latest"] == 2
    assert data["stages"] == {"staging": 2}
    assert "apiVersion" not in data
    summary = as_json("show", "churn", cwd=populated)
    assert summary["kind"] == "Model"
    assert (summary["name"], summary["versions"], summary["latest"], summary["stages"]) == ("churn", 1, 1, {})


# --- diff -------------------------------------------------------------------------------------------------


def test_diff_metric_delta(populated: Path) -> None:
    assert ok("diff", "fraud@1", "fraud@2", cwd=populated) == (
        "fraud@1 -> fraud@2\n  metrics.auc  0.9 -> 0.93  (+0.03)\n"
    )
    assert ok("diff", "fraud@2", "fraud@1", cwd=populated) == (
        "fraud@2 -> fraud@1\n  metrics.auc  0.93 -> 0.9  (-0.03)\n"
    )


def test_diff_json(populated: Path) -> None:
    assert as_json("diff", "fraud@1", "fraud@staging", cwd=populated) == {
        "a": "fraud@1",
        "b": "fraud@2",
        "changes": [{"field": "metrics.auc", "a": 0.9, "b": 0.93, "delta": 0.03}],
    }


def test_diff_identical(populated: Path) -> None:
    assert ok("diff", "fraud@2", "fraud@latest", cwd=populated) == "fraud@2 -> fraud@2\n  no differences\n"
    assert as_json("diff", "fraud@2", "fraud@2", cwd=populated)["changes"] == []


def test_diff_orders_fields_and_shows_missing_values(populated: Path, tmp_path: Path) -> None:
    art = write_bytes(tmp_path / "art3" / "model.bin", 400, 3)
    ok(
        "register",
        "fraud",
        art,
        *("--metric", "auc=0.95", "--metric", "f1=0.8", "--param", "depth=8", "--tag", "x=y"),
        cwd=populated,
    )
    changes = as_json("diff", "fraud@2", "fraud@3", cwd=populated)["changes"]
    assert [c["field"] for c in changes] == [
        "metrics.auc",
        "metrics.f1",
        "params.depth",
        "artifact.digest",
        "artifact.size",
        "tags.x",
    ]
    by_field = {c["field"]: c for c in changes}
    assert by_field["metrics.f1"] == {"field": "metrics.f1", "a": None, "b": 0.8}
    assert by_field["artifact.size"]["delta"] == 100
    assert by_field["artifact.digest"]["b"] == sha256_file(art)
    text = ok("diff", "fraud@2", "fraud@3", cwd=populated).splitlines()
    assert text[0] == "fraud@2 -> fraud@3"
    assert [line.split()[0] for line in text[1:]] == [c["field"] for c in changes]
    assert text[2].split() == ["metrics.f1", "(none)", "->", "0.8"]
    assert text[5].split() == ["artifact.size", "300", "->", "400", "(+100)"]


# --- pull -------------------------------------------------------------------------------------------------


def test_pull_prints_the_path(populated: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "fraud.bin"
    assert ok("pull", "fraud@2", "-o", dest, cwd=populated) == f"{dest}\n"
    assert dest.read_bytes() == (tmp_path / "art" / "model.bin").read_bytes()
    folder = tmp_path / "folder"
    folder.mkdir()
    assert ok("pull", "churn", "-o", folder, cwd=populated) == f"{folder / 'churn.pkl'}\n"
    assert (folder / "churn.pkl").read_bytes() == (tmp_path / "art2" / "churn.pkl").read_bytes()


def test_pull_relative_output_is_relative_to_dash_c(populated: Path, tmp_path: Path) -> None:
    out = ok("pull", "fraud@1", "-o", "downloads/m.bin", cwd=populated).strip()
    assert Path(out).resolve() == (populated / "downloads" / "m.bin").resolve()
    assert (populated / "downloads" / "m.bin").read_bytes() == (tmp_path / "art" / "model.bin").read_bytes()


def test_pull_json(populated: Path, tmp_path: Path) -> None:
    dest = tmp_path / "x.bin"
    assert as_json("pull", "fraud@staging", "-o", dest, cwd=populated) == {
        "ref": "fraud@2",
        "path": str(dest),
        "digest": sha256_file(tmp_path / "art" / "model.bin"),
        "size": 300,
    }
    assert dest.is_file()


def test_pull_onto_an_existing_file(populated: Path, tmp_path: Path) -> None:
    dest = tmp_path / "taken.bin"
    dest.write_text("mine")
    result = run("pull", "fraud@1", "-o", dest, cwd=populated)
    assert_error(
        result,
        3,
        f"{dest} already exists and holds something else (remove it, or pass --force to replace it)",
    )
    assert dest.read_text() == "mine"


def test_pull_tampered_blob(populated: Path, tmp_path: Path, blobs: Path) -> None:
    digest = sha256_file(tmp_path / "art" / "model.bin")
    hexdigest = digest.removeprefix("sha256:")
    stored = blobs / "sha256" / hexdigest[:2] / hexdigest[2:]
    stored.chmod(stat.S_IRUSR | stat.S_IWUSR)
    stored.write_bytes(b"evil" + stored.read_bytes()[4:])
    actual = sha256_file(stored)
    out = tmp_path / "out"
    out.mkdir()
    result = run("pull", "fraud@1", "-o", out, cwd=populated)
    assert_error(
        result,
        3,
        f"blob {digest} is corrupt: its content hashes to {actual} (the store copy was altered; "
        "run `gitreg verify` and re-register the artifact from its source)",
    )
    assert list(out.iterdir()) == []


# --- schema -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_schema_of_each_kind(kind: str) -> None:
    schema = json.loads(ok("schema", kind, cwd=None))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == ("object" if kind != "Stage" else ["object", "null"])  # an empty stage file
    assert schema["title"] == kind


def test_schema_fields() -> None:
    version = json.loads(ok("schema", "ModelVersion", cwd=None))
    assert {"apiVersion", "kind", "model", "version", "artifact", "metrics", "lineage", "status"} <= set(
        version["properties"]
    )
    assert {"apiVersion", "kind", "model", "version", "artifact", "created_at", "created_by"} <= set(
        version["required"]
    )
    assert version["additionalProperties"] is False
    registry = json.loads(ok("schema", "Registry", cwd=None))
    assert {"apiVersion", "kind", "storage", "stages"} <= set(registry["properties"])


def test_schema_of_everything() -> None:
    """Without a KIND: one schema that holds for a file of any kind (tests/test_schemas.py checks that it
    refuses other documents), not a mapping of schemas, which validates anything."""
    everything = json.loads(ok("schema", cwd=None))
    assert everything["anyOf"] == [{"$ref": f"#/$defs/{kind}"} for kind in sorted(KINDS)]
    for kind in KINDS:
        alone = json.loads(ok("schema", kind, cwd=None))
        assert everything["$defs"][kind].get("properties") == alone.get("properties")


def test_schema_of_an_unknown_kind() -> None:
    result = run("schema", "Nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: Invalid value for ")
    assert "'Nope'" in result.stderr
    assert result.stderr.count("\n") == 1


# --- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "frod"), 3, "model 'frod' is not in the registry (did you mean 'fraud'?)"),
        (("show", "frod@1"), 3, "model 'frod' is not in the registry (did you mean 'fraud'?)"),
        (("show", "fraud@9"), 3, "fraud has no version 9 (it has versions 1..2)"),
        (("show", "fraud@qa"), 3, "stage 'qa' is not declared in registry.yaml (known: staging, production)"),
        (("show", "churn@staging"), 3, "churn has no version in stage 'staging'"),
        (
            ("show", "a@b@c"),
            2,
            "'a@b@c' is not a reference (write MODEL, MODEL@VERSION, MODEL@STAGE or MODEL@latest)",
        ),
        (("list", "frod"), 3, "model 'frod' is not in the registry (did you mean 'fraud'?)"),
        (
            ("list", "--stage", "prodution"),
            3,
            "stage 'prodution' is not declared in registry.yaml (did you mean 'production'?)",
        ),
        (("diff", "fraud@1", "fraud@7"), 3, "fraud has no version 7 (it has versions 1..2)"),
        (("diff", "fraud@1", "xyzzy@1"), 3, "model 'xyzzy' is not in the registry (known: churn, fraud)"),
        (("pull", "fraud@9"), 3, "fraud has no version 9 (it has versions 1..2)"),
        (
            ("pull", "fraud@1@2"),
            2,
            "'fraud@1@2' is not a reference (write MODEL, MODEL@VERSION, MODEL@STAGE or MODEL@latest)",
        ),
        (("show",), 2, "Missing argument 'REF'."),
    ],
)
def test_read_errors_are_one_line(populated: Path, args: tuple[str, ...], code: int, message: str) -> None:
    before = tree_state(populated)
    assert_error(run(*args, cwd=populated), code, message)
    assert tree_state(populated) == before


def test_read_errors_as_json(populated: Path) -> None:
    assert_error(
        run("show", "fraud@9", "--json", cwd=populated), 3, "fraud has no version 9 (it has versions 1..2)"
    )


def test_malformed_manifest_names_the_position(populated: Path) -> None:
    path = populated / "models" / "fraud" / "versions" / "1.yaml"
    path.write_text(path.read_text() + "metrics: {auc: 1}\n")
    result = run("show", "fraud@1", cwd=populated)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("error: models/fraud/versions/1.yaml:")
    assert "duplicate key 'metrics'" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_read_outside_a_registry(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "--quiet")
    assert_error(
        run("list", cwd=plain),
        3,
        f"{plain} is not a gitreg registry (no registry.yaml at its top) (create one with gitreg init)",
    )
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    assert_error(
        run("show", "fraud", cwd=nowhere),
        3,
        f"{nowhere} is not inside a git repository (run gitreg inside a registry checkout, or pass -C DIR)",
    )
