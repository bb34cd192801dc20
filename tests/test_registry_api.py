"""The Python API that writes and searches (Registry.register, promote, rollback, archive, restore,
versions, diff, ModelVersion.stages, models:/ references), on real clones of bare repositories over
file://: what each call does, that proposing never touches the caller's checkout, and that each bad input
is one GitregError that changes nothing."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from gitreg import (
    ConflictError,
    GitregError,
    ModelVersion,
    NotFoundError,
    Proposal,
    QueryError,
    Registry,
    UsageError,
)
from testing import Unchanged, assert_error, commit_all, git, isolate, run, tree_state, write_bytes
from testing.forge_server import ForgeServer, Team, serve


def make_clone(top: Path) -> Path:
    """``top/registry``: a clone of a bare repository (``top/remote.git``, over file://) made by ``gitreg
    init``, its blob store ``top/blobs`` named relatively (``../blobs``), so that a copy of ``top`` is a
    registry of its own."""
    made = top / "made"
    assert run("init", made, "--storage", "../blobs").exit_code == 0
    git(top, "clone", "--quiet", "--bare", str(made), str(top / "remote.git"))
    git(top, "clone", "--quiet", (top / "remote.git").as_uri(), "registry")
    return top / "registry"


def copy_of(template: Path, top: Path) -> Path:
    """A private copy of a ``make_clone`` folder in ``top``, its clone's origin pointing at its own copy."""
    shutil.copytree(template, top, symlinks=True, dirs_exist_ok=True)
    git(top / "registry", "remote", "set-url", "origin", (top / "remote.git").as_uri())
    return top / "registry"


def artifact(top: Path, seed: int) -> Path:
    return write_bytes(top / "train" / f"run-{seed}" / "model.bin", 200, seed)


@pytest.fixture(scope="session")
def clone_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("api-clone-home"))
        top = tmp_path_factory.mktemp("api-clone")
        make_clone(top)
        return top


@pytest.fixture(scope="session")
def fraud_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fraud@1 (auc 0.90, team risk), fraud@2 (auc 0.95, sklearn), churn@1 (auc 0.7), pushed to origin;
    fraud@1 in production, fraud@2 in staging, on origin's main."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("api-fraud-home"))
        top = tmp_path_factory.mktemp("api-fraud")
        clone = make_clone(top)
        reg = Registry.open(clone)
        code = {"code": {"commit": "0123abc"}}
        reg.register(
            "fraud",
            artifact(top, 1),
            metrics={"auc": 0.9},
            tags={"team": "risk"},
            description="first",
            lineage=code,
            push=True,
        )
        reg.register(
            "fraud",
            artifact(top, 2),
            metrics={"auc": 0.95},
            params={"max_depth": 8},
            framework={"name": "sklearn", "version": "1.5.2"},
            description="deeper",
            lineage=code,
            parent=1,
            push=True,
        )
        reg.register("churn", artifact(top, 3), metrics={"auc": 0.7}, push=True)
        (clone / "stages" / "staging.yaml").write_text("fraud: 2\n")
        (clone / "stages" / "production.yaml").write_text("fraud: 1\n")
        commit_all(clone, "stages")
        git(clone, "push", "--quiet", "origin", "main")
        return top


@pytest.fixture
def clone(clone_template: Path, tmp_path: Path) -> Path:
    """A clone (``tmp_path/registry``) of a bare repository (``tmp_path/remote.git``) made by ``gitreg
    init``, blobs in ``tmp_path/blobs``."""
    return copy_of(clone_template, tmp_path)


@pytest.fixture
def fraud(fraud_template: Path, tmp_path: Path) -> Registry:
    """``fraud_template`` copied into ``tmp_path`` (as ``clone``), opened."""
    return Registry.open(copy_of(fraud_template, tmp_path))


def workdir(registry: Registry) -> Path:
    assert registry.workdir is not None
    return registry.workdir


