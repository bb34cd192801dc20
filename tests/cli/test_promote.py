"""``gitreg promote``, ``rollback``, ``archive``, ``restore`` (and ``register --branch``) on the command line:
what they print, the branch they push, the pull request they open through GitHub's or GitLab's REST API
(a local HTTP server speaking it, testing/forge_server.py), and for every bad input one exact ``error:`` line,
its exit code, and a checkout and forge left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing import Result, assert_error, git, run, tree_state, write_bytes
from testing.forge_server import (
    CAROL,
    CODE_COMMIT,
    READY,
    STAGING,
    ForgeServer,
    Team,
    serve,
)

BRANCH = "gitreg/promote/fraud-2-staging"
FORGE_VARIABLES = (
    "GITHUB_TOKEN",
    "GITHUB_API_URL",
    "GITHUB_REPOSITORY",
    "GITLAB_TOKEN",
    "CI_API_V4_URL",
    "CI_PROJECT_PATH",
)


@pytest.fixture(autouse=True)
def no_forge_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the forge's variables they mean; none comes from the machine (a CI runner has some)."""
    for name in FORGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api(team: Team) -> Iterator[ForgeServer]:
    """The forge's REST API; a pull request's head must be a branch pushed to the team's forge."""
    with serve(ForgeServer(git_dir=team.forge.bare)) as server:
        yield server


@pytest.fixture
def github(api: ForgeServer, monkeypatch: pytest.MonkeyPatch) -> ForgeServer:
    monkeypatch.setenv("GITHUB_API_URL", api.url)
    monkeypatch.setenv("GITHUB_TOKEN", api.token)
    monkeypatch.setenv("GITHUB_REPOSITORY", "owner/reg")
    return api


@pytest.fixture
def gitlab(api: ForgeServer, monkeypatch: pytest.MonkeyPatch) -> ForgeServer:
    monkeypatch.setenv("CI_API_V4_URL", f"{api.url}/api/v4")
    monkeypatch.setenv("GITLAB_TOKEN", api.token)
    monkeypatch.setenv("CI_PROJECT_PATH", "group/reg")
    return api


def ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def sha(checkout: Path, ref: str) -> str:
    return git(checkout, "rev-parse", ref).strip()


