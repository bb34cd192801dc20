"""gitreg retire over real registries whose history is dated: versions made and stages changed months
apart (GIT_COMMITTER_DATE), so the windows of archive_after and protect are exercised as they land on main."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitreg.layout import model_path, version_path
from testing import Unchanged, assert_error, git, run
from testing.dated import add_retention, commit_at, days_ago, model_text, set_stage, version_text
from testing.forge_server import ForgeServer, serve
from testing.synthetic import write_files

#: (days ago, version, created days ago, parent) of fraud's versions, and the stage changes between them.
FRAUD = [(400, 1, None), (380, 2, 1), (350, 3, None), (300, 4, 2), (250, 5, None), (200, 6, None), (10, 7, 6)]
STAGES = [
    (390, "production", 1),
    (370, "staging", 2),
    (340, "production", 3),
    (240, "staging", 5),
    (170, "production", 4),
    (5, "staging", 7),
]
POLICY = "  keep_last: 2\n  archive_after: 180d\n  protect: [production]\n  delete_archived_after: 365d\n"


def build(root: Path) -> None:
    """fraud@1..7 and churn@1..3 made on their days, the stage changes landed on theirs, with the policy."""
    add_retention(root, POLICY)
    write_files(root, {model_path("fraud"): model_text("fraud")})
    write_files(root, {model_path("churn"): model_text("churn", retention="  keep_last: 10\n")})
    commit_at(root, "policy", days_ago(500))
    for number in (1, 2, 3):
        write_files(root, {version_path("churn", number): version_text("churn", number, days_ago(450))})
    events = [(day, "v", number, parent) for day, number, parent in FRAUD]
    events += [(day, stage, number, None) for day, stage, number in STAGES]
    for day, what, number, parent in sorted(events, key=lambda e: -e[0]):
        if what == "v":
            text = version_text("fraud", number, days_ago(day), parent=parent)
            write_files(root, {version_path("fraud", number): text})
            commit_at(root, f"Register fraud@{number}", days_ago(day))
        else:
            set_stage(root, what, "fraud", number)
            commit_at(root, f"Promote fraud@{number} to {what}", days_ago(day))


@pytest.fixture
def dated(registry: Path) -> Path:
    build(registry)
    assert run("validate", cwd=registry).exit_code == 0
    return registry


def plan_json(root: Path, *args: str) -> Any:
    result = run("retire", "--dry-run", "--json", *args, cwd=root)
    assert result.exit_code == 0, result.stderr
    data: Any = json.loads(result.stdout)
    return data


def test_dry_run_finds_the_stale_versions_and_why(dated: Path) -> None:
    unchanged = Unchanged(dated)
    data = plan_json(dated)
    stale = {v["ref"]: v for v in data["stale"]}
    kept = {v["ref"]: v["reason"] for v in data["kept"]}
    # v1: production left it 340 days ago; v5: held by staging until 5 days ago, but staging is not protected
    assert sorted(stale) == ["fraud@1", "fraud@5"]
    assert stale["fraud@5"]["reason"].endswith("(staging is not protected)")
    assert stale["fraud@1"]["age_days"] == 400 and stale["fraud@1"]["size"] == 1000
    assert kept["fraud@4"] == "held by production"
    assert kept["fraud@3"].startswith("held by production until ")  # left 170 days ago: within 180d
    assert kept["fraud@2"] == "parent of fraud@4, which is kept"
    assert kept["fraud@7"] == kept["fraud@6"] == "among the newest 2 active (keep_last)"
    assert kept["churn@1"] == "among the newest 10 active (keep_last)"  # the model's own keep_last
    unchanged.check()
    text = run("retire", "--dry-run", cwd=dated)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[-1] == "2 versions to archive on main, 2.0 KiB recorded; 8 kept"


def test_retire_proposes_one_branch_that_validates(dated: Path) -> None:
    result = run("retire", cwd=dated)
    assert result.exit_code == 0, result.stderr
    branch = next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("branch "))
    assert branch.startswith("gitreg/retire/")
    changed = git(dated, "diff", "--name-only", "main", branch).split()
    assert changed == [version_path("fraud", 1), version_path("fraud", 5)]
    assert "status: archived" in git(dated, "show", f"{branch}:{version_path('fraud', 1)}")
    git(dated, "checkout", "--quiet", branch)
    checked = run("validate", "--base", "main", cwd=dated)
    assert checked.exit_code == 0, checked.stdout
    body = git(dated, "log", "-1", "--format=%B", branch)
    assert "- fraud@1: created 400d ago" in body
    # the plan on the branch itself: nothing more is stale
    assert plan_json(dated, "--base", branch)["stale"] == []
    git(dated, "checkout", "--quiet", "main")
    unchanged = Unchanged(dated)
    assert_error(
        run("retire", cwd=dated),
        3,
        f"branch {branch} already exists (delete it (git branch -D {branch}) or name another with --branch)",
    )
    unchanged.check()


def test_retire_one_model_and_push(dated: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(dated, "remote", "add", "origin", remote.as_uri())
    git(dated, "push", "--quiet", "origin", "main")
    result = run("retire", "--model", "fraud", "--push", cwd=dated)
    assert result.exit_code == 0, result.stderr
    assert "from origin/main" in result.stdout
    pushed = git(remote, "branch", "--list", "gitreg/retire/fraud-*").split()
    assert len(pushed) == 1
    assert plan_json(dated, "--model", "churn")["stale"] == []


def test_nothing_to_retire(registry: Path) -> None:
    unchanged = Unchanged(registry)
    result = run("retire", cwd=registry)
    assert (result.exit_code, result.stdout) == (0, "nothing to retire on main\n")
    unchanged.check()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "  archive_after: 6m\n",
            "registry.yaml:30:3: retention.archive_after: '6m' is not a retention period: months and "
            "years vary in length (and m would be minutes), so write days or weeks, such as 180d",
        ),
        (
            "  keep_last: 0\n",
            "registry.yaml:30:3: retention.keep_last: 0 is below 1: the newest version is always kept, "
            "so write 1 or more",
        ),
        (
            "  archive_after: 180d\n  protect: [prod]\n",
            "refused: retention: retention.protect names stage 'prod', which registry.yaml does not declare "
            "(declared: staging, production): name a declared stage, or leave it out",
        ),
    ],
)
def test_a_bad_policy_archives_nothing(registry: Path, block: str, message: str) -> None:
    add_retention(registry, block)
    git(registry, "commit", "--quiet", "-am", "policy")
    unchanged = Unchanged(registry)
    result = run("retire", cwd=registry)
    assert_error(result, 1 if message.startswith("refused") else 3, message)
    unchanged.check()


def test_a_bad_model_policy_archives_nothing(dated: Path) -> None:
    write_files(dated, {model_path("fraud"): model_text("fraud", retention="  delete_archived_after: 12\n")})
    git(dated, "commit", "--quiet", "-am", "model policy")
    unchanged = Unchanged(dated)
    result = run("retire", "--dry-run", cwd=dated)
    assert_error(
        result,
        3,
        "models/fraud/model.yaml:6:3: retention.delete_archived_after: '12' has no unit: "
        "write days or weeks, such as 12d",
    )
    unchanged.check()


def test_unknown_model_and_json_without_dry_run(dated: Path) -> None:
    assert run("retire", "--model", "nope", cwd=dated).exit_code == 3
    assert_error(run("retire", "--json", cwd=dated), 2, "--json prints the plan: use it with --dry-run")


def test_open_pr_lists_each_version_its_age_size_and_why(
    dated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(dated, "remote", "add", "origin", remote.as_uri())
    git(dated, "push", "--quiet", "origin", "main")
    with serve(ForgeServer(git_dir=remote)) as api:
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        monkeypatch.setenv("GITHUB_TOKEN", api.token)
        monkeypatch.setenv("GITHUB_REPOSITORY", "owner/reg")
        result = run("retire", "--open-pr", "--forge", "github", cwd=dated)
        assert result.exit_code == 0, result.stderr
        [request] = api.requests
    body = request.body
    assert body["title"] == "Retire 2 stale versions"
    assert body["base"] == "main" and body["head"].startswith("gitreg/retire/")
    lines = body["body"].splitlines()
    assert lines[2:4] == ["| version | age | size | why it is stale |", "|---|---|---|---|"]
    assert lines[4].startswith(
        "| `fraud@1` | 400d | 1000 bytes | created 400d ago, over archive_after 180d; "
    )
    assert lines[5].startswith("| `fraud@5` | 250d | 1000 bytes | ")
    assert "pull request #1 opened: https://github.com/owner/reg/pull/1" in result.stdout
