"""``gitreg.ops.promote`` and ``gitreg.ops.propose``: planning a promotion, rollback, archive or restore
against the base (the forge's main, fetched), and proposing it on a new branch without touching the user's
checkout.

The registry lives on a real bare repository (testing/forge_server.py); Alice and Bob work in their own
clones, and pull requests are merged inside the bare repository the way GitHub merges them."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitreg import ConflictError, GitregError, NotFoundError, UsageError
from gitreg.errors import RefusedError
from gitreg.gitrepo import GitRepo
from gitreg.ops.promote import Planned, plan_promotion, plan_rollback, plan_status
from gitreg.ops.propose import BaseRef, Proposed, propose, resolve_base
from testing import git, run, tree_state
from testing.forge_server import CAROL, CODE_COMMIT, READY, STAGING, MergeConflictError, Team


def base_of(checkout: Path) -> BaseRef:
    return resolve_base(GitRepo.open(checkout), None)


def promote(
    checkout: Path, ref: str, stage: str, *, push: bool = False, branch: str | None = None
) -> tuple[Planned, Proposed]:
    repo = GitRepo.open(checkout)
    base = resolve_base(repo, None)
    planned = plan_promotion(repo, base, ref, stage, branch)
    return planned, propose(repo, planned.change, base, push=push)


def show(checkout: Path, ref: str, path: str) -> str:
    return git(checkout, "show", f"{ref}:{path}")


def changed(checkout: Path, commit: str) -> list[str]:
    return git(checkout, "diff", "--name-only", f"{commit}~1", commit).split()


def message(checkout: Path, commit: str) -> str:
    return git(checkout, "log", "-1", "--format=%B", commit)


def checkout_state(checkout: Path) -> dict[str, Any]:
    """What the user sees of their checkout: branch, HEAD, index, status and every file's content."""
    return {
        "branch": git(checkout, "symbolic-ref", "--quiet", "HEAD"),
        "head": git(checkout, "rev-parse", "HEAD"),
        "index": git(checkout, "ls-files", "--stage"),
        "status": git(checkout, "status", "--porcelain", "--untracked-files=all"),
        "files": {k: v for k, v in tree_state(checkout).items() if k != ".git" and not k.startswith(".git/")},
    }


def repo_state(checkout: Path) -> dict[str, str]:
    """Every file of the checkout, ``.git`` included, with the index by its entries: ``git status`` may
    rewrite .git/index to refresh its cached file times, which changes nothing a user can see."""
    state = {k: v for k, v in tree_state(checkout).items() if k != ".git/index"}
    state[".git/index entries"] = git(checkout, "ls-files", "--stage")
    return state