def branches(checkout: Path) -> list[str]:
    return git(checkout, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split()


def repo_state(checkout: Path) -> dict[str, str]:
    """Every file of the checkout, ``.git`` included, with the index by its entries: ``git status`` may
    rewrite .git/index to refresh its cached file times, which changes nothing a user can see."""
    state = {k: v for k, v in tree_state(checkout).items() if k != ".git/index"}
    state[".git/index entries"] = git(checkout, "ls-files", "--stage")
    return state


class Unchanged:
    """The checkout (``.git`` included) and the forge's branches, to compare after a refusal."""

    def __init__(self, team: Team, checkout: Path) -> None:
        self.team = team
        self.checkout = checkout
        self.before = (repo_state(checkout), team.forge.branches())

    def check(self) -> None:
        assert (repo_state(self.checkout), self.team.forge.branches()) == self.before


def promoted(team: Team, commit: str, branch: str = BRANCH, base: str = "origin/main") -> str:
    return f"branch {branch} (commit {commit[:12]}) from {base}\n"


# --- promote ----------------------------------------------------------------------------------------------


def test_promote_prints_the_branch_and_what_to_do_next(team: Team) -> None:
    (team.alice / "README.md").write_text("unrelated work in progress\n")
    status = git(team.alice, "status", "--porcelain", "--untracked-files=all")
    head = sha(team.alice, "HEAD")
    out = ok("promote", "fraud@2", "--to", "staging", cwd=team.alice)
    commit = sha(team.alice, BRANCH)
    assert out == promoted(team, commit) + (
        f"next: git push origin {BRANCH}, then open a pull request (or rerun with --open-pr)\n"
    )
    assert git(team.alice, "show", f"{BRANCH}:stages/staging.yaml") == STAGING.replace("fraud: 1", "fraud: 2")
    assert git(team.alice, "log", "-1", "--format=%B", BRANCH) == (
        "Promote fraud@2 to staging (from 1)\n\n"
        "Gitreg-Model: fraud\nGitreg-Version: 2\nGitreg-Stage: staging\nGitreg-From-Version: 1\n\n"
    )
    assert (sha(team.alice, "HEAD"), git(team.alice, "symbolic-ref", "--short", "HEAD")) == (head, "main\n")
    assert git(team.alice, "status", "--porcelain", "--untracked-files=all") == status
    assert (team.alice / "stages" / "staging.yaml").read_text() == STAGING


def test_branch_and_message_options(team: Team) -> None:
    out = ok(
        "promote", "fraud@2", "--to", "staging", "--branch", "alice/fraud-2", "--message", "Ship it",
        cwd=team.alice,
    )  # fmt: skip
    assert out.startswith(promoted(team, sha(team.alice, "alice/fraud-2"), "alice/fraud-2"))
    assert git(team.alice, "log", "-1", "--format=%B", "alice/fraud-2").startswith("Ship it\n\nGitreg-Model:")


def test_push(team: Team) -> None:
    out = ok("promote", "fraud@2", "--to", "staging", "--push", cwd=team.alice)
    commit = sha(team.alice, BRANCH)
    assert out == promoted(team, commit) + f"pushed {BRANCH} to origin\n"
    assert team.forge.rev(BRANCH) == commit


def test_base_option(team: Team) -> None:
    main = sha(team.alice, "main")
    team.register(team.bob, "churn", 5, *READY)  # the forge's main moves on; --base main ignores it
    out = ok("promote", "churn@1", "--to", "production", "--base", "main", cwd=team.alice)
    commit = sha(team.alice, "gitreg/promote/churn-1-production")
    assert out.startswith(promoted(team, commit, "gitreg/promote/churn-1-production", "main"))
    assert sha(team.alice, f"{commit}~1") == main


# --- opening the pull request -----------------------------------------------------------------------------


def test_open_pr_on_github(team: Team, github: ForgeServer) -> None:
    out = ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "github", cwd=team.alice)
    assert out == (
        promoted(team, sha(team.alice, BRANCH))
        + f"pushed {BRANCH} to origin\n"
        + "pull request #1 opened: https://github.com/owner/reg/pull/1\n"
    )
    [request] = github.requests
    assert (request.method, request.path, request.query) == ("POST", "/repos/owner/reg/pulls", {})
    assert request.headers["authorization"] == f"Bearer {github.token}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["content-type"] == "application/json"
    body = request.body
    assert (body["title"], body["head"], body["base"]) == (
        "Promote fraud@2 to staging (from 1)",
        BRANCH,
        "main",
    )
    assert body["body"].startswith(
        "This pull request promotes **fraud@2** in `staging`, replacing version 1.\n"
    )
    assert "| metric | v1 | v2 | change |\n|---|---|---|---|\n| auc | 0.85 | 0.91 | +0.06 |\n" in body["body"]
    assert (
        f"**Lineage**\n\n- Code: https://git.example.com/risk/train.git [{CODE_COMMIT[:12]}]"
        f"(https://git.example.com/risk/train/commit/{CODE_COMMIT})\n- Derived from version 1\n"
    ) in body["body"]
    assert team.forge.rev(BRANCH) == sha(team.alice, BRANCH)


def test_open_pr_title_is_the_message(team: Team, github: ForgeServer) -> None:
    ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "github", "--message", "Ship it",
       cwd=team.alice)  # fmt: skip
    assert github.posts()[0].body["title"] == "Ship it"


def test_open_pr_on_github_enterprise(
    team: Team, github: ForgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", f"{github.url}/api/v3/")
    ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "github", cwd=team.alice)
    assert [(r.method, r.path) for r in github.requests] == [("POST", "/api/v3/repos/owner/reg/pulls")]


def test_open_pr_without_github_repository_uses_the_remote_path(
    team: Team, github: ForgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY")
    ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "github", cwd=team.alice)
    assert [r.path for r in github.requests] == ["/repos/owner/reg/pulls"]  # .../forge/owner/reg.git


