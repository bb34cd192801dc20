"""What ``gitreg audit`` and ``gitreg history`` take as evidence that a stage change was reviewed: never the
commit message (anyone who pushes can type "(#2)" or "Merge pull request #5"), only what a pusher cannot
write: the forge's pull-request refs, when fetched, or the forge's API, when a token is given. Without
either, a claimed pull request is listed as unconfirmed and flagged. And a shallow clone, whose history is
cut off, is refused rather than audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from testing import git, run
from testing.forge_server import (
    BOB,
    DATES,
    STAGING,
    ForgeServer,
    Team,
    direct_push,
    git_as,
    land_history,
    make_team,
    serve,
)

LATE = "2026-03-01T12:00:00+00:00"


@pytest.fixture
def team(registry: Path, tmp_path: Path) -> Team:
    return make_team(registry, tmp_path)


@pytest.fixture
def landed(team: Team) -> dict[str, str]:
    return land_history(team)


def audit_json(checkout: Path, *args: str) -> dict[str, Any]:
    result = run("audit", "--format", "json", *args, cwd=checkout)
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def entry(report: dict[str, Any], commit: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in report["changes"] if e["commit"] == commit]
    assert len(found) == 1, found
    return found[0]


def claim(entry: dict[str, Any]) -> tuple[int | None, str, bool, list[str]]:
    return entry["pull_request"], entry["review"], entry["direct_push"], entry["flags"]


def squash_titled_push(team: Team) -> str:
    """Bob pushes fraud@2 to staging straight to main, with a title that looks like a squash of #2."""
    return direct_push(
        team, team.bob, BOB, {"stages/staging.yaml": STAGING.replace("fraud: 1", "fraud: 2")},
        "Promote fraud@2 to staging (#2)", LATE,
    )  # fmt: skip


def local_merge_push(team: Team, number: int = 5) -> str:
    """Bob merges his branch on his machine with a forge-like message and pushes main."""
    team.pull(team.bob)
    git(team.bob, "checkout", "--quiet", "-b", "bob/fraud")
    (team.bob / "stages" / "staging.yaml").write_text(STAGING.replace("fraud: 1", "fraud: 2"))
    git_as(BOB, team.bob, "commit", "--quiet", "--all", "-m", "fraud@2 to staging")
    git(team.bob, "push", "--quiet", "origin", "bob/fraud")
    git(team.bob, "checkout", "--quiet", "main")
    message = f"Merge pull request #{number} from org/bob-fraud"
    git_as(BOB, team.bob, "merge", "--quiet", "--no-ff", "-m", message, "bob/fraud", date=LATE)
    git(team.bob, "push", "--quiet", "origin", "main")
    return git(team.bob, "rev-parse", "HEAD").strip()


def fresh_clone(team: Team, name: str = "auditor") -> Path:
    """A plain clone: the default refspec, so no pull-request refs."""
    dest = team.work / name
    git(team.work, "clone", "--quiet", team.forge.url, str(dest))
    return dest


# --- a message is a claim, not evidence -------------------------------------------------------------------


def test_a_direct_push_titled_like_a_squash_is_not_reviewed(team: Team, landed: dict[str, str]) -> None:
    pushed = squash_titled_push(team)
    git(team.alice, "fetch", "--quiet", "origin")
    # pull-request refs fetched, none for #2: the claim cannot be confirmed
    assert claim(entry(audit_json(team.alice), pushed)) == (2, "unconfirmed", False, ["unconfirmed"])


def test_a_claim_the_pull_request_refs_contradict(team: Team, landed: dict[str, str]) -> None:
    """Pull request #2 exists on the forge (an unmerged branch), but main's commit is not what it merges."""
    git(team.bob, "push", "--quiet", "origin", "main:other")
    team.forge.open_pull("other", 2)
    pushed = squash_titled_push(team)
    git(team.alice, "fetch", "--quiet", "origin")
    assert claim(entry(audit_json(team.alice), pushed)) == (2, "refuted", True, ["direct-push"])


def test_a_local_merge_with_a_forge_message_is_not_reviewed(team: Team, landed: dict[str, str]) -> None:
    pushed = local_merge_push(team)
    git(team.alice, "fetch", "--quiet", "origin")
    found = entry(audit_json(team.alice), pushed)
    assert claim(found) == (5, "unconfirmed", False, ["unconfirmed"])
    table = run("history", "fraud", "--stage", "staging", cwd=team.alice).stdout.splitlines()
    assert "#5 (unconfirmed)" in table[-1]
    assert table[-1].endswith("UNCONFIRMED")


def test_a_local_merge_of_another_branch_than_the_pull_requests(team: Team, landed: dict[str, str]) -> None:
    git(team.alice, "push", "--quiet", "origin", "main:alice/other")
    team.forge.open_pull("alice/other", 5)
    pushed = local_merge_push(team, 5)
    git(team.alice, "fetch", "--quiet", "origin")
    assert claim(entry(audit_json(team.alice), pushed)) == (5, "refuted", True, ["direct-push"])