def checkout_state(clone: Path) -> tuple[str, str, str, dict[str, str]]:
    """HEAD, the branch checked out, git's status, and every file of the working tree."""
    files = {
        p.relative_to(clone).as_posix(): p.read_text()
        for p in sorted(clone.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(clone).parts
    }
    return (
        git(clone, "rev-parse", "HEAD"),
        git(clone, "branch", "--show-current"),
        git(clone, "status", "--porcelain", "--untracked-files=all"),
        files,
    )


# --- register ---------------------------------------------------------------------------------------------


def test_register_commits_on_the_current_branch_and_the_registry_reads_it(
    clone: Path, tmp_path: Path
) -> None:
    reg = Registry.open(clone)
    assert reg.model_names() == []
    v = reg.register(
        "fraud",
        artifact(tmp_path, 1),
        metrics={"auc": 0.9, "n": 3},
        params={"max_depth": 8, "solver": "adam"},
        tags={"team": "risk"},
        description="first",
        framework="sklearn==1.5.2",
        format="onnx",
        lineage={
            "code": {"repo": "https://git.example.com/t", "commit": "abc123", "path": "train.py"},
            "data": ["s3://d/1@sha256:" + "c" * 64, {"uri": "s3://d/2", "digest": "md5:x"}, "s3://d/3"],
            "run": {"id": "run-1", "url": "https://mlflow.example.com/r/1"},
        },
        message="Train fraud on November data",
    )
    assert isinstance(v, ModelVersion)
    assert (v.ref, v.stages, v.metrics, v.framework and v.framework.version) == (
        "fraud@1",
        [],
        v.metrics,
        "1.5.2",
    )
    assert [(d.uri, d.digest) for d in v.lineage.data] == [
        ("s3://d/1", "sha256:" + "c" * 64),
        ("s3://d/2", "md5:x"),
        ("s3://d/3", None),
    ]
    assert git(clone, "log", "-1", "--format=%s") == "Train fraud on November data\n"
    assert git(clone, "status", "--porcelain") == ""
    assert [x.ref for x in reg.versions()] == ["fraud@1"]  # the same Registry reads its own write
    assert reg.resolve("fraud@1") == v
    assert Registry.open(clone).resolve("fraud") == v
    assert git(tmp_path / "remote.git", "ls-tree", "--name-only", "main", "models/fraud") == ""  # not pushed


def test_register_push_pushes_the_branch(clone: Path, tmp_path: Path) -> None:
    Registry.open(clone).register("fraud", artifact(tmp_path, 1), push=True)
    assert git(tmp_path / "remote.git", "rev-parse", "main") == git(clone, "rev-parse", "HEAD")


def test_proposing_a_registration_never_touches_the_checkout(clone: Path, tmp_path: Path) -> None:
    reg = Registry.open(clone)
    (clone / "notes.txt").write_text("uncommitted work\n")
    (clone / "README.md").write_text("edited, not committed\n")
    git(clone, "add", "notes.txt")
    before = checkout_state(clone)
    v = reg.register("fraud", artifact(tmp_path, 1), metrics={"auc": 0.9}, propose=True, push=True)
    assert v.ref == "fraud@1"
    assert checkout_state(clone) == before
    branch = "gitreg/register/fraud-1"
    shown = git(clone, "show", f"{branch}:models/fraud/versions/1.yaml")
    assert "auc: 0.9" in shown
    assert git(tmp_path / "remote.git", "rev-parse", branch) == git(clone, "rev-parse", branch)
    assert reg.versions() == []  # the checkout's main has no version yet
    # a second proposal of the same version would reuse the branch: refused, nothing changed
    unchanged = Unchanged(clone, tmp_path / "blobs", tmp_path / "remote.git")
    with pytest.raises(ConflictError, match=f"branch {branch} already exists"):
        reg.register("fraud", artifact(tmp_path, 2), propose=True)
    unchanged.check()
    # a named branch
    reg.register("fraud", artifact(tmp_path, 2), propose=True, branch="train/nightly")
    assert git(clone, "show", "train/nightly:models/fraud/versions/1.yaml")
    assert checkout_state(clone) == before


def bad_registrations(tmp_path: Path) -> list[tuple[dict[str, Any], type[GitregError], str]]:
    path = artifact(tmp_path, 9)
    return [
        ({"model": "Fraud", "path": path}, UsageError, "'Fraud' is not a valid model name"),
        ({"model": "fraud", "path": tmp_path / "nope"}, NotFoundError, "does not exist"),
        ({"model": "fraud", "path": path, "metrics": {"auc": math.nan}}, UsageError, "a metric is a finite"),
        ({"model": "fraud", "path": path, "metrics": {"auc": "high"}}, UsageError, "a metric is a finite"),
        ({"model": "fraud", "path": path, "params": {"x": {"a": 1}}}, UsageError, "params.x"),
        ({"model": "fraud", "path": path, "tags": {"team": 3}}, UsageError, "tags.team"),
        ({"model": "fraud", "path": path, "framework": {"nam": "x"}}, UsageError, "is not a framework"),
        ({"model": "fraud", "path": path, "lineage": {"cod": {}}}, UsageError, "lineage.cod: Extra inputs"),
        ({"model": "fraud", "path": path, "lineage": {"run": {"id": 3}}}, UsageError, "lineage.run.id"),
        ({"model": "fraud", "path": path, "lineage": "abc"}, UsageError, "lineage is a mapping"),
        ({"model": "fraud", "path": path, "parent": 7}, NotFoundError, "fraud has no version 7"),
        ({"model": "fraud", "path": path, "parent": 1, "lineage": {"parent": 2}}, UsageError, "differ"),
        ({"model": "fraud", "path": path, "version": 1}, ConflictError, "fraud@1 already exists"),
        ({"model": "fraud", "path": path, "branch": "bad..name"}, UsageError, "is not a valid branch name"),
        ({"model": "fraud", "path": path, "branch": "x", "propose": True, "push": True}, GitregError, ""),
    ]


def test_bad_registrations_are_one_error_and_change_nothing(clone: Path, tmp_path: Path) -> None:
    reg = Registry.open(clone)
    reg.register("fraud", artifact(tmp_path, 1))
    git(clone, "remote", "remove", "origin")  # and so push=True has nowhere to go
    cases = bad_registrations(tmp_path)
    cases[-1] = ({"model": "fraud", "path": artifact(tmp_path, 9), "push": True}, NotFoundError, "no remote")
    unchanged = Unchanged(clone, tmp_path / "blobs")
    for kwargs, error, message in cases:
        with pytest.raises(error) as caught:
            reg.register(**kwargs)
        assert message in str(caught.value), (kwargs, str(caught.value))
        assert "\n" not in str(caught.value)
        assert [tree_state(root) for root in unchanged.roots] == unchanged.before, kwargs


def test_writes_need_a_checkout(fraud: Registry, tmp_path: Path) -> None:
    remote = Registry.open((tmp_path / "remote.git").as_uri())
    with pytest.raises(GitregError, match="needs a checkout with a working tree"):
        remote.register("fraud", artifact(tmp_path, 5))
    with pytest.raises(GitregError, match="needs a checkout with a working tree"):
        remote.promote("fraud@2", to="production")


# --- promote, rollback, archive, restore ------------------------------------------------------------------


def test_promote_proposes_on_a_new_branch_and_says_what(fraud: Registry, tmp_path: Path) -> None:
    clone = workdir(fraud)
    before = checkout_state(clone)
    proposal = fraud.promote("models:/fraud/2", to="production", push=True, message="Ship the deeper trees")
    assert isinstance(proposal, Proposal)
    assert proposal == Proposal(
        branch="gitreg/promote/fraud-2-production",
        commit=proposal.commit,
        base="origin/main",
        subject="Ship the deeper trees",
        files=("stages/production.yaml",),
        model="fraud",
        version=2,
        stage="production",
        previous=1,
        pushed=True,
    )
    assert git(tmp_path / "remote.git", "rev-parse", proposal.branch).strip() == proposal.commit
    assert git(clone, "show", f"{proposal.commit}:stages/production.yaml") == "fraud: 2\n"
    assert git(clone, "log", "-1", "--format=%s", proposal.commit) == "Ship the deeper trees\n"
    assert checkout_state(clone) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        proposal.branch = "x"  # type: ignore[misc]


def test_rollback_archive_restore_return_proposals(fraud: Registry) -> None:
    clone = workdir(fraud)
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "noop")
    (clone / "stages" / "production.yaml").write_text("fraud: 2\n")
    commit_all(clone, "fraud@2 to production")
    git(clone, "push", "--quiet", "origin", "main")
    back = fraud.rollback("fraud", "production")
    assert (back.branch, back.version, back.previous, back.stage) == (
        "gitreg/rollback/fraud-1-production",
        1,
        2,
        "production",
    )
    churn = fraud.resolve("churn@1")
    archived = fraud.archive(churn)
    assert (archived.branch, archived.files, archived.pushed) == (
        "gitreg/archive/churn-1",
        ("models/churn/versions/1.yaml",),
        False,
    )
    assert "status: archived" in git(clone, "show", f"{archived.commit}:models/churn/versions/1.yaml")
    unstaged = fraud.archive("fraud@2", unstage=True, branch="retire-2")
    assert set(unstaged.files) == {
        "models/fraud/versions/2.yaml",
        "stages/production.yaml",
        "stages/staging.yaml",
    }
    git(clone, "merge", "--quiet", "--ff-only", archived.branch)
    restored = Registry.open(clone).restore("churn@1", base="main")
    assert restored.subject == "Restore churn@1" and restored.base == "main"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda r: r.promote("fraud@2", to="prod"),
            NotFoundError,
            "stage 'prod' is not declared in registry.yaml",
        ),
        (
            lambda r: r.promote("fruad@2", to="production"),
            NotFoundError,
            "model 'fruad' is not in the registry",
        ),
        (lambda r: r.promote("fraud@9", to="production"), NotFoundError, "fraud has no version 9"),
        (lambda r: r.promote("fraud@staging", to="production"), UsageError, "promote a version"),
        (lambda r: r.promote("models:/fraud/2/x", to="production"), UsageError, "is not a model URI"),
        (lambda r: r.promote("fraud@1", to="production"), UsageError, "fraud@1 is already in production"),
        (lambda r: r.rollback("fraud", "production"), NotFoundError, "never held another version"),
        (lambda r: r.rollback("nope", "production"), NotFoundError, "model 'nope' is not in the registry"),
        (lambda r: r.archive("fraud@1"), UsageError, "fraud@1 is in staging, production"),
        (lambda r: r.restore("fraud@1"), UsageError, "fraud@1 is already active"),
        (lambda r: r.promote("fraud@2", to="production", branch="bad..b"), UsageError, "not a valid branch"),
    ],
)
def test_bad_proposals_are_one_error_and_change_nothing(
    fraud: Registry, tmp_path: Path, call: Any, error: type[GitregError], message: str
) -> None:
    clone = workdir(fraud)
    if "staging, production" in message:
        (clone / "stages" / "staging.yaml").write_text("fraud: 1\n")
        commit_all(clone, "fraud@1 to staging")
        git(clone, "push", "--quiet", "origin", "main")
    unchanged = Unchanged(clone, tmp_path / "blobs", tmp_path / "remote.git")
    with pytest.raises(error) as caught:
        call(fraud)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    unchanged.check()