def test_open_pr_on_gitlab(team: Team, gitlab: ForgeServer) -> None:
    out = ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "gitlab", cwd=team.alice)
    assert out.endswith(
        f"pushed {BRANCH} to origin\n"
        "pull request #1 opened: https://gitlab.example.com/group/reg/-/merge_requests/1\n"
    )
    [request] = gitlab.requests
    assert (request.method, request.path) == ("POST", "/api/v4/projects/group%2Freg/merge_requests")
    assert request.headers["private-token"] == gitlab.token
    assert "authorization" not in request.headers
    body = request.body
    assert (body["title"], body["source_branch"], body["target_branch"]) == (
        "Promote fraud@2 to staging (from 1)",
        BRANCH,
        "main",
    )
    assert "| auc | 0.85 | 0.91 | +0.06 |\n" in body["description"]
    assert "**Lineage**\n" in body["description"]


def test_open_pr_without_a_token_prints_where_to_open_it(
    team: Team, github: ForgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    result = run("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "github", cwd=team.alice)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "no GITHUB_TOKEN set: open the pull request at "
        f"https://github.com/owner/reg/compare/main...{BRANCH}?expand=1\n"
    )
    assert result.stdout == promoted(team, sha(team.alice, BRANCH)) + f"pushed {BRANCH} to origin\n"
    assert github.requests == []
    assert team.forge.rev(BRANCH) is not None


def test_open_mr_without_a_token_prints_where_to_open_it(
    team: Team, gitlab: ForgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITLAB_TOKEN")
    result = run("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "gitlab", cwd=team.alice)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "no GITLAB_TOKEN set: open the pull request at https://gitlab.com/group/reg/-/merge_requests/new?"
        "merge_request%5Bsource_branch%5D=gitreg%2Fpromote%2Ffraud-2-staging"
        "&merge_request%5Btarget_branch%5D=main\n"
    )
    assert gitlab.requests == []


def test_pull_request_already_open_on_github(team: Team, github: ForgeServer) -> None:
    number = github.add_pull(BRANCH)  # opened by hand from the URL of an earlier run
    out = ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "github", cwd=team.alice)
    assert out.endswith(f"pull request #{number} already open: https://github.com/owner/reg/pull/{number}\n")
    post, get = github.requests
    assert (post.method, get.method, get.path) == ("POST", "GET", "/repos/owner/reg/pulls")
    assert get.query == {"head": f"owner:{BRANCH}", "base": "main", "state": "open", "per_page": "100"}
    assert get.headers["authorization"] == f"Bearer {github.token}"


def test_merge_request_already_open_on_gitlab(team: Team, gitlab: ForgeServer) -> None:
    iid = gitlab.add_merge_request(BRANCH)
    out = ok("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "gitlab", cwd=team.alice)
    assert out.endswith(
        f"pull request #{iid} already open: https://gitlab.example.com/group/reg/-/merge_requests/{iid}\n"
    )
    post, get = gitlab.requests
    assert (post.method, get.method, get.path) == (
        "POST",
        "GET",
        "/api/v4/projects/group%2Freg/merge_requests",
    )
    assert get.query == {
        "source_branch": BRANCH,
        "target_branch": "main",
        "state": "opened",
        "per_page": "100",
    }


def forge_error(team: Team, forge: str) -> Result:
    result = run("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", forge, cwd=team.alice)
    # the branch was pushed before the forge was asked: it stays, for the pull request opened by hand
    assert team.forge.rev(BRANCH) == sha(team.alice, BRANCH)
    return result


def test_github_bad_token(team: Team, github: ForgeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "expired")
    result = forge_error(team, "github")
    assert_error(result, 3, "GitHub answered 401: Bad credentials (check the token in GITHUB_TOKEN)")
    assert github.requests[0].headers["authorization"] == "Bearer expired"


def test_github_token_without_permission(team: Team, github: ForgeServer) -> None:
    github.refuse(403)
    assert_error(
        forge_error(team, "github"),
        3,
        "GitHub answered 403: Resource not accessible by personal access token "
        "(the token in GITHUB_TOKEN lacks permission to open pull requests in owner/reg)",
    )


def test_github_422_already_exists_but_not_found(team: Team, github: ForgeServer) -> None:
    github.refuse(422)  # "already exists", yet the list of open pull requests has none for the branch
    assert_error(
        forge_error(team, "github"),
        3,
        f"GitHub answered 422: Validation Failed; A pull request already exists for owner:{BRANCH}.",
    )
    assert [r.method for r in github.requests] == ["POST", "GET"]


def test_github_422_other_validation_error(team: Team, github: ForgeServer) -> None:
    error = {"resource": "PullRequest", "code": "custom", "message": f"No commits between main and {BRANCH}"}
    github.refuse(422, {"message": "Validation Failed", "errors": [error]})
    assert_error(
        forge_error(team, "github"),
        3,
        f"GitHub answered 422: Validation Failed; No commits between main and {BRANCH}",
    )
    assert [r.method for r in github.requests] == ["POST"]


def test_gitlab_bad_token(team: Team, gitlab: ForgeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "expired")
    assert_error(
        forge_error(team, "gitlab"),
        3,
        "GitLab answered 401: 401 Unauthorized (check the token in GITLAB_TOKEN)",
    )


def test_gitlab_token_without_permission(team: Team, gitlab: ForgeServer) -> None:
    gitlab.refuse(403)
    assert_error(
        forge_error(team, "gitlab"),
        3,
        "GitLab answered 403: 403 Forbidden "
        "(the token in GITLAB_TOKEN lacks permission to open pull requests in group/reg)",
    )


def test_forge_unreachable(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(ForgeServer()) as gone:
        url = gone.url
    monkeypatch.setenv("GITHUB_API_URL", url)
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    result = forge_error(team, "github")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: cannot reach GitHub at {url}: ")
    assert result.stderr.count("\n") == 1


def test_open_pr_on_a_remote_of_no_known_forge(team: Team) -> None:
    result = run("promote", "fraud@2", "--to", "staging", "--open-pr", cwd=team.alice)
    assert_error(
        result,
        2,
        f"cannot tell which forge hosts {team.forge.url} "
        f"(pass --forge github or --forge gitlab; the branch {BRANCH} is pushed)",
    )
    assert team.forge.rev(BRANCH) is not None


def test_unknown_forge_option(team: Team) -> None:
    unchanged = Unchanged(team, team.alice)
    result = run("promote", "fraud@2", "--to", "staging", "--open-pr", "--forge", "gitea", cwd=team.alice)
    assert result.exit_code == 2
    assert "Invalid value for '--forge': 'gitea' is not one of 'github', 'gitlab'." in result.stderr
    unchanged.check()


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("fraud@2", "--to", "qa"), 3,
         "stage 'qa' is not declared in registry.yaml (known: staging, production)"),
        (("fraud@7", "--to", "staging"), 3, "fraud has no version 7 (it has versions 1..3)"),
        (("fraud@1", "--to", "staging"), 2, "fraud@1 is already in staging on origin/main"),
        (("fraud@latest", "--to", "staging"), 2, "'fraud@latest': promote a version, such as fraud@3"),
        (("fraud@3", "--to", "production"), 1,
         "refused: policy-field: fraud@3 has no description, which stage 'production' requires (and 2 more)"),
        (("fraud@2", "--to", "production"), 1,
         "refused: stage-transition: fraud@2 must be in staging on the base before it enters production: "
         "promote it to staging first"),
    ],
)  # fmt: skip
def test_promote_refused(team: Team, args: tuple[str, ...], code: int, message: str) -> None:
    unchanged = Unchanged(team, team.alice)
    assert_error(run("promote", *args, "--push", cwd=team.alice), code, message)
    assert run("promote", *args, cwd=team.alice).stdout == ""
    unchanged.check()


