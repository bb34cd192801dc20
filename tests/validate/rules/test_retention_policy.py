"""A retention policy is validated like the rest: its periods and keep_last by the schema (with a position
and what to write instead), its protected stages by the retention rule; the light path takes a valid policy
without pydantic and hands any other to the typed model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitreg import durations, schemas, yamlio
from gitreg.layout import model_path
from gitreg.validate.light import light
from testing import git, run
from testing.dated import add_retention, model_text
from testing.synthetic import write_files


def findings(root: Path) -> list[str]:
    result = run("validate", "--format", "json", cwd=root)
    return [
        f"{f['path']}:{f['line']}:{f['col']}: {f['rule']}: {f['message']}"
        for f in json.loads(result.stdout)["findings"]
    ]


def test_a_valid_policy_passes(registry: Path) -> None:
    add_retention(
        registry,
        "  keep_last: 3\n  archive_after: 26w\n  protect: [production]\n  delete_archived_after: 365d\n",
    )
    write_files(registry, {model_path("m"): model_text("m", retention="  keep_last: 5\n  protect: []\n")})
    assert run("validate", cwd=registry).exit_code == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "archive_after: 6m",
            "'6m' is not a retention period: months and years vary in length (and m would be "
            "minutes), so write days or weeks, such as 180d",
        ),
        (
            "archive_after: 1y",
            "'1y' is not a retention period: months and years vary in length (and m would be "
            "minutes), so write days or weeks, such as 365d",
        ),
        ("archive_after: 180", "'180' has no unit: write days or weeks, such as 180d"),
        ("archive_after: 12h", "'12h' is not a retention period: write days or weeks, such as 180d or 26w"),
        ("archive_after: -1d", "'-1d' is not a retention period: write days or weeks, such as 180d or 26w"),
        ("archive_after: 36501d", "'36501d' is longer than a century: write at most 36500d"),
        (
            "delete_archived_after: [1d]",
            "[1d] is not a retention period: write days or weeks, such as 180d or 26w",
        ),
        ("keep_last: 0", "0 is below 1: the newest version is always kept, so write 1 or more"),
        ("keep_last: true", "Input should be a valid integer"),
    ],
)
def test_a_bad_period_or_keep_last_is_a_schema_finding_at_its_line(
    registry: Path, line: str, message: str
) -> None:
    add_retention(registry, f"  {line}\n")
    key = line.split(":", maxsplit=1)[0]
    if message.startswith("["):
        message = "\"['1d']\"" + message[4:]
    assert findings(registry) == [f"registry.yaml:30:3: schema: retention.{key}: {message}"]


def test_protect_names_declared_stages(registry: Path) -> None:
    add_retention(registry, "  protect: [production, prod]\n")
    write_files(registry, {model_path("m"): model_text("m", retention="  protect:\n    - canary\n")})
    git(registry, "add", "-A")
    declared = "(declared: staging, production): name a declared stage, or leave it out"
    assert findings(registry) == [
        f"models/m/model.yaml:7:7: retention: retention.protect names stage 'canary', which registry.yaml "
        f"does not declare {declared}",
        f"registry.yaml:30:25: retention: retention.protect names stage 'prod', which registry.yaml does not "
        f"declare {declared}",
    ]


def test_unknown_policy_fields_are_refused(registry: Path) -> None:
    add_retention(registry, "  keep_lst: 3\n")
    assert findings(registry) == [
        "registry.yaml:30:3: schema: unknown field 'keep_lst' (did you mean 'keep_last'?)"
    ]


def test_the_light_path_takes_exactly_the_valid_policies(registry: Path) -> None:
    text = (registry / "registry.yaml").read_text()
    good = yamlio.load((text + "retention:\n  keep_last: 2\n  archive_after: 180d\n").encode(), "r").data
    assert light("Registry", good) is not None
    for bad in ("keep_last: 0", "archive_after: 6m", "archive_after: 180", "protect: [Bad]", "other: 1"):
        data = yamlio.load((text + f"retention:\n  {bad}\n").encode(), "r").data
        assert light("Registry", data) is None, bad


def test_the_json_schema_says_what_a_period_is() -> None:
    schema = schemas.json_schema("Registry")
    retention = schema["$defs"]["Retention"]["properties"]
    periods = [p for p in retention["archive_after"]["anyOf"] if p.get("type") == "string"]
    assert periods == [{"type": "string", "pattern": durations.RETENTION_PATTERN}]
    assert {"minimum": 1}.items() <= next(
        p for p in retention["keep_last"]["anyOf"] if p.get("type") == "integer"
    ).items()
