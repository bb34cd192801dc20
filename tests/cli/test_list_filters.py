"""``gitreg list --where/--tag/--status/--since/--sort/--limit``: the API's filter on the command line, on a
real registry; plain ``list`` keeps its output; each bad option is one line and exit 2 (3 for what is not
there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing import assert_error, commit_all, run, write_bytes
from testing.imports import modules_after


@pytest.fixture
def listed(registry: Path, tmp_path: Path) -> Path:
    """fraud@1 (auc 0.9, team risk), fraud@2 (auc 0.95, archived), churn@1 (auc 0.7); fraud@1 in staging."""
    for model, seed, options in (
        ("fraud", 1, ["--metric", "auc=0.9", "--tag", "team=risk"]),
        ("fraud", 2, ["--metric", "auc=0.95", "--param", "max_depth=8"]),
        ("churn", 3, ["--metric", "auc=0.7", "--tag", "team=growth"]),
    ):
        art = write_bytes(tmp_path / "art" / str(seed) / "model.bin", 100, seed)
        assert run("register", model, art, "-q", *options, cwd=registry).exit_code == 0
    path = registry / "models" / "fraud" / "versions" / "2.yaml"
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    commit_all(registry, "archive fraud@2, fraud@1 to staging")
    return registry


def versions(registry: Path, *args: str) -> list[str]:
    result = run("list", *args, "--json", cwd=registry)
    assert result.exit_code == 0, result.stderr
    return [f"{row.get('model', '?')}@{row['version']}" for row in json.loads(result.stdout)]


def test_filters_select_versions_of_every_model(listed: Path) -> None:
    assert versions(listed, "--status", "any") == ["churn@1", "fraud@1", "fraud@2"]
    assert versions(listed, "--status", "active") == ["churn@1", "fraud@1"]
    assert versions(listed, "--status", "archived") == ["fraud@2"]
    assert versions(listed, "--where", "metrics.auc >= 0.9") == ["fraud@1", "fraud@2"]
    assert versions(listed, "--where", "metrics.auc >= 0.9 and status == 'active'") == ["fraud@1"]
    assert versions(listed, "--where", "params.max_depth == 8 or tags.team == 'growth'") == [
        "churn@1",
        "fraud@2",
    ]
    assert versions(listed, "--tag", "team=risk") == ["fraud@1"]
    assert versions(listed, "--tag", "team=risk", "--tag", "team=risk") == ["fraud@1"]
    assert versions(listed, "--sort", "-metrics.auc") == ["fraud@2", "fraud@1", "churn@1"]
    assert versions(listed, "--sort=-metrics.auc", "--limit", "2") == ["fraud@2", "fraud@1"]
    assert versions(listed, "--since", "1d") == ["churn@1", "fraud@1", "fraud@2"]
    assert versions(listed, "--since", "2999-01-01") == []
    assert versions(listed, "--stage", "staging", "--where", "metrics.auc > 0") == ["fraud@1"]
    assert versions(listed, "--where", "model == 'fraud'", "--stage", "production") == []


def test_with_a_model_the_rows_are_those_of_list_model(listed: Path) -> None:
    plain = json.loads(run("list", "fraud", "--json", cwd=listed).stdout)
    filtered = json.loads(run("list", "fraud", "--status", "any", "--json", cwd=listed).stdout)
    assert filtered == plain
    assert [
        r["version"] for r in json.loads(run("list", "fraud", "--limit", "1", "--json", cwd=listed).stdout)
    ] == [1]
    text = run("list", "fraud", "--where", "metrics.auc > 0.91", cwd=listed).stdout.splitlines()
    assert text[0].split() == ["VERSION", "STATUS", "STAGES", "CREATED", "SIZE", "DIGEST", "METRICS"]
    assert text[1].split()[:3] == ["2", "archived", "-"]
    assert len(text) == 2


def test_across_models_the_table_says_which_model(listed: Path) -> None:
    lines = run("list", "--where", "metrics.auc < 0.95", cwd=listed).stdout.splitlines()
    assert lines[0].split()[:3] == ["MODEL", "VERSION", "STATUS"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["churn", "1", "active", "-"],
        ["fraud", "1", "active", "staging"],
    ]
    assert run("list", "--where", "metrics.auc > 5", cwd=listed).stdout == ""
    rows = json.loads(run("list", "--where", "version == 1", "--json", cwd=listed).stdout)
    assert list(rows[0])[:2] == ["model", "version"]


def test_plain_list_prints_what_it_always_did(listed: Path) -> None:
    lines = run("list", cwd=listed).stdout.splitlines()
    assert lines[0].split() == ["MODEL", "LATEST", "VERSIONS", "STAGES"]
    assert [line.split() for line in lines[1:]] == [
        ["churn", "1", "1", "-"],
        ["fraud", "2", "2", "staging=1"],
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--where", "metric.auc > 0.9"],
            2,
            "filter, column 1: unknown field 'metric.auc' (did you mean 'metrics.auc'?)",
        ),
        (
            ["--where", "metrics.auc > 0.9 and"],
            2,
            "filter, column 22: expected a field or a value, found the end (write FIELD OP VALUE joined by "
            "and/or/not, e.g. metrics.auc >= 0.9 and tags.team == 'risk')",
        ),
        (["--tag", "team"], 2, "--tag 'team': write KEY=VALUE"),
        (["--tag", "team=a", "--tag", "team=b"], 2, "--tag 'team' is given twice with different values"),
        (
            ["--since", "yesterday"],
            2,
            "since 'yesterday' is neither a duration nor a date (write a duration such as 7d, 12h, 30m "
            "or 2w, or an ISO 8601 date such as 2026-11-01)",
        ),
        (
            ["--sort", "auc"],
            2,
            "cannot sort by 'auc': unknown field 'auc' (sort by a field, such as metrics.auc, or "
            "-metrics.auc for the highest first)",
        ),
        (
            ["fruad", "--where", "version > 0"],
            3,
            "model 'fruad' is not in the registry (did you mean 'fraud'?)",
        ),
        (
            ["--stage", "prod", "--where", "version > 0"],
            3,
            "stage 'prod' is not declared in registry.yaml (known: staging, production)",
        ),
    ],
)
def test_bad_options_are_one_line(listed: Path, args: list[str], code: int, message: str) -> None:
    assert_error(run("list", *args, cwd=listed), code, message)


def test_a_limit_below_one_is_a_usage_error(listed: Path) -> None:
    result = run("list", "--limit", "0", cwd=listed)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "--limit" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--where", "metrics.auc >= 0.9 and tags.team == 'risk'", "--sort", "-metrics.auc", "--json"),
        ("show", "models:/fraud/1"),
    ],
)
def test_searching_stays_on_the_light_read_path(listed: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    """Filters read records, as plain ``list`` does: no pydantic, no GitPython (see test_read_imports)."""
    done, loaded = modules_after(tmp_path, "-C", listed, *args)
    assert done.returncode == 0, done.stderr
    modules = {m.split(".")[0] for m in loaded}
    assert modules & {"pydantic", "pydantic_core", "git", "gitdb", "fsspec", "jinja2", "tqdm"} == set()
    assert "gitreg" in modules
