"""``gitreg.ops.history``: every stage change along main's first-parent history, with the pull request it came
through (GitHub merge commits, GitLab "See merge request" bodies, squash titles), who proposed and who
merged it, and the audit evidence (artifact, validator verdict, direct-push and invalid flags).

The history is made for real (testing/forge_server.py ``land_history``): promotions by ``gitreg promote
--push`` from two clones, merged inside a bare repository as GitHub and GitLab merge, plus direct pushes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
import yaml

from gitreg import NotFoundError
from gitreg.gitrepo import GitRepo
from gitreg.ops.history import Landing, StageChange, audit, stage_history
from gitreg.ops.review import claimed_pull_request
from testing import git, run
from testing.forge_server import (
    ALICE,
    BOB,
    CAROL,
    DATES,
    SETUP_DATE,
    STAGING,
    Team,
    git_as,
)

ALICE_ID, BOB_ID, CAROL_ID = str(ALICE), str(BOB), str(CAROL)
GITHUB_ID = "GitHub <noreply@github.com>"


def repo_of(team: Team) -> GitRepo:
    return GitRepo.open(team.alice)


def digest(team: Team, model: str, version: int) -> str:
    data = yaml.safe_load(git(team.alice, "show", f"main:models/{model}/versions/{version}.yaml"))
    value: str = data["artifact"]["digest"]
    return value


def change(
    stage: str,
    model: str,
    versions: tuple[int | None, int | None],
    commit: str,
    date: str,
    pr: int | None,
    author: str,
    merged_by: str | None,
    subject: str,
) -> StageChange:
    return StageChange(
        stage=stage,
        model=model,
        from_version=versions[0],
        to_version=versions[1],
        commit=commit,
        date=date,
        pull_request=pr,
        author=author,
        merged_by=merged_by,
        direct_push=merged_by is None,
        subject=subject,
        review="none" if merged_by is None else "confirmed",  # the forge's pull-request refs were fetched
    )


def expected_fraud_history(landed: dict[str, str]) -> list[StageChange]:
    return [
        change("staging", "fraud", (None, 1), landed["setup"], SETUP_DATE, None, ALICE_ID, None,
               "Stage churn@1 and fraud@1"),
        change("production", "fraud", (None, 1), landed["github"], DATES["github"], 12, ALICE_ID, CAROL_ID,
               "Merge pull request #12 from owner/gitreg/promote/fraud-1-production"),
        change("staging", "fraud", (1, 2), landed["gitlab"], DATES["gitlab"], 7, BOB_ID, CAROL_ID,
               "Merge branch 'gitreg/promote/fraud-2-staging' into 'main'"),
        change("production", "fraud", (1, 2), landed["squash"], DATES["squash"], 13, ALICE_ID, GITHUB_ID,
               "Promote fraud@2 to production (from 1) (#13)"),
        change("staging", "fraud", (2, 1), landed["direct"], DATES["direct"], None, BOB_ID, None,
               "Put fraud@1 back in staging"),
        change("production", "fraud", (2, 3), landed["invalid"], DATES["invalid"], None, BOB_ID, None,
               "Hotfix: fraud@3"),
        change("production", "fraud", (3, 2), landed["rollback"], DATES["rollback"], 14, ALICE_ID, CAROL_ID,
               "Merge pull request #14 from owner/gitreg/rollback/fraud-2-production"),
    ]  # fmt: skip


# --- history ----------------------------------------------------------------------------------------------


def test_history_of_a_model(team: Team, landed: dict[str, str]) -> None:
    assert stage_history(repo_of(team), "main", "fraud") == expected_fraud_history(landed)


def test_history_of_one_stage(team: Team, landed: dict[str, str]) -> None:
    production = [c for c in expected_fraud_history(landed) if c.stage == "production"]
    assert stage_history(repo_of(team), "main", "fraud", "production") == production


def test_history_of_every_model(team: Team, landed: dict[str, str]) -> None:
    changes = stage_history(repo_of(team), "main")
    churn = change("staging", "churn", (None, 1), landed["setup"], SETUP_DATE, None, ALICE_ID, None,
                   "Stage churn@1 and fraud@1")  # fmt: skip
    assert changes == [churn, *expected_fraud_history(landed)]


def test_history_reads_the_ref_asked_for(team: Team, landed: dict[str, str]) -> None:
    # Alice's origin/main is as fetched; history at her older main does not know the later changes
    git(team.alice, "branch", "--force", "old", landed["squash"])
    assert [c.commit for c in stage_history(repo_of(team), "old", "fraud")] == [
        landed["setup"],
        landed["github"],
        landed["gitlab"],
        landed["squash"],
    ]


def test_history_of_a_model_never_staged(team: Team, landed: dict[str, str]) -> None:
    assert stage_history(repo_of(team), "main", "ranker") == []
    assert stage_history(repo_of(team), "main", "fraud", "qa") == []


def test_history_of_a_ref_that_does_not_exist(team: Team) -> None:
    with pytest.raises(NotFoundError) as exc:
        stage_history(repo_of(team), "origin/nope")
    assert str(exc.value) == "'origin/nope' does not name a commit (fetch it first, or pass --ref)"


def test_a_branch_of_several_commits_lands_as_one_change(team: Team) -> None:
    """A pull request whose branch moved fraud 1 -> 2 -> 3 lands as one change, 1 -> 3, at its merge."""
    git(team.bob, "checkout", "--quiet", "-b", "bob/fraud")
    for number in (2, 3):
        (team.bob / "stages" / "staging.yaml").write_text(STAGING.replace("fraud: 1", f"fraud: {number}"))
        git_as(BOB, team.bob, "commit", "--quiet", "--all", "-m", f"fraud@{number} to staging")
    git(team.bob, "push", "--quiet", "origin", "bob/fraud")
    merged = team.forge.merge("bob/fraud", 21, CAROL, "github", "2026-03-01T12:00:00+00:00")
    git(team.alice, "fetch", "--quiet", "origin")
    [last] = stage_history(repo_of(team), "origin/main", "fraud")[-1:]
    assert (last.from_version, last.to_version, last.commit, last.pull_request) == (1, 3, merged, 21)
    assert (last.author, last.merged_by, last.direct_push) == (BOB_ID, CAROL_ID, False)


def test_a_model_leaving_a_stage(team: Team) -> None:
    result = run("archive", "churn@1", "--unstage", "--push", cwd=team.alice)
    assert result.exit_code == 0, result.stderr
    merged = team.forge.merge("gitreg/archive/churn-1", 30, CAROL, "gitlab", "2026-03-01T12:00:00+00:00")
    git(team.alice, "fetch", "--quiet", "origin")
    [last] = stage_history(repo_of(team), "origin/main", "churn")[-1:]
    assert (last.stage, last.from_version, last.to_version, last.commit, last.pull_request) == (
        "staging",
        1,
        None,
        merged,
        30,
    )


def test_a_merge_made_locally_and_pushed_is_a_direct_push(team: Team) -> None:
    """Bob merges his own branch into main on his machine and pushes main: no forge, no review. Only a
    forge's merge (which names its pull request) or a squash of a pull request counts as reviewed."""
    git(team.bob, "checkout", "--quiet", "-b", "bob/fraud")
    (team.bob / "stages" / "staging.yaml").write_text(STAGING.replace("fraud: 1", "fraud: 2"))
    git_as(BOB, team.bob, "commit", "--quiet", "--all", "-m", "fraud@2 to staging")
    git(team.bob, "checkout", "--quiet", "main")
    git_as(BOB, team.bob, "merge", "--quiet", "--no-ff", "-m", "Merge branch 'bob/fraud'", "bob/fraud")
    git(team.bob, "push", "--quiet", "origin", "main")
    git(team.alice, "fetch", "--quiet", "origin")
    [last] = stage_history(repo_of(team), "origin/main", "fraud")[-1:]
    assert (last.from_version, last.to_version, last.pull_request) == (1, 2, None)
    assert last.direct_push
    assert last.merged_by is None