def test_promote_of_a_version_registered_but_not_pushed(team: Team) -> None:
    """The version is on Alice's main, not on the forge's main that the pull request targets: the refusal
    must say where gitreg looked, not only that the version does not exist."""
    assert team.register(team.alice, "fraud", 5, *READY, push=False) == "fraud@4"
    unchanged = Unchanged(team, team.alice)
    result = run("promote", "fraud@4", "--to", "staging", cwd=team.alice)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: fraud has no version 4")
    assert "origin/main" in result.stderr
    unchanged.check()


def test_promote_of_an_archived_version(team: Team) -> None:
    text = (
        (team.alice / "models/fraud/versions/3.yaml")
        .read_text()
        .replace("status: active", "status: archived")
    )
    team.commit(team.alice, {"models/fraud/versions/3.yaml": text}, "Archive fraud@3")
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("promote", "fraud@3", "--to", "staging", cwd=team.alice),
        2,
        "fraud@3 is archived (restore it first: gitreg restore fraud@3)",
    )
    unchanged.check()


def test_policy_metric_threshold_from_registry_yaml(team: Team) -> None:
    config = (team.alice / "registry.yaml").read_text()
    assert "      metrics: {}\n" in config
    team.commit(
        team.alice,
        {"registry.yaml": config.replace("      metrics: {}\n", '      metrics: {auc: ">= 0.9"}\n')},
        "Production needs auc >= 0.9",
    )
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("promote", "fraud@1", "--to", "production", cwd=team.alice),
        1,
        "refused: policy-metric: fraud@1 has auc=0.85; stage 'production' requires auc >= 0.9",
    )
    unchanged.check()
    # churn@1 has no auc at all
    assert_error(
        run("promote", "churn@1", "--to", "production", cwd=team.alice),
        1,
        "refused: policy-metric: churn@1 has no metric 'auc'; stage 'production' requires auc >= 0.9",
    )
    unchanged.check()