# --- versions, stages, diff, references ---------------------------------------------------------------


def refs(versions: list[ModelVersion]) -> list[str]:
    return [v.ref for v in versions]


def test_versions_select_by_every_criterion(fraud: Registry) -> None:
    clone = workdir(fraud)
    assert refs(fraud.versions()) == ["churn@1", "fraud@1", "fraud@2"]
    assert refs(fraud.versions("fraud")) == ["fraud@1", "fraud@2"]  # the old call: a model's versions
    assert refs(fraud.versions(stage="staging")) == ["fraud@2"]
    assert refs(fraud.versions(where="metrics.auc >= 0.9")) == ["fraud@1", "fraud@2"]
    assert refs(fraud.versions(where="framework.name == 'sklearn' or tags.team == 'risk'")) == [
        "fraud@1",
        "fraud@2",
    ]
    assert refs(fraud.versions(where="params.max_depth < 10 and lineage.parent == 1")) == ["fraud@2"]
    assert refs(fraud.versions(tags={"team": "risk"})) == ["fraud@1"]
    assert refs(fraud.versions(order_by="-metrics.auc")) == ["fraud@2", "fraud@1", "churn@1"]
    assert refs(fraud.versions(order_by="params.max_depth")) == ["fraud@2", "churn@1", "fraud@1"]
    assert refs(fraud.versions(order_by="-metrics.auc", limit=2)) == ["fraud@2", "fraud@1"]
    assert refs(fraud.versions(limit=1)) == ["churn@1"]
    assert refs(fraud.versions(since="1d")) == ["churn@1", "fraud@1", "fraud@2"]
    assert refs(fraud.versions(since="2999-01-01")) == []
    assert refs(fraud.versions(where="created_at >= '2000-01-01'")) == ["churn@1", "fraud@1", "fraud@2"]
    # status: archived versions only when asked for
    path = clone / "models" / "churn" / "versions" / "1.yaml"
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    reg = Registry.open(clone)
    assert refs(reg.versions()) == ["fraud@1", "fraud@2"]
    assert refs(reg.versions(status="archived")) == ["churn@1"]
    assert refs(reg.versions(status=None)) == ["churn@1", "fraud@1", "fraud@2"]


