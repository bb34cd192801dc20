"""``gitreg audit`` streams: the library gives entries a batch at a time (the merged branches' authors asked
per batch), and the command writes rows to temporary files as they come; what it prints is what it printed
from the whole list (``output.print_json`` of the report, the Markdown with its counts on top)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitreg.credentials import redact_data
from gitreg.gitrepo import GitRepo
from gitreg.ops.history import audit, audit_entries
from gitreg.ops.review import PullRefs
from testing import git, run
from testing.forge_server import Team


def ok(*args: str, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.fixture
def fetched(team: Team, landed: dict[str, str]) -> GitRepo:
    git(team.alice, "fetch", "--quiet", "origin")
    return GitRepo.open(team.alice)


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_entries_come_in_batches_with_their_proposers(fetched: GitRepo, batch: int) -> None:
    whole = [e.as_dict() for e in audit(fetched, "origin/main")]
    assert len(whole) > 3
    assert any(e["author"] != e["merged_by"] and e["merged_by"] for e in whole)  # a proposer was looked up
    assert [e.as_dict() for e in audit_entries(fetched, "origin/main", batch=batch)] == whole


@pytest.mark.parametrize("window", [[], ["--since", "2026-02-01"], ["--since", "2027-01-01"]])
def test_json_is_the_report_printed_whole(team: Team, fetched: GitRepo, window: list[str]) -> None:
    since = datetime(int(window[1][:4]), int(window[1][5:7]), 1, tzinfo=UTC) if window else None
    entries = [e.as_dict() for e in audit(fetched, "origin/main", since)]
    evidence = PullRefs.of(fetched)
    assert evidence is not None
    report = {
        "ref": "origin/main",
        "since": window[1] if window else None,
        "until": None,
        "evidence": evidence.name,
        "changes": entries,
    }
    out = ok("audit", "--format", "json", *window, cwd=team.alice)
    assert out == json.dumps(redact_data(report), indent=2) + "\n"
    assert json.loads(out)["changes"] == entries


def test_markdown_counts_what_follows(team: Team, fetched: GitRepo) -> None:
    out = ok("audit", cwd=team.alice)
    rows = [line for line in out.split("\n## Flagged\n")[0].splitlines() if line.startswith("| 20")]
    flagged = out.split("\n## Flagged\n\n")[1].splitlines()
    assert f"{len(rows)} changes; {len(flagged)} flagged " in out
    assert len(rows) == len(audit(fetched, "origin/main"))