def test_required_stage_is_judged_on_the_base_not_the_checkout(team: Team) -> None:
    """fraud@2 is in staging in Alice's working tree and even committed on her main, but not on the
    forge's main, which the pull request will merge into."""
    staged = STAGING.replace("fraud: 1", "fraud: 2")
    team.commit(team.alice, {"stages/staging.yaml": staged}, "Stage fraud@2 (not pushed)", push=False)
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("promote", "fraud@2", "--to", "production", cwd=team.alice),
        1,
        "refused: stage-transition: fraud@2 must be in staging on the base before it enters production: "
        "promote it to staging first",
    )
    unchanged.check()


def test_dirty_stage_file_is_refused(team: Team) -> None:
    (team.alice / "stages" / "staging.yaml").write_text(STAGING + "ranker: 1\n")
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("promote", "fraud@2", "--to", "staging", "--push", cwd=team.alice),
        3,
        "stages/staging.yaml has uncommitted changes (commit or stash them first; nothing was changed)",
    )
    unchanged.check()


def test_dirty_unrelated_file_is_allowed(team: Team) -> None:
    (team.alice / "README.md").write_text("draft\n")
    (team.alice / "models" / "fraud" / "versions" / "3.yaml").write_text("being edited\n")
    ok("promote", "fraud@2", "--to", "staging", cwd=team.alice)
    assert (team.alice / "README.md").read_text() == "draft\n"
    assert (team.alice / "models" / "fraud" / "versions" / "3.yaml").read_text() == "being edited\n"


def test_branch_that_exists(team: Team) -> None:
    git(team.alice, "branch", BRANCH)
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("promote", "fraud@2", "--to", "staging", "--push", cwd=team.alice),
        3,
        f"branch {BRANCH} already exists (delete it (git branch -D {BRANCH}) or name another with --branch)",
    )
    unchanged.check()


def test_push_the_remote_rejects(team: Team) -> None:
    team.forge.reject_pushes("pushes are frozen for the release")
    result = run("promote", "fraud@2", "--to", "staging", "--push", cwd=team.alice)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: the remote refused the push of {BRANCH}: ")
    assert result.stderr.endswith(
        f" (the branch is kept locally; fix the cause and run: git push origin {BRANCH})\n"
    )
    assert "pushes are frozen for the release" in result.stderr  # why, in the remote's own words
    assert branches(team.alice) == [BRANCH, "main"]
    assert team.forge.branches() == ["main"]


