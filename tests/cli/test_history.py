"""``gitreg history`` and ``gitreg audit`` on the command line: the table, ``--json``, ``--stage``, the audit
report in Markdown and JSON with its ``--since``/``--until`` window, and the errors. The history is landed
for real by ``land_history`` (testing/forge_server.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing import assert_error, git, run
from testing.forge_server import DATES, SETUP_DATE, Team


@pytest.fixture
def landed(team: Team, landed: dict[str, str]) -> dict[str, str]:
    """tests/conftest.py's ``landed``, with Alice's remote branches fetched."""
    git(team.alice, "fetch", "--quiet", "origin")
    return landed


TABLE_HEAD = (
    "| landed | stage | model | change | pull request | author | merged by | artifact | validator | flags |\n"
    "|---|---|---|---|---|---|---|---|---|---|\n"
)


def ok(*args: str, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def short(landed: dict[str, str]) -> dict[str, str]:
    return {name: commit[:12] for name, commit in landed.items()}


def digest(team: Team, model: str, version: int) -> str:
    data = yaml.safe_load(git(team.alice, "show", f"main:models/{model}/versions/{version}.yaml"))
    value: str = data["artifact"]["digest"]
    return value


# --- history ----------------------------------------------------------------------------------------------


def test_history_table(team: Team, landed: dict[str, str]) -> None:
    c = short(landed)
    assert ok("history", "fraud", cwd=team.alice) == (
        "DATE                 STAGE       MODEL  CHANGE  PR   AUTHOR        MERGED BY    COMMIT\n"
        f"2026-01-01 09:00:00  staging     fraud  - -> 1  -    Alice Archer  -            {c['setup']}"
        "  DIRECT PUSH\n"
        f"2026-01-05 10:00:00  production  fraud  - -> 1  #12  Alice Archer  Carol Clerk  {c['github']}\n"
        f"2026-01-12 10:00:00  staging     fraud  1 -> 2  #7   Bob Baker     Carol Clerk  {c['gitlab']}\n"
        f"2026-01-19 10:00:00  production  fraud  1 -> 2  #13  Alice Archer  GitHub       {c['squash']}\n"
        f"2026-01-26 10:00:00  staging     fraud  2 -> 1  -    Bob Baker     -            {c['direct']}"
        "  DIRECT PUSH\n"
        f"2026-02-02 10:00:00  production  fraud  2 -> 3  -    Bob Baker     -            {c['invalid']}"
        "  DIRECT PUSH\n"
        f"2026-02-09 10:00:00  production  fraud  3 -> 2  #14  Alice Archer  Carol Clerk  {c['rollback']}\n"
    )  # fmt: skip


def test_history_of_one_stage(team: Team, landed: dict[str, str]) -> None:
    lines = ok("history", "fraud", "--stage", "staging", cwd=team.alice).splitlines()
    assert [line.split()[-1] if "DIRECT" not in line else line.split()[-3] for line in lines[1:]] == [
        short(landed)[k] for k in ("setup", "gitlab", "direct")
    ]
    assert all("  staging  " in line for line in lines[1:])


def test_history_json(team: Team, landed: dict[str, str]) -> None:
    data: list[dict[str, Any]] = json.loads(
        ok("history", "fraud", "--stage", "production", "--json", cwd=team.alice)
    )
    assert data[0] == {
        "stage": "production",
        "model": "fraud",
        "from_version": None,
        "to_version": 1,
        "commit": landed["github"],
        "date": DATES["github"],
        "pull_request": 12,
        "author": "Alice Archer <alice@example.com>",
        "merged_by": "Carol Clerk <carol@example.com>",
        "direct_push": False,
        "subject": "Merge pull request #12 from owner/gitreg/promote/fraud-1-production",
        "review": "confirmed",
    }
    assert [(d["from_version"], d["to_version"], d["pull_request"], d["direct_push"]) for d in data] == [
        (None, 1, 12, False),
        (1, 2, 13, False),
        (2, 3, None, True),
        (3, 2, 14, False),
    ]
    assert data[1]["merged_by"] == "GitHub <noreply@github.com>"  # a squash is committed by the forge


def test_history_reads_origin_main_as_last_fetched(team: Team, landed: dict[str, str]) -> None:
    """No network for a read: Bob's clone has not fetched since his last push, so the rollback that Alice
    merged afterwards is not there until he fetches (or passes --ref)."""
    git(team.bob, "update-ref", "refs/remotes/origin/main", landed["invalid"])
    assert short(landed)["rollback"] not in ok("history", "fraud", cwd=team.bob)
    assert short(landed)["rollback"] in ok("history", "fraud", "--ref", "main", cwd=team.bob)
    git(team.bob, "fetch", "--quiet", "origin")
    assert short(landed)["rollback"] in ok("history", "fraud", cwd=team.bob)


def test_history_without_a_remote_reads_main(registry: Path, tmp_path: Path) -> None:
    art = tmp_path / "model.bin"
    art.write_bytes(b"weights")
    assert run("register", "fraud", art, cwd=registry).exit_code == 0
    (registry / "stages" / "staging.yaml").write_text("fraud: 1\n")
    git(registry, "add", "stages/staging.yaml")
    git(registry, "commit", "--quiet", "-m", "Stage fraud@1")
    lines = ok("history", "fraud", cwd=registry).splitlines()
    assert len(lines) == 2
    head = git(registry, "rev-parse", "HEAD")[:12]
    assert lines[1][19:] == f"  staging  fraud  - -> 1  -   Test User  -          {head}  DIRECT PUSH"


def test_history_with_no_changes(team: Team, landed: dict[str, str]) -> None:
    assert ok("history", "ranker", cwd=team.alice) == "no stage changes for ranker on origin/main\n"
    assert (
        ok("history", "fraud", "--stage", "qa", cwd=team.alice)
        == "no stage changes for fraud on origin/main\n"
    )
    assert ok("history", "ranker", "--json", cwd=team.alice) == "[]\n"


def test_history_of_a_ref_that_does_not_exist(team: Team) -> None:
    assert_error(
        run("history", "fraud", "--ref", "release", cwd=team.alice),
        3,
        "'release' does not name a commit (fetch it first, or pass --ref)",
    )


# --- audit ------------------------------------------------------------------------------------------------


def test_audit_markdown(team: Team, landed: dict[str, str]) -> None:
    c = short(landed)
    d = {
        (m, n): f"`{digest(team, m, n)}`" for m, n in (("churn", 1), ("fraud", 1), ("fraud", 2), ("fraud", 3))
    }
    invalid = (
        "fail: stages/production.yaml:1:1: policy-field: fraud@3 has no description, "
        "which stage 'production' requires"
    )
    assert ok("audit", cwd=team.alice) == (
        "# Stage changes on origin/main\n"
        "\n"
        "8 changes; 4 flagged (4 direct pushes, 1 failing validation).\n"
        "\n"
        + TABLE_HEAD
        + f"| {SETUP_DATE} | staging | churn | - → 1 | - | Alice Archer | - | {d['churn', 1]} (204 B) | pass "
        "| direct-push |\n"
        f"| {SETUP_DATE} | staging | fraud | - → 1 | - | Alice Archer | - | {d['fraud', 1]} (201 B) | pass "
        "| direct-push |\n"
        f"| {DATES['github']} | production | fraud | - → 1 | #12 | Alice Archer | Carol Clerk "
        f"| {d['fraud', 1]} (201 B) | pass | ok |\n"
        f"| {DATES['gitlab']} | staging | fraud | 1 → 2 | #7 | Bob Baker | Carol Clerk "
        f"| {d['fraud', 2]} (202 B) | pass | ok |\n"
        f"| {DATES['squash']} | production | fraud | 1 → 2 | #13 | Alice Archer | GitHub "
        f"| {d['fraud', 2]} (202 B) | pass | ok |\n"
        f"| {DATES['direct']} | staging | fraud | 2 → 1 | - | Bob Baker | - | {d['fraud', 1]} (201 B) | pass "
        "| direct-push |\n"
        f"| {DATES['invalid']} | production | fraud | 2 → 3 | - | Bob Baker | - | {d['fraud', 3]} (203 B) "
        f"| {invalid} | direct-push, invalid |\n"
        f"| {DATES['rollback']} | production | fraud | 3 → 2 | #14 | Alice Archer | Carol Clerk "
        f"| {d['fraud', 2]} (202 B) | pass | ok |\n"
        "\n"
        "## Flagged\n"
        "\n"
        f"- `{c['setup']}` staging churn → 1: direct-push (Stage churn@1 and fraud@1)\n"
        f"- `{c['setup']}` staging fraud → 1: direct-push (Stage churn@1 and fraud@1)\n"
        f"- `{c['direct']}` staging fraud → 1: direct-push (Put fraud@1 back in staging)\n"
        f"- `{c['invalid']}` production fraud → 3: direct-push, invalid (Hotfix: fraud@3)\n"
    )


def test_audit_json(team: Team, landed: dict[str, str]) -> None:
    report = json.loads(ok("audit", "--format", "json", cwd=team.alice))
    assert (report["ref"], report["since"], report["until"]) == ("origin/main", None, None)
    assert report["evidence"] == "pull-request refs"
    invalid = next(e for e in report["changes"] if e["commit"] == landed["invalid"])
    assert invalid == {
        "stage": "production",
        "model": "fraud",
        "from_version": 2,
        "to_version": 3,
        "commit": landed["invalid"],
        "date": DATES["invalid"],
        "pull_request": None,
        "author": "Bob Baker <bob@example.com>",
        "merged_by": None,
        "direct_push": True,
        "subject": "Hotfix: fraud@3",
        "review": "none",
        "digest": digest(team, "fraud", 3),
        "size": 203,
        "verdict": "fail: stages/production.yaml:1:1: policy-field: fraud@3 has no description, "
        "which stage 'production' requires",
        "flags": ["direct-push", "invalid"],
    }
    assert [(e["commit"], e["flags"]) for e in report["changes"]][2:] == [
        (landed["github"], []),
        (landed["gitlab"], []),
        (landed["squash"], []),
        (landed["direct"], ["direct-push"]),
        (landed["invalid"], ["direct-push", "invalid"]),
        (landed["rollback"], []),
    ]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (("--since", "2026-01-12", "--until", "2026-01-26"), ["gitlab", "squash", "direct"]),
        (("--since", "2026-01-12T10:00:01Z", "--until", "2026-01-26T09:59:59Z"), ["squash"]),
        (("--since", "2026-02-01"), ["invalid", "rollback"]),
        (("--until", "2026-01-01"), ["setup", "setup"]),
        (("--since", "2026-01-05T11:00:00+01:00", "--until", "2026-01-05T11:00:00+01:00"), ["github"]),
        (("--since", "2027-01-01"), []),
    ],
)
def test_audit_window(
    team: Team, landed: dict[str, str], window: tuple[str, ...], expected: list[str]
) -> None:
    report = json.loads(ok("audit", *window, "--format", "json", cwd=team.alice))
    assert [e["commit"] for e in report["changes"]] == [landed[k] for k in expected]
    assert (report["since"], report["until"]) == (
        dict(zip(window[::2], window[1::2], strict=True)).get("--since"),
        dict(zip(window[::2], window[1::2], strict=True)).get("--until"),
    )


def test_audit_markdown_window_heading(team: Team, landed: dict[str, str]) -> None:
    out = ok("audit", "--since", "2026-02-01", "--until", "2026-02-28", cwd=team.alice)
    assert out.startswith(
        "# Stage changes on origin/main from 2026-02-01 until 2026-02-28\n\n"
        "2 changes; 1 flagged (1 direct pushes, 1 failing validation).\n"
    )


def test_audit_with_nothing_in_the_window(team: Team, landed: dict[str, str]) -> None:
    assert ok("audit", "--since", "2027-01-01", cwd=team.alice) == (
        "# Stage changes on origin/main from 2027-01-01\n"
        "\n"
        "0 changes; 0 flagged (0 direct pushes, 0 failing validation).\n"
        "\n" + TABLE_HEAD
    )


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "01/02/2026"])
def test_audit_bad_date(team: Team, value: str) -> None:
    assert_error(
        run("audit", "--since", value, cwd=team.alice),
        2,
        f"Invalid value: {value!r} is not a date such as 2026-11-01 or 2026-11-01T12:00:00Z",
    )


def test_audit_bad_format(team: Team) -> None:
    result = run("audit", "--format", "html", cwd=team.alice)
    assert result.exit_code == 2
    assert "Invalid value for '--format': 'html' is not one of 'md', 'json'." in result.stderr