# --- how a commit landed ----------------------------------------------------------------------------------


def landing(subject: str, body: str = "", parents: int = 1) -> Landing:
    return Landing("c" * 40, ["p" * 40] * parents, ALICE_ID, BOB_ID, SETUP_DATE, subject, body)


@pytest.mark.parametrize(
    ("subject", "body", "parents", "number"),
    [
        ("Merge pull request #12 from owner/gitreg/promote/fraud-2-staging", "Promote fraud@2", 2, 12),
        ("Merge branch 'gitreg/promote/fraud-2-staging' into 'main'",
         "Promote fraud@2 to staging\n\nSee merge request group/sub/reg!7", 2, 7),
        ("Merge branch 'x' into 'main'", "See merge request !8", 2, 8),
        ("Promote fraud@2 to staging (from 1) (#13)", "* Promote fraud@2 to staging (from 1)", 1, 13),
        ('Revert "Promote fraud@2 to staging (#13)" (#15)', "", 1, 15),
        ("Promote fraud@2 to staging (from 1)", "", 1, None),
        ("Merge branch 'bob/fraud'", "", 2, None),
    ],
)  # fmt: skip
def test_pull_request_number(subject: str, body: str, parents: int, number: int | None) -> None:
    assert claimed_pull_request(landing(subject, body, parents)) == number