def test_versions_know_their_stages(fraud: Registry) -> None:
    clone = workdir(fraud)
    assert {v.ref: v.stages for v in fraud.versions()} == {
        "churn@1": [],
        "fraud@1": ["production"],
        "fraud@2": ["staging"],
    }
    assert fraud.resolve("fraud@production").stages == ["production"]
    assert fraud.resolve("models:/fraud@staging").stages == ["staging"]
    assert fraud.latest("fraud").stages == ["staging"]
    # at the registry's commit: the same files at an older commit say otherwise
    first = git(clone, "rev-list", "--max-parents=0", "HEAD").strip()
    assert Registry.open(clone, ref="HEAD~1").resolve("fraud@1").stages == []
    assert first
    # context, not content: equal manifests are equal versions, and the manifest has no stages
    assert fraud.resolve("fraud@1") == Registry.open(clone, ref="HEAD~1").resolve("fraud@1")
    assert "stages" not in fraud.resolve("fraud@1").model_dump()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "fruad"}, NotFoundError, "model 'fruad' is not in the registry (did you mean 'fraud'?)"),
        ({"stage": "prod"}, NotFoundError, "stage 'prod' is not declared in registry.yaml"),
        ({"where": "metric.auc > 1"}, QueryError, "filter, column 1: unknown field 'metric.auc'"),
        (
            {"where": "metrics.auc >> 1"},
            QueryError,
            "filter, column 14: expected a field or a value, found '>'",
        ),
        ({"status": "deleted"}, UsageError, "status 'deleted' is neither active nor archived"),
        ({"order_by": "auc"}, UsageError, "cannot sort by 'auc': unknown field 'auc'"),
        ({"since": "last week"}, UsageError, "since 'last week' is neither a duration nor a date"),
        ({"limit": 0}, UsageError, "limit 0 is not a positive number of versions"),
        ({"tags": {"team": 1}}, UsageError, "tags is a mapping of strings to strings"),
    ],
)
def test_bad_searches_are_one_error(
    fraud: Registry, kwargs: dict[str, Any], error: type[GitregError], message: str
) -> None:
    with pytest.raises(error) as caught:
        fraud.versions(**kwargs)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_diff_is_what_the_command_line_prints(fraud: Registry) -> None:
    clone = workdir(fraud)
    diff = fraud.diff("fraud@1", fraud.resolve("models:/fraud/2"))
    printed = run("diff", "fraud@1", "models:/fraud/2", "--json", cwd=clone)
    assert printed.exit_code == 0, printed.stderr
    assert diff.as_dict() == json.loads(printed.stdout)
    assert (diff.a, diff.b) == ("fraud@1", "fraud@2")
    first = diff.changes[0]
    assert (first.field, first.a, first.b, first.delta) == ("metrics.auc", 0.9, 0.95, 0.05)
    with pytest.raises(NotFoundError, match="fraud has no version 7"):
        fraud.diff("fraud@1", "fraud@7")