def local_branches(checkout: Path) -> list[str]:
    return git(checkout, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split()


# --- promotion --------------------------------------------------------------------------------------------


def test_promotion_is_one_line_on_a_new_branch_from_the_forge_main(team: Team) -> None:
    # Alice is on a feature branch, with staged and unstaged work and an untracked file
    git(team.alice, "checkout", "--quiet", "-b", "alice/notes")
    (team.alice / "README.md").write_text("edited, not staged\n")
    (team.alice / "NOTES.md").write_text("untracked\n")
    (team.alice / "CODEOWNERS").write_text("* @risk-ml\n")
    git(team.alice, "add", "CODEOWNERS")
    before = checkout_state(team.alice)
    main = team.forge.rev("main")

    planned, proposed = promote(team.alice, "fraud@2", "staging")

    assert proposed.branch == "gitreg/promote/fraud-2-staging"
    assert proposed.base == BaseRef(str(main), "main", "origin/main")
    assert (planned.model, planned.version, planned.stage, planned.previous) == ("fraud", 2, "staging", 1)
    assert git(team.alice, "rev-parse", proposed.branch).strip() == proposed.commit
    assert git(team.alice, "rev-parse", f"{proposed.commit}~1").strip() == main
    assert changed(team.alice, proposed.commit) == ["stages/staging.yaml"]
    # order, comments and blank lines kept; one line changed
    assert show(team.alice, proposed.branch, "stages/staging.yaml") == STAGING.replace("fraud: 1", "fraud: 2")
    assert message(team.alice, proposed.commit) == (
        "Promote fraud@2 to staging (from 1)\n\n"
        "Gitreg-Model: fraud\nGitreg-Version: 2\nGitreg-Stage: staging\nGitreg-From-Version: 1\n\n"
    )
    trailers = "%(trailers:key=Gitreg-Model,key=Gitreg-Version,key=Gitreg-Stage,key=Gitreg-From-Version)"
    assert git(team.alice, "log", "-1", f"--format={trailers}", proposed.commit) == (
        "Gitreg-Model: fraud\nGitreg-Version: 2\nGitreg-Stage: staging\nGitreg-From-Version: 1\n\n"
    )  # real git trailers, as git interpret-trailers reads them
    assert git(team.alice, "log", "-1", "--format=%an <%ae>", proposed.commit) == (
        "Alice Archer <alice@example.com>\n"
    )
    assert checkout_state(team.alice) == before
    assert local_branches(team.alice) == ["alice/notes", "gitreg/promote/fraud-2-staging", "main"]
    assert not proposed.pushed
    assert team.forge.branches() == ["main"]


def test_first_promotion_into_a_stage_creates_its_file(team: Team) -> None:
    planned, proposed = promote(team.alice, "fraud@1", "production")
    assert planned.previous is None
    assert show(team.alice, proposed.branch, "stages/production.yaml") == "fraud: 1\n"
    assert changed(team.alice, proposed.commit) == ["stages/production.yaml"]
    assert message(team.alice, proposed.commit) == (
        "Promote fraud@1 to production\n\n"
        "Gitreg-Model: fraud\nGitreg-Version: 1\nGitreg-Stage: production\nGitreg-From-Version: none\n\n"
    )


def test_a_model_new_to_the_stage_goes_in_name_order_after_a_blank_line(team: Team) -> None:
    team.register(team.alice, "ranker", 9)
    _, proposed = promote(team.alice, "ranker@1", "staging")
    assert show(team.alice, proposed.branch, "stages/staging.yaml") == STAGING + "\nranker: 1\n"


def test_base_is_the_forge_main_as_fetched_now(team: Team) -> None:
    # Bob lands a change on main after Alice's last fetch
    team.register(team.bob, "churn", 5, *READY)
    bob_main = team.forge.rev("main")
    alice_main = git(team.alice, "rev-parse", "main").strip()
    assert bob_main != alice_main

    _, proposed = promote(team.alice, "churn@2", "staging")

    assert proposed.base == BaseRef(str(bob_main), "main", "origin/main")
    assert git(team.alice, "rev-parse", f"{proposed.commit}~1").strip() == bob_main
    assert git(team.alice, "rev-parse", "origin/main").strip() == bob_main
    assert git(team.alice, "rev-parse", "main").strip() == alice_main  # her main is not moved
    assert show(team.alice, proposed.branch, "stages/staging.yaml") == STAGING.replace("churn: 1", "churn: 2")


def test_base_is_local_main_without_a_remote(registry: Path, tmp_path: Path) -> None:
    art = tmp_path / "model.bin"
    art.write_bytes(b"weights")
    assert run("register", "fraud", art, cwd=registry).exit_code == 0
    git(registry, "checkout", "--quiet", "-b", "work")
    base = base_of(registry)
    assert base == BaseRef(git(registry, "rev-parse", "main").strip(), "main", "main")


def test_base_option_names_the_target_branch(team: Team) -> None:
    git(team.alice, "push", "--quiet", "origin", "main:release")
    repo = GitRepo.open(team.alice)
    git(team.alice, "fetch", "--quiet", "origin")
    assert resolve_base(repo, "origin/release") == BaseRef(
        str(team.forge.rev("release")), "release", "origin/release"
    )
    assert resolve_base(repo, "main").branch == "main"
    with pytest.raises(NotFoundError) as exc:
        resolve_base(repo, "origin/nope")
    assert str(exc.value) == "base='origin/nope' does not name a commit"


def test_pull_request_body_has_the_metric_deltas_and_the_lineage(team: Team) -> None:
    planned, _ = promote(team.alice, "fraud@2", "staging")
    digest = yaml.safe_load(show(team.alice, "main", "models/fraud/versions/2.yaml"))["artifact"]["digest"]
    assert planned.change.pr_body == (
        "This pull request promotes **fraud@2** in `staging`, replacing version 1.\n"
        "\n"
        "> Retrained on December data\n"
        "\n"
        "| metric | v1 | v2 | change |\n"
        "|---|---|---|---|\n"
        "| auc | 0.85 | 0.91 | +0.06 |\n"
        "| f1 | 0.7 | 0.72 | +0.02 |\n"
        "| latency_ms |  | 12 |  |\n"
        "\n"
        "**Lineage**\n"
        "\n"
        f"- Code: https://git.example.com/risk/train.git [{CODE_COMMIT[:12]}]"
        f"(https://git.example.com/risk/train/commit/{CODE_COMMIT})\n"
        "- Derived from version 1\n"
        "\n"
        f"Artifact: `fraud-2.bin` (file, 202 bytes), `{digest}`\n"
    )


def test_pull_request_body_of_a_first_promotion(team: Team) -> None:
    planned, _ = promote(team.alice, "fraud@1", "production")
    body = planned.change.pr_body
    assert body.startswith(
        "This pull request promotes **fraud@1** in `production`.\n\n> Retrained on November data\n\n"
        "| metric | v1 | change |\n|---|---|---|\n| auc | 0.85 |  |\n| f1 | 0.7 |  |\n\n"
    )
    assert (
        "**Lineage**\n\n"
        f"- Code: https://git.example.com/risk/train.git [{CODE_COMMIT[:12]}]"
        f"(https://git.example.com/risk/train/commit/{CODE_COMMIT}) train.py\n"
        f"- Data: s3://datasets/fraud/2026-10 (`sha256:{'ab' * 32}`)\n"
        "- Run: [run-8812](https://mlflow.example.com/runs/8812)\n\n"
    ) in body


def test_message_option_replaces_the_subject_only(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    planned = plan_promotion(repo, base, "fraud@2", "staging")
    planned.change.subject = "Ship the December fraud model"
    proposed = propose(repo, planned.change, base)
    assert message(team.alice, proposed.commit).startswith("Ship the December fraud model\n\nGitreg-Model:")


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "stage", "error", "text"),
    [
        ("fraud@2", "prod", NotFoundError,
         "stage 'prod' is not declared in registry.yaml (known: staging, production)"),
        ("fraud@9", "staging", NotFoundError, "fraud has no version 9 (it has versions 1..3)"),
        ("frod@1", "staging", NotFoundError, "model 'frod' is not in the registry (did you mean 'fraud'?)"),
        ("fraud", "staging", UsageError, "'fraud': promote a version, such as fraud@3"),
        ("fraud@1", "staging", UsageError, "fraud@1 is already in staging on origin/main"),
    ],
)  # fmt: skip
def test_refused_before_anything_is_written(
    team: Team, ref: str, stage: str, error: type[GitregError], text: str
) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    before = repo_state(team.alice)
    with pytest.raises(error) as exc:
        plan_promotion(repo, base, ref, stage)
    assert str(exc.value) == text
    assert repo_state(team.alice) == before