def test_without_pull_request_refs_no_review_is_confirmed(team: Team, landed: dict[str, str]) -> None:
    auditor = fresh_clone(team)
    report = audit_json(auditor)
    assert report["evidence"] == "none"
    assert [claim(e) for e in report["changes"] if e["pull_request"]] == [
        (12, "unconfirmed", False, ["unconfirmed"]),
        (7, "unconfirmed", False, ["unconfirmed"]),
        (13, "unconfirmed", False, ["unconfirmed"]),
        (14, "unconfirmed", False, ["unconfirmed"]),
    ]
    markdown = run("audit", cwd=auditor).stdout
    assert "8 changes; 8 flagged (4 direct pushes, 1 failing validation, 4 unconfirmed reviews)." in markdown
    assert "| #12 (unconfirmed) |" in markdown
    assert (
        "Review is confirmed only by the forge: fetch its pull-request refs "
        "(git fetch origin '+refs/pull/*:refs/remotes/origin/pull/*', on GitLab "
        "'+refs/merge-requests/*:refs/remotes/origin/merge-requests/*') or set GITHUB_TOKEN or GITLAB_TOKEN."
    ) in markdown


def test_pull_request_refs_confirm_each_way_of_merging(team: Team, landed: dict[str, str]) -> None:
    report = audit_json(team.alice)
    assert report["evidence"] == "pull-request refs"
    assert {k: claim(entry(report, landed[k]))[:2] for k in ("github", "gitlab", "squash", "rollback")} == {
        "github": (12, "confirmed"),
        "gitlab": (7, "confirmed"),
        "squash": (13, "confirmed"),
        "rollback": (14, "confirmed"),
    }
    assert claim(entry(report, landed["direct"])) == (None, "none", True, ["direct-push"])


# --- the forge's API --------------------------------------------------------------------------------------


def test_the_github_api_confirms_and_refutes(
    team: Team, landed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed = squash_titled_push(team)
    auditor = fresh_clone(team)
    with serve(ForgeServer()) as server:
        for number, (head, commit) in sorted(team.forge.merges.items()):
            server.next_number = number
            server.add_merged_pull(f"branch-{number}", head, commit)
        server.next_number = 2
        server.add_pull("other")  # an open pull request #2, never merged
        monkeypatch.setenv("GITHUB_TOKEN", server.token)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        report = audit_json(auditor, "--forge", "github")
        asked = {r.path for r in server.requests}
    assert report["evidence"] == "GitHub API"
    assert claim(entry(report, landed["github"])) == (12, "confirmed", False, [])
    assert claim(entry(report, landed["squash"])) == (13, "confirmed", False, [])
    assert claim(entry(report, pushed)) == (2, "refuted", True, ["direct-push"])
    assert f"/repos/owner/reg/commits/{pushed}/pulls" in asked


def test_the_gitlab_api_confirms_and_refutes(
    team: Team, landed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed = local_merge_push(team, 9)
    auditor = fresh_clone(team)
    with serve(ForgeServer()) as server:
        for number, (head, commit) in sorted(team.forge.merges.items()):
            server.next_number = number
            server.add_merged_merge_request(f"branch-{number}", head, commit, squash=number == 13)
        monkeypatch.setenv("GITLAB_TOKEN", server.token)
        monkeypatch.setenv("CI_API_V4_URL", f"{server.url}/api/v4")
        report = audit_json(auditor, "--forge", "gitlab")
    assert report["evidence"] == "GitLab API"
    assert claim(entry(report, landed["gitlab"])) == (7, "confirmed", False, [])
    assert claim(entry(report, landed["squash"])) == (13, "confirmed", False, [])
    assert claim(entry(report, pushed)) == (9, "refuted", True, ["direct-push"])


def test_a_forge_that_refuses_the_token(
    team: Team, landed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(ForgeServer()) as server:
        monkeypatch.setenv("GITHUB_TOKEN", "wrong")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        result = run("audit", "--forge", "github", cwd=team.alice)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == "error: GitHub answered 401: Bad credentials (check the token in GITHUB_TOKEN)\n"


# --- a shallow clone --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("audit",), ("audit", "--format", "json"), ("history", "fraud")])
def test_a_shallow_clone_is_refused(team: Team, landed: dict[str, str], command: tuple[str, ...]) -> None:
    shallow = team.work / "shallow"
    git(team.work, "clone", "--quiet", "--depth", "2", team.forge.url, str(shallow))
    result = run(*command, cwd=shallow)
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == (
        "error: this clone is shallow: the history of origin/main is cut off, so stage changes before it "
        "would be missing (gitreg does not fetch it for you: run git fetch --unshallow, then try again)\n"
    )
    git(shallow, "fetch", "--quiet", "--unshallow")
    assert run(*command, cwd=shallow).exit_code == 0


def test_history_keeps_its_output_where_review_is_confirmed(team: Team, landed: dict[str, str]) -> None:
    lines = run("history", "fraud", "--stage", "production", cwd=team.alice).stdout.splitlines()
    assert [line.split()[7] for line in lines[1:]] == ["#12", "#13", "-", "#14"]
    assert DATES["github"][:10] in lines[1]
    assert [line.endswith("DIRECT PUSH") for line in lines[1:]] == [False, False, True, False]