def test_mlflow_references_work_on_the_command_line(fraud: Registry) -> None:
    clone = workdir(fraud)
    shown = run("show", "models:/fraud@production", "--json", cwd=clone)
    assert json.loads(shown.stdout)["version"] == 1
    shown = run("show", "models:/fraud/2", "--json", cwd=clone)
    assert json.loads(shown.stdout)["version"] == 2
    assert json.loads(run("show", "models:/fraud/latest", "--json", cwd=clone).stdout)["version"] == 2
    assert_error(
        run("show", "models:/fraud/2/3", cwd=clone),
        2,
        "'models:/fraud/2/3' is not a model URI "
        "(write models:/MODEL@STAGE, models:/MODEL/VERSION or models:/MODEL/latest)",
    )
    assert_error(
        run("show", "models:/fraud/nope", cwd=clone),
        3,
        "stage 'nope' is not declared in registry.yaml (known: staging, production)",
    )
    promoted = run("promote", "models:/fraud/2", "--to", "production", cwd=clone)
    assert promoted.exit_code == 0, promoted.stderr
    assert "gitreg/promote/fraud-2-production" in promoted.stdout


def test_the_new_names_are_public_and_typed() -> None:
    import gitreg  # noqa: PLC0415

    assert set(gitreg.__all__) == set(gitreg._EXPORTS) | {"__version__"}
    assert {"Proposal", "Query", "QueryError", "VersionDiff", "FieldChange"} <= set(gitreg.__all__)
    for name in gitreg.__all__:
        assert getattr(gitreg, name) is not None
    assert (Path(gitreg.__file__).parent / "py.typed").is_file()