def test_forge_unreachable_for_the_fetch(team: Team) -> None:
    git(team.alice, "remote", "set-url", "origin", (team.work / "gone.git").as_uri())
    unchanged = Unchanged(team, team.alice)
    result = run("promote", "fraud@2", "--to", "staging", cwd=team.alice)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: git fetch origin main failed: fatal: ")
    assert result.stderr.endswith(" (check the remote and your access to it)\n")
    assert result.stderr.count("\n") == 1
    unchanged.check()
    # offline, --base names what to start from
    out = ok("promote", "fraud@2", "--to", "staging", "--base", "main", cwd=team.alice)
    assert out.startswith(promoted(team, sha(team.alice, BRANCH), base="main"))


def test_promote_from_a_detached_head(team: Team) -> None:
    git(team.alice, "checkout", "--quiet", "--detach", "HEAD~1")
    head = sha(team.alice, "HEAD")
    ok("promote", "fraud@2", "--to", "staging", cwd=team.alice)
    assert sha(team.alice, f"{BRANCH}~1") == team.forge.rev("main")
    assert sha(team.alice, "HEAD") == head
    assert git(team.alice, "status", "--porcelain", "--untracked-files=all") == ""


def test_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_error(
        run("promote", "fraud@2", "--to", "staging", cwd=tmp_path / "empty"),
        3,
        f"{tmp_path / 'empty'} is not inside a git repository "
        "(run gitreg inside a registry checkout, or pass -C DIR)",
    )


# --- rollback ---------------------------------------------------------------------------------------------


def land(team: Team, checkout: Path, ref: str, stage: str, number: int) -> None:
    out = ok("promote", ref, "--to", stage, "--push", cwd=checkout)
    branch = out.split()[1]
    team.forge.merge(branch, number, CAROL)
    git(team.forge.bare, "branch", "--quiet", "-D", branch)
    git(checkout, "branch", "--quiet", "-D", branch)