def test_landings_carry_the_raw_changes_of_the_first_parent_diff(team: Team, landed: dict[str, str]) -> None:
    repo = repo_of(team)
    found = {item.commit: item for item in repo.first_parent_log("main", ["stages/"])}
    init = git(team.alice, "rev-list", "--max-parents=0", "main").strip()  # gitreg init adds stages/.gitkeep
    order = ("rollback", "invalid", "direct", "squash", "gitlab", "github", "setup")
    assert list(found) == [*(landed[k] for k in order), init]
    merge = found[landed["github"]]
    assert merge.is_merge and merge.parents[0] == landed["setup"]
    assert list(merge.changes) == ["stages/production.yaml"]
    old, new, status = merge.changes["stages/production.yaml"]
    assert (old, status) == ("0" * 40, "A")
    assert repo.read_blob(new) == b"fraud: 1\n"


# --- audit ------------------------------------------------------------------------------------------------


def test_audit_evidence(team: Team, landed: dict[str, str]) -> None:
    entries = audit(repo_of(team), "main")
    rows = [
        (
            e.change.stage,
            e.change.model,
            e.change.to_version,
            e.change.commit,
            e.digest,
            e.size,
            e.verdict,
            e.flags,
        )
        for e in entries
    ]
    fraud = {n: digest(team, "fraud", n) for n in (1, 2, 3)}
    assert rows == [
        ("staging", "churn", 1, landed["setup"], digest(team, "churn", 1), 204, "pass", ["direct-push"]),
        ("staging", "fraud", 1, landed["setup"], fraud[1], 201, "pass", ["direct-push"]),
        ("production", "fraud", 1, landed["github"], fraud[1], 201, "pass", []),
        ("staging", "fraud", 2, landed["gitlab"], fraud[2], 202, "pass", []),
        ("production", "fraud", 2, landed["squash"], fraud[2], 202, "pass", []),
        ("staging", "fraud", 1, landed["direct"], fraud[1], 201, "pass", ["direct-push"]),
        ("production", "fraud", 3, landed["invalid"], fraud[3], 203,
         "fail: stages/production.yaml:1:1: policy-field: fraud@3 has no description, "
         "which stage 'production' requires",
         ["direct-push", "invalid"]),
        ("production", "fraud", 2, landed["rollback"], fraud[2], 202, "pass", []),
    ]  # fmt: skip
    assert [e.change for e in entries if e.change.model == "fraud"] == expected_fraud_history(landed)


def test_audit_digest_is_the_bytes_that_went_live(team: Team, landed: dict[str, str]) -> None:
    art = team.work / "artifacts" / "fraud-2.bin"
    [entry] = [e for e in audit(repo_of(team), "main") if e.change.commit == landed["squash"]]
    assert entry.digest == "sha256:" + hashlib.sha256(art.read_bytes()).hexdigest()
    assert entry.size == art.stat().st_size


def test_audit_window(team: Team, landed: dict[str, str]) -> None:
    since = datetime(2026, 1, 12, tzinfo=UTC)
    until = datetime(2026, 1, 26, 10, 0, tzinfo=UTC)
    entries = audit(repo_of(team), "main", since, until)
    assert [e.change.commit for e in entries] == [landed["gitlab"], landed["squash"], landed["direct"]]
    # a rollback after the window is still judged by everything production held before it
    late = audit(repo_of(team), "main", datetime(2026, 2, 9, tzinfo=UTC))
    assert [(e.change.commit, e.verdict) for e in late] == [(landed["rollback"], "pass")]


def test_audit_until_is_inclusive(team: Team, landed: dict[str, str]) -> None:
    entries = audit(repo_of(team), "main", until=datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    assert [(e.change.model, e.change.commit) for e in entries] == [
        ("churn", landed["setup"]),
        ("fraud", landed["setup"]),
    ]