def test_open_pr_returns_the_pull_request_url(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the team's forge (a real bare repository, and an HTTP server speaking GitHub's REST API)."""
    for name in ("GITLAB_TOKEN", "CI_API_V4_URL", "CI_PROJECT_PATH"):
        monkeypatch.delenv(name, raising=False)
    with serve(ForgeServer(git_dir=team.forge.bare)) as api:
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        monkeypatch.setenv("GITHUB_TOKEN", api.token)
        monkeypatch.setenv("GITHUB_REPOSITORY", "owner/reg")
        proposal = Registry.open(team.alice).promote("fraud@2", to="staging", open_pr=True, forge="github")
        [request] = api.requests
    assert proposal.pull_request_url == "https://github.com/owner/reg/pull/1"
    assert (proposal.pushed, proposal.open_url, proposal.previous) == (True, None, 1)
    assert request.body["title"] == proposal.subject == "Promote fraud@2 to staging (from 1)"
    assert team.forge.rev(proposal.branch) == proposal.commit
    # without a token: pushed, and where to open it by hand
    monkeypatch.delenv("GITHUB_TOKEN")
    manual = Registry.open(team.alice).archive("fraud@2", branch="back", open_pr=True, forge="github")
    assert manual.pull_request_url is None
    assert manual.open_url is not None and "back" in manual.open_url