def test_rollback(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    out = ok("rollback", "fraud", "--stage", "staging", "--push", cwd=team.bob)
    branch = "gitreg/rollback/fraud-1-staging"
    assert out == promoted(team, sha(team.bob, branch), branch) + f"pushed {branch} to origin\n"
    assert team.forge.show(branch, "stages/staging.yaml") == STAGING
    assert git(team.bob, "log", "-1", "--format=%s", branch) == "Roll back fraud in staging to 1 (from 2)\n"


def test_rollback_to(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    land(team, team.alice, "fraud@3", "staging", 13)
    ok("rollback", "fraud", "--stage", "staging", "--to", "1", cwd=team.alice)
    assert git(team.alice, "show", "gitreg/rollback/fraud-1-staging:stages/staging.yaml") == STAGING


def test_rollback_refusals(team: Team) -> None:
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("rollback", "fraud", "--stage", "staging", cwd=team.alice),
        3,
        "staging never held another version of fraud: there is nothing to roll back to",
    )
    assert_error(
        run("rollback", "fraud", "--stage", "staging", "--to", "2", cwd=team.alice),
        3,
        "staging never held fraud@2 (it held 1)",
    )
    assert_error(
        run("rollback", "fraud", "--stage", "production", cwd=team.alice),
        3,
        "production never held another version of fraud: there is nothing to roll back to",
    )
    assert_error(
        run("rollback", "fraud", "--stage", "qa", cwd=team.alice),
        3,
        "stage 'qa' is not declared in registry.yaml (known: staging, production)",
    )
    assert_error(
        run("rollback", "ghost", "--stage", "staging", cwd=team.alice),
        3,
        "model 'ghost' is not in the registry (known: churn, fraud)",
    )
    unchanged.check()
    result = run("rollback", "fraud", "--stage", "staging", "--to", "0", cwd=team.alice)
    assert result.exit_code == 2
    assert "Invalid value for '--to': '0' is not a version number: write plain decimal digits, such as 3" in (
        result.stderr
    )
    unchanged.check()


# --- archive and restore ----------------------------------------------------------------------------------


def test_archive_and_restore(team: Team) -> None:
    out = ok("archive", "fraud@3", "--push", cwd=team.alice)
    assert out == promoted(team, sha(team.alice, "gitreg/archive/fraud-3"), "gitreg/archive/fraud-3") + (
        "pushed gitreg/archive/fraud-3 to origin\n"
    )
    team.forge.merge("gitreg/archive/fraud-3", 12, CAROL)
    archived = team.forge.show("main", "models/fraud/versions/3.yaml")
    original = git(team.alice, "show", "main:models/fraud/versions/3.yaml")
    assert archived == original.replace("status: active\n", "status: archived\n")
    assert_error(run("archive", "fraud@3", cwd=team.alice), 2, "fraud@3 is already archived")
    out = ok("restore", "fraud@3", cwd=team.alice)
    assert out.startswith(promoted(team, sha(team.alice, "gitreg/restore/fraud-3"), "gitreg/restore/fraud-3"))
    assert git(team.alice, "show", "gitreg/restore/fraud-3:models/fraud/versions/3.yaml") == original


def test_archive_of_a_staged_version(team: Team) -> None:
    unchanged = Unchanged(team, team.alice)
    assert_error(
        run("archive", "fraud@1", cwd=team.alice),
        2,
        "fraud@1 is in staging (pass --unstage to remove it from those stages too, "
        "or promote another version first)",
    )
    unchanged.check()
    ok("archive", "fraud@1", "--unstage", cwd=team.alice)
    branch = "gitreg/archive/fraud-1"
    assert git(team.alice, "show", f"{branch}:stages/staging.yaml") == (
        "# What the staging cluster serves.\nchurn: 1\n\n# fraud is retrained every week\n"
    )
    assert (
        git(team.alice, "log", "-1", "--format=%s", branch) == "Archive fraud@1 and remove it from staging\n"
    )
    assert git(team.alice, "diff", "--name-only", "main", branch).split() == [
        "models/fraud/versions/1.yaml",
        "stages/staging.yaml",
    ]


def test_restore_of_an_active_version(team: Team) -> None:
    assert_error(run("restore", "fraud@2", cwd=team.alice), 2, "fraud@2 is already active")
    assert_error(run("restore", "fraud", cwd=team.alice), 2, "'fraud': name a version, such as fraud@3")


# --- register --branch: the same plumbing ------------------------------------------------------------------


def test_register_on_a_branch_leaves_the_checkout_alone(team: Team, tmp_path: Path) -> None:
    git(team.alice, "checkout", "--quiet", "-b", "alice/notes")
    (team.alice / "README.md").write_text("draft\n")
    (team.alice / "NOTES.md").write_text("untracked\n")
    before = {k: v for k, v in tree_state(team.alice).items() if not k.startswith(".git")}
    status = git(team.alice, "status", "--porcelain", "--untracked-files=all")
    head = sha(team.alice, "HEAD")
    art = write_bytes(tmp_path / "fraud-4.bin", 500, 4)
    out = ok("register", "fraud", art, "--branch", "gitreg/register/fraud-4", *READY, cwd=team.alice)
    assert out == "fraud@4\n"
    assert sha(team.alice, "gitreg/register/fraud-4~1") == head
    assert git(team.alice, "diff", "--name-only", head, "gitreg/register/fraud-4").split() == [
        "models/fraud/versions/4.yaml"
    ]
    assert {k: v for k, v in tree_state(team.alice).items() if not k.startswith(".git")} == before
    assert git(team.alice, "status", "--porcelain", "--untracked-files=all") == status
    assert (sha(team.alice, "HEAD"), git(team.alice, "symbolic-ref", "--short", "HEAD")) == (
        head,
        "alice/notes\n",
    )
    # and the version it adds can be promoted once that branch is merged
    git(team.alice, "push", "--quiet", "origin", "gitreg/register/fraud-4")
    team.forge.merge("gitreg/register/fraud-4", 20, CAROL)
    ok("promote", "fraud@4", "--to", "staging", cwd=team.alice)
    assert git(team.alice, "show", "gitreg/promote/fraud-4-staging:stages/staging.yaml") == STAGING.replace(
        "fraud: 1", "fraud: 4"
    )