def test_refused_with_the_validator_findings(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    with pytest.raises(RefusedError) as exc:
        plan_promotion(repo, base, "fraud@3", "production")
    assert [str(f) for f in exc.value.findings] == [
        "stages/production.yaml:1:1: policy-field: fraud@3 has no description, "
        "which stage 'production' requires",
        "stages/production.yaml:1:1: policy-field: fraud@3 has no lineage.code.commit, "
        "which stage 'production' requires",
        "stages/production.yaml:1:1: stage-transition: fraud@3 must be in staging on the base before it "
        "enters production: promote it to staging first",
    ]
    assert exc.value.exit_code == 1
    assert str(exc.value) == (
        "refused: policy-field: fraud@3 has no description, which stage 'production' requires (and 2 more)"
    )


def test_branch_that_exists_is_refused(team: Team) -> None:
    git(team.alice, "branch", "gitreg/promote/fraud-2-staging")
    before = repo_state(team.alice)
    with pytest.raises(ConflictError) as exc:
        promote(team.alice, "fraud@2", "staging")
    assert str(exc.value) == (
        "branch gitreg/promote/fraud-2-staging already exists "
        "(delete it (git branch -D gitreg/promote/fraud-2-staging) or name another with branch=)"
    )
    assert repo_state(team.alice) == before


def test_invalid_branch_name_is_refused(team: Team) -> None:
    before = repo_state(team.alice)
    with pytest.raises(UsageError) as exc:
        promote(team.alice, "fraud@2", "staging", branch="promote..fraud")
    assert str(exc.value) == "'promote..fraud' is not a valid branch name"
    assert repo_state(team.alice) == before


def test_uncommitted_edit_of_the_stage_file_is_refused(team: Team) -> None:
    (team.alice / "stages" / "staging.yaml").write_text(STAGING.replace("fraud: 1", "fraud: 2"))
    before = repo_state(team.alice)
    with pytest.raises(ConflictError) as exc:
        promote(team.alice, "fraud@2", "staging")
    assert str(exc.value) == (
        "stages/staging.yaml has uncommitted changes (commit or stash them first; nothing was changed)"
    )
    assert repo_state(team.alice) == before
    assert local_branches(team.alice) == ["main"]


def test_staged_new_stage_file_is_refused(team: Team) -> None:
    (team.alice / "stages" / "production.yaml").write_text("fraud: 1\n")
    git(team.alice, "add", "stages/production.yaml")
    with pytest.raises(ConflictError) as exc:
        promote(team.alice, "fraud@1", "production")
    assert str(exc.value) == (
        "stages/production.yaml has uncommitted changes (commit or stash them first; nothing was changed)"
    )
    assert local_branches(team.alice) == ["main"]


def test_uncommitted_edits_elsewhere_are_allowed_and_kept(team: Team) -> None:
    """gitreg never touches the working tree: only uncommitted edits to the files a change rewrites could
    be a hand-made copy of it (or be lost in the user's mind behind it), so only those are refused."""
    (team.alice / "README.md").write_text("work in progress\n")
    (team.alice / "stages" / "scratch.txt").write_text("untracked, next to the stage files\n")
    before = checkout_state(team.alice)
    _, proposed = promote(team.alice, "fraud@2", "staging")
    assert changed(team.alice, proposed.commit) == ["stages/staging.yaml"]
    assert checkout_state(team.alice) == before


# --- push -------------------------------------------------------------------------------------------------


def test_push_puts_the_branch_on_the_forge(team: Team) -> None:
    _, proposed = promote(team.alice, "fraud@2", "staging", push=True)
    assert proposed.pushed
    assert team.forge.rev(proposed.branch) == proposed.commit
    assert team.forge.branches() == ["gitreg/promote/fraud-2-staging", "main"]


def test_push_the_remote_rejects_keeps_the_local_branch(team: Team) -> None:
    team.forge.reject_pushes("branch creation is restricted")
    with pytest.raises(GitregError) as exc:
        promote(team.alice, "fraud@2", "staging", push=True)
    text = str(exc.value)
    assert text.startswith("the remote refused the push of gitreg/promote/fraud-2-staging: ")
    assert text.endswith(
        "(the branch is kept locally; fix the cause and run: git push origin gitreg/promote/fraud-2-staging)"
    )
    # the one line carries the remote's reason, not only git's "failed to push some refs"
    assert "branch creation is restricted" in text
    assert exc.value.exit_code == 3
    assert local_branches(team.alice) == ["gitreg/promote/fraud-2-staging", "main"]
    assert team.forge.branches() == ["main"]


def test_push_without_a_remote(registry: Path, tmp_path: Path) -> None:
    art = tmp_path / "model.bin"
    art.write_bytes(b"weights")
    assert run("register", "fraud", art, cwd=registry).exit_code == 0
    repo = GitRepo.open(registry)
    base = resolve_base(repo, None)
    planned = plan_promotion(repo, base, "fraud@1", "staging")
    with pytest.raises(NotFoundError) as exc:
        propose(repo, planned.change, base, push=True)
    assert str(exc.value) == (
        "there is no remote 'origin' to push to (the branch gitreg/promote/fraud-1-staging is kept locally)"
    )
    assert local_branches(registry) == ["gitreg/promote/fraud-1-staging", "main"]


def test_open_pr_on_a_remote_of_no_known_forge(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    planned = plan_promotion(repo, base, "fraud@2", "staging")
    with pytest.raises(UsageError) as exc:
        propose(repo, planned.change, base, open_pr=True)
    assert str(exc.value) == (
        f"cannot tell which forge hosts {team.forge.url} "
        "(pass forge='github' or forge='gitlab'; the branch gitreg/promote/fraud-2-staging is pushed)"
    )
    assert team.forge.rev("gitreg/promote/fraud-2-staging") is not None


# --- rollback ---------------------------------------------------------------------------------------------


def land(team: Team, checkout: Path, ref: str, stage: str, number: int) -> None:
    """Promote ``ref`` to ``stage`` from ``checkout``, push, and have Carol merge the pull request; the
    merged branch is then deleted on the forge and in the checkout, as people tidy up."""
    _, proposed = promote(checkout, ref, stage, push=True)
    team.forge.merge(proposed.branch, number, CAROL)
    git(team.forge.bare, "branch", "--quiet", "-D", proposed.branch)
    git(checkout, "branch", "--quiet", "-D", proposed.branch)


def test_rollback_to_the_version_held_before(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    repo = GitRepo.open(team.bob)
    base = resolve_base(repo, None)
    planned = plan_rollback(repo, base, "fraud", "staging")
    assert (planned.version, planned.previous) == (1, 2)
    proposed = propose(repo, planned.change, base)
    assert proposed.branch == "gitreg/rollback/fraud-1-staging"
    assert show(team.bob, proposed.branch, "stages/staging.yaml") == STAGING
    assert message(team.bob, proposed.commit) == (
        "Roll back fraud in staging to 1 (from 2)\n\n"
        "Gitreg-Model: fraud\nGitreg-Version: 1\nGitreg-Stage: staging\nGitreg-From-Version: 2\n"
        "Gitreg-Rollback: true\n\n"
    )
    assert planned.change.pr_body.startswith(
        "This pull request rolls back **fraud@1** in `staging`, replacing version 2.\n"
    )


def test_rollback_goes_to_the_latest_other_version(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    land(team, team.alice, "fraud@1", "staging", 13)
    land(team, team.alice, "fraud@2", "staging", 14)
    repo = GitRepo.open(team.alice)
    planned = plan_rollback(repo, resolve_base(repo, None), "fraud", "staging")
    assert (planned.version, planned.previous) == (1, 2)


def test_rollback_to_a_version_held_earlier(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    land(team, team.alice, "fraud@3", "staging", 13)
    repo = GitRepo.open(team.alice)
    planned = plan_rollback(repo, resolve_base(repo, None), "fraud", "staging", to=1)
    assert (planned.version, planned.previous) == (1, 3)
    assert planned.change.branch == "gitreg/rollback/fraud-1-staging"


def test_rollback_of_production_skips_the_staging_requirement(team: Team) -> None:
    """Production held fraud@2 before; staging has moved on to fraud@1, yet the rollback is allowed."""
    land(team, team.alice, "fraud@2", "staging", 12)
    land(team, team.alice, "fraud@2", "production", 13)
    land(team, team.alice, "fraud@1", "staging", 14)
    land(team, team.alice, "fraud@1", "production", 15)
    repo = GitRepo.open(team.alice)
    planned = plan_rollback(repo, resolve_base(repo, None), "fraud", "production")
    assert (planned.version, planned.previous) == (2, 1)
    # a promotion of the same change is refused: production never held fraud@3 and staging does not
    with pytest.raises(RefusedError):
        plan_promotion(repo, resolve_base(repo, None), "fraud@3", "production")


def test_rollback_with_no_earlier_version(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    with pytest.raises(NotFoundError) as exc:
        plan_rollback(repo, resolve_base(repo, None), "fraud", "staging")
    assert str(exc.value) == "staging never held another version of fraud: there is nothing to roll back to"


def test_rollback_to_a_version_never_held(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    repo = GitRepo.open(team.alice)
    with pytest.raises(NotFoundError) as exc:
        plan_rollback(repo, resolve_base(repo, None), "fraud", "staging", to=3)
    assert str(exc.value) == "staging never held fraud@3 (it held 1, 2)"


def test_rollback_to_what_the_stage_holds(team: Team) -> None:
    land(team, team.alice, "fraud@2", "staging", 12)
    repo = GitRepo.open(team.alice)
    with pytest.raises(UsageError) as exc:
        plan_rollback(repo, resolve_base(repo, None), "fraud", "staging", to=2)
    assert str(exc.value) == "fraud@2 is what staging holds now"


# --- archive and restore ----------------------------------------------------------------------------------


def test_archive_changes_the_status_line_only(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    planned = plan_status(repo, base, "fraud@3", "archived")
    proposed = propose(repo, planned.change, base)
    assert proposed.branch == "gitreg/archive/fraud-3"
    assert changed(team.alice, proposed.commit) == ["models/fraud/versions/3.yaml"]
    diff = git(team.alice, "diff", "--unified=0", "main", proposed.branch)
    assert [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")] == [
        "-status: active",
        "+status: archived",
    ]
    assert message(team.alice, proposed.commit) == (
        "Archive fraud@3\n\nGitreg-Model: fraud\nGitreg-Version: 3\nGitreg-Status: archived\n\n"
    )


def test_archive_of_a_staged_version_needs_unstage(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    with pytest.raises(UsageError) as exc:
        plan_status(repo, base, "fraud@1", "archived")
    assert str(exc.value) == (
        "fraud@1 is in staging (pass unstage=True to remove it from those stages too, "
        "or promote another version first)"
    )


def test_archive_with_unstage_removes_the_stage_entries(team: Team) -> None:
    land(team, team.alice, "fraud@1", "production", 12)
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    planned = plan_status(repo, base, "fraud@1", "archived", unstage=True)
    proposed = propose(repo, planned.change, base)
    assert sorted(changed(team.alice, proposed.commit)) == [
        "models/fraud/versions/1.yaml",
        "stages/production.yaml",
        "stages/staging.yaml",
    ]
    assert show(team.alice, proposed.branch, "stages/staging.yaml") == (
        "# What the staging cluster serves.\nchurn: 1\n\n# fraud is retrained every week\n"
    )
    assert show(team.alice, proposed.branch, "stages/production.yaml") == ""
    assert message(team.alice, proposed.commit).startswith(
        "Archive fraud@1 and remove it from staging, production\n\n"
    )


def test_restore(team: Team) -> None:
    repo = GitRepo.open(team.alice)
    base = resolve_base(repo, None)
    planned = plan_status(repo, base, "fraud@3", "archived")
    team.forge.merge(propose(repo, planned.change, base, push=True).branch, 12, CAROL)
    base = resolve_base(repo, None)
    with pytest.raises(UsageError) as exc:
        plan_promotion(repo, base, "fraud@3", "staging")
    assert str(exc.value) == "fraud@3 is archived (restore it first: gitreg restore fraud@3)"
    planned = plan_status(repo, base, "fraud@3", "active")
    proposed = propose(repo, planned.change, base)
    assert proposed.branch == "gitreg/restore/fraud-3"
    assert show(team.alice, proposed.branch, "models/fraud/versions/3.yaml") == show(
        team.alice, "main", "models/fraud/versions/3.yaml"
    )
    assert message(team.alice, proposed.commit) == (
        "Restore fraud@3\n\nGitreg-Model: fraud\nGitreg-Version: 3\nGitreg-Status: active\n\n"
    )
    with pytest.raises(UsageError) as exc:
        plan_status(repo, base, "fraud@2", "active")
    assert str(exc.value) == "fraud@2 is already active"


# --- two users at once ------------------------------------------------------------------------------------


def test_concurrent_promotions_of_two_models_merge_cleanly(team: Team) -> None:
    _, alices = promote(team.alice, "fraud@2", "staging", push=True)
    team.register(team.bob, "churn", 5, *READY)  # Bob registers churn@2 and promotes it, not knowing
    _, bobs = promote(team.bob, "churn@2", "staging", push=True)
    assert bobs.base.commit != alices.base.commit
    team.forge.merge(alices.branch, 12, CAROL)
    team.forge.merge(bobs.branch, 13, CAROL)
    assert team.forge.show("main", "stages/staging.yaml") == (
        "# What the staging cluster serves.\nchurn: 2\n\n# fraud is retrained every week\nfraud: 2\n"
    )


def test_concurrent_promotions_of_adjacent_entries_merge_cleanly(team: Team) -> None:
    """Two models whose stage lines are next to each other, as gitreg itself writes them when it appends
    models, promoted at the same time from two clones: both pull requests must merge."""
    team.register(team.alice, "ranker", 7, *READY)
    team.register(team.alice, "ranker", 8, *READY)
    land(team, team.alice, "ranker@1", "staging", 11)  # appended after fraud: 1
    team.pull(team.bob)
    _, alices = promote(team.alice, "fraud@2", "staging", push=True)
    _, bobs = promote(team.bob, "ranker@2", "staging", push=True)
    team.forge.merge(alices.branch, 12, CAROL)
    team.forge.merge(bobs.branch, 13, CAROL)
    assert yaml.safe_load(team.forge.show("main", "stages/staging.yaml")) == {
        "churn": 1,
        "fraud": 2,
        "ranker": 2,
    }


def test_same_model_and_stage_the_second_is_proposed_again_from_the_new_main(team: Team) -> None:
    _, alices = promote(team.alice, "fraud@2", "staging", push=True)
    _, bobs = promote(team.bob, "fraud@3", "staging", push=True)
    team.forge.merge(alices.branch, 12, CAROL)
    with pytest.raises(MergeConflictError):
        team.forge.merge(bobs.branch, 13, CAROL)
    # a rebase cannot settle it: both changed the same line
    git(team.bob, "fetch", "--quiet", "origin")
    git(team.bob, "checkout", "--quiet", bobs.branch)
    with pytest.raises(subprocess.CalledProcessError) as failed:
        git(team.bob, "rebase", "origin/main")
    assert "CONFLICT (content): Merge conflict in stages/staging.yaml" in failed.value.stdout
    git(team.bob, "rebase", "--abort")
    git(team.bob, "checkout", "--quiet", "main")
    # proposing it again from the new main does: one line, from 2 to 3, pushed over the old branch
    git(team.bob, "branch", "-D", bobs.branch)
    _, again = promote(team.bob, "fraud@3", "staging")
    assert again.base.commit == team.forge.rev("main")
    assert "Gitreg-From-Version: 2\n" in message(team.bob, again.commit)
    git(team.bob, "push", "--quiet", "--force-with-lease", "origin", again.branch)
    team.forge.merge(again.branch, 13, CAROL)
    assert team.forge.show("main", "stages/staging.yaml") == STAGING.replace("fraud: 1", "fraud: 3")


def test_a_stage_change_that_landed_meanwhile_is_the_new_from_version(team: Team) -> None:
    land(team, team.bob, "fraud@2", "staging", 12)
    planned, proposed = promote(team.alice, "fraud@3", "staging")
    assert planned.previous == 2
    assert proposed.base.commit == team.forge.rev("main")
    assert "Gitreg-From-Version: 2\n" in message(team.alice, proposed.commit)
