"""``gitreg.controller.reconcile``: one reconcile at a time, in process, against a real bare remote over
file:// that each test pushes promotions to."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from controller.helpers import (
    Remote,
    check_target,
    live,
    status_of,
    versions_on_disk,
)
from gitreg import ConflictError, UsageError
from gitreg.controller import Controller, ControllerConfig, ModelChange, reconcile_once
from testing import git, sha256_file, tree_state


def config(remote: Remote, target: Path, **options: object) -> ControllerConfig:
    return ControllerConfig(remote.url, "production", target, **options)  # type: ignore[arg-type]


def sample(controller: Controller, name: str, **labels: str) -> float:
    value = controller.metrics.registry.get_sample_value(name, labels or None)
    return 0.0 if value is None else value


def test_first_deploy(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    commit = remote.stage({"fraud": 1})

    result = reconcile_once(remote.url, "production", target)

    assert result.outcome == "applied"
    assert result.commit == commit
    assert result.changes == (ModelChange("fraud", None, 1, 1, "deploy"),)
    assert [str(c) for c in result.changes] == ["fraud none -> 1"]
    assert live(target, "fraud") == "1"
    assert sha256_file(target / "fraud" / "current" / "model.bin") == remote.digest("fraud", 1)
    assert sorted(p.name for p in target.iterdir()) == [".gitreg", "fraud"]
    assert list((target / ".gitreg" / "tmp").iterdir()) == []
    status = status_of(target)
    assert status["observed"]["commit"] == status["applied"]["commit"] == commit
    assert status["attempted"]["result"] == "applied"
    model = status["models"]["fraud"]
    assert (model["wanted"], model["live"], model["state"], model["error"]) == (1, 1, "synced", None)
    assert model["digest"] == remote.digest("fraud", 1)
    assert model["path"] == str(target / "fraud" / "1" / "model.bin")
    assert [(h["commit"], h["result"], h["changes"]) for h in status["history"]] == [
        (commit, "applied", ["fraud none -> 1"])
    ]


def test_a_poll_without_change_fetches_nothing_and_writes_nothing(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    with Controller(config(remote, target)) as controller:
        assert controller.reconcile().outcome == "applied"
        before = tree_state(target)
        for _ in range(3):
            assert controller.reconcile().outcome == "unchanged"
        assert sample(controller, "gitreg_controller_git_requests_total", kind="ls-remote") == 4
        assert sample(controller, "gitreg_controller_git_requests_total", kind="fetch") == 1
        assert sample(controller, "gitreg_controller_reconciles_total", result="unchanged") == 3
    assert tree_state(target) == before


def test_promotion_keeps_the_last_two_versions(remote: Remote, target: Path) -> None:
    for seed in (1, 2, 3):
        remote.register("fraud", seed=seed)
    remote.stage({"fraud": 1})
    assert reconcile_once(remote.url, "production", target).outcome == "applied"

    remote.stage({"fraud": 2})
    result = reconcile_once(remote.url, "production", target)
    assert [str(c) for c in result.changes] == ["fraud 1 -> 2"]
    assert (live(target, "fraud"), versions_on_disk(target, "fraud")) == ("2", ["1", "2"])

    remote.stage({"fraud": 3})
    reconcile_once(remote.url, "production", target)
    assert (live(target, "fraud"), versions_on_disk(target, "fraud")) == ("3", ["2", "3"])
    assert check_target(target, remote) == {"fraud": "3"}
    assert status_of(target)["models"]["fraud"]["digest"] == remote.digest("fraud", 3)


def test_keep_one_leaves_only_the_live_version(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target, keep=1)
    remote.stage({"fraud": 2})
    reconcile_once(remote.url, "production", target, keep=1)
    assert (live(target, "fraud"), versions_on_disk(target, "fraud")) == ("2", ["2"])


def test_rollback_to_a_kept_version_downloads_nothing(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    with Controller(config(remote, target)) as controller:
        controller.reconcile()
        remote.stage({"fraud": 2})
        controller.reconcile()
        downloaded = sample(controller, "gitreg_controller_downloaded_bytes_total")
        assert downloaded == 2000

        remote.stage({"fraud": 1})
        result = controller.reconcile()

        assert result.changes == (ModelChange("fraud", 2, 1, 1, "switch"),)
        assert sample(controller, "gitreg_controller_downloaded_bytes_total") == downloaded
    assert (live(target, "fraud"), versions_on_disk(target, "fraud")) == ("1", ["1", "2"])
    # the version just left is the one kept: promoting 3 now removes 1's neighbour by recency, not number
    remote.register("fraud", seed=3)
    remote.stage({"fraud": 3})
    reconcile_once(remote.url, "production", target)
    assert versions_on_disk(target, "fraud") == ["1", "3"]


def test_two_models_changed_in_one_commit(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.register("churn", seed=3, folder=True)
    remote.register("churn", seed=4, folder=True)
    remote.stage({"fraud": 1, "churn": 1})
    reconcile_once(remote.url, "production", target)

    remote.stage({"fraud": 2, "churn": 2})
    result = reconcile_once(remote.url, "production", target)

    assert [str(c) for c in result.changes] == ["churn 1 -> 2", "fraud 1 -> 2"]
    assert check_target(target, remote) == {"churn": "2", "fraud": "2"}
    # a folder artifact is the version folder itself
    assert sorted(
        p.relative_to(target / "churn" / "2").as_posix() for p in (target / "churn/2").rglob("*")
    ) == [
        "config",
        "config/params.json",
        "weights.bin",
    ]


def test_an_invalid_commit_applies_nothing_until_it_is_fixed(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    good = remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    before = {p: h for p, h in tree_state(target).items() if not p.startswith(".gitreg")}

    bad = remote.commit(
        {"stages/production.yaml": "fraud: 2\n", "stages/staging.yaml": "fraud: 7\n"}, "Promote, badly"
    )
    result = reconcile_once(remote.url, "production", target)

    assert result.outcome == "invalid"
    assert result.errors == ("stages/staging.yaml:1:1: stage-entry: fraud@7 does not exist",)
    assert {p: h for p, h in tree_state(target).items() if not p.startswith(".gitreg")} == before
    status = status_of(target)
    assert status["attempted"] == {
        "commit": bad,
        "time": status["attempted"]["time"],
        "result": "invalid",
        "errors": ["stages/staging.yaml:1:1: stage-entry: fraud@7 does not exist"],
    }
    assert (status["observed"]["commit"], status["applied"]["commit"]) == (bad, good)
    assert status["models"]["fraud"]["live"] == 1

    fixed = remote.commit({"stages/staging.yaml": "fraud: 2\n"}, "Fix staging")
    result = reconcile_once(remote.url, "production", target)
    assert (result.outcome, result.commit) == ("applied", fixed)
    assert live(target, "fraud") == "2"


def test_a_stage_not_declared_is_refused(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    result = reconcile_once(remote.url, "prod", target)
    assert result.outcome == "invalid"
    assert result.errors == ("stage 'prod' is not declared in registry.yaml (known: staging, production)",)
    assert [p.name for p in target.iterdir()] == [".gitreg"]


def test_a_missing_blob_fails_that_model_only(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.register("churn", seed=3)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    blob = remote.blob("fraud", 2)
    hidden = blob.with_name("hidden")
    blob.rename(hidden)

    remote.stage({"fraud": 2, "churn": 1})
    result = reconcile_once(remote.url, "production", target)

    digest = remote.digest("fraud", 2)
    error = (
        f"blob {digest} is missing from the store at {remote.blobs} (register the artifact again, "
        "or point GITREG_STORAGE_URL at the store that has it)"
    )
    assert result.outcome == "partial"
    assert result.changes == (
        ModelChange("churn", None, 1, 1, "deploy"),
        ModelChange("fraud", 1, 1, 2, "deploy", error),
    )
    assert result.errors == (f"fraud: {error}",)
    assert check_target(target, remote) == {"churn": "1", "fraud": "1"}
    assert versions_on_disk(target, "fraud") == ["1"]
    assert list((target / ".gitreg" / "tmp").iterdir()) == []
    status = status_of(target)
    fraud = status["models"]["fraud"]
    assert (fraud["wanted"], fraud["live"], fraud["state"], fraud["error"]) == (2, 1, "failed", error)
    assert fraud["failures"] == 1
    assert status["applied"]["commit"] != status["attempted"]["commit"]

    hidden.rename(blob)
    result = reconcile_once(remote.url, "production", target)
    assert (result.outcome, [str(c) for c in result.changes]) == ("applied", ["fraud 1 -> 2"])
    assert status_of(target)["models"]["fraud"]["failures"] == 0


def test_a_tampered_blob_is_never_deployed(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    blob = remote.blob("fraud", 2)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[500] ^= 1
    blob.write_bytes(bytes(data))

    remote.stage({"fraud": 2})
    result = reconcile_once(remote.url, "production", target)

    digest = remote.digest("fraud", 2)
    actual = "sha256:" + hashlib.sha256(bytes(data)).hexdigest()
    assert result.outcome == "partial"
    assert result.errors == (
        f"fraud: blob {digest} is corrupt: its content hashes to {actual} (the store copy was altered; "
        "run `gitreg verify` and re-register the artifact from its source)",
    )
    assert check_target(target, remote) == {"fraud": "1"}
    assert versions_on_disk(target, "fraud") == ["1"]
    assert list((target / ".gitreg" / "tmp").iterdir()) == []


def test_a_force_pushed_branch_is_followed(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    first = remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    remote.stage({"fraud": 2})
    reconcile_once(remote.url, "production", target)

    git(remote.registry, "reset", "-q", "--hard", first)
    remote.push(force=True)
    result = reconcile_once(remote.url, "production", target)
    assert (result.outcome, result.commit, live(target, "fraud")) == ("applied", first, "1")

    remote.register("fraud", seed=3)  # history diverges from the commit applied before the force push
    rewritten = remote.stage({"fraud": 3})
    git(remote.registry, "commit", "-q", "--amend", "-m", "Rewritten")
    rewritten = remote.head()
    remote.push(force=True)
    result = reconcile_once(remote.url, "production", target)
    assert (result.outcome, result.commit, live(target, "fraud")) == ("applied", rewritten, "3")


def test_unsigned_commits_are_refused_with_verify_signatures(
    remote: Remote, target: Path, ssh_keys: tuple[Path, Path, Path]
) -> None:
    trusted, stranger, allowed = ssh_keys
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.register("fraud", seed=3)
    signed = remote.stage({"fraud": 1}, sign_with=trusted)
    options: dict[str, object] = {"verify_signatures": True, "allowed_signers": allowed}
    result = reconcile_once(remote.url, "production", target, **options)  # type: ignore[arg-type]
    assert (result.outcome, result.commit) == ("applied", signed)

    unsigned = remote.stage({"fraud": 2})
    result = reconcile_once(remote.url, "production", target, **options)  # type: ignore[arg-type]
    assert result.outcome == "invalid"
    assert result.errors == (
        f"commit {unsigned[:12]} is not signed; --verify-signatures applies only signed commits",
    )
    assert live(target, "fraud") == "1"

    foreign = remote.stage({"fraud": 3}, sign_with=stranger)
    result = reconcile_once(remote.url, "production", target, **options)  # type: ignore[arg-type]
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(stranger)], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert result.outcome == "invalid"
    assert result.errors == (
        f"commit {foreign[:12]} is signed by a key that is not listed in {allowed} (key {fingerprint})",
    )
    assert live(target, "fraud") == "1"

    fixed = remote.stage({"fraud": 3}, sign_with=trusted)
    result = reconcile_once(remote.url, "production", target, **options)  # type: ignore[arg-type]
    assert (result.outcome, result.commit, live(target, "fraud")) == ("applied", fixed, "3")


def test_an_emptied_stage_never_empties_the_target(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("churn", seed=2)
    remote.stage({"fraud": 1, "churn": 1})
    reconcile_once(remote.url, "production", target, prune=True)

    remote.stage({})
    result = reconcile_once(remote.url, "production", target, prune=True)

    assert (result.outcome, result.changes) == ("applied", ())
    assert check_target(target, remote) == {"churn": "1", "fraud": "1"}
    models = status_of(target)["models"]
    assert {m: (s["wanted"], s["live"], s["state"]) for m, s in models.items()} == {
        "churn": (None, 1, "retained"),
        "fraud": (None, 1, "retained"),
    }


def test_a_model_leaving_the_stage_stays_unless_pruned(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("churn", seed=2)
    remote.stage({"fraud": 1, "churn": 1})
    reconcile_once(remote.url, "production", target)

    remote.stage({"fraud": 1})
    assert reconcile_once(remote.url, "production", target).changes == ()
    assert check_target(target, remote) == {"churn": "1", "fraud": "1"}
    assert status_of(target)["models"]["churn"]["state"] == "retained"

    result = reconcile_once(remote.url, "production", target, prune=True)
    assert [str(c) for c in result.changes] == ["churn 1 pruned"]
    assert check_target(target, remote) == {"fraud": "1"}
    assert sorted(status_of(target)["models"]) == ["fraud"]


def test_an_unreachable_remote_keeps_the_target_serving(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    with Controller(config(remote, target)) as controller:
        controller.reconcile()
        away = remote.bare.with_name("away.git")
        remote.bare.rename(away)

        result = controller.reconcile()
        again = controller.reconcile()

        message = f"git ls-remote failed: fatal: '{remote.bare}' does not appear to be a git repository"
        assert (result.outcome, result.errors) == ("unreachable", (message,))
        assert again.outcome == "unreachable"
        assert live(target, "fraud") == "1"
        status = status_of(target)
        assert status["remote_error"]["message"] == message
        assert [h["result"] for h in status["history"]] == ["applied", "unreachable"]  # reported once
        assert sample(controller, "gitreg_controller_git_request_failures_total", kind="ls-remote") == 2

        away.rename(remote.bare)
        remote.stage({"fraud": 2})
        result = controller.reconcile()
        assert (result.outcome, live(target, "fraud")) == ("applied", "2")
        assert status_of(target)["remote_error"] is None


def test_a_missing_branch_is_reported(remote: Remote, target: Path) -> None:
    result = reconcile_once(remote.url, "production", target, branch="release")
    assert result.outcome == "unreachable"
    assert result.errors == (f"{remote.url} has no branch release (check --repo and --branch)",)


def test_a_failing_hook_is_reported_and_can_roll_back(remote: Remote, target: Path, tmp_path: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.register("fraud", seed=3)
    seen = tmp_path / "hook.log"
    hook = (
        f'echo "$GITREG_MODEL $GITREG_VERSION $GITREG_PATH $GITREG_DIGEST $GITREG_COMMIT" >> {seen}; '
        '[ "$GITREG_VERSION" = 1 ] || { echo "reload refused" >&2; exit 4; }'
    )
    first = remote.stage({"fraud": 1})
    assert reconcile_once(remote.url, "production", target, on_deploy=hook).outcome == "applied"
    path = target / "fraud" / "1" / "model.bin"
    assert seen.read_text() == f"fraud 1 {path} {remote.digest('fraud', 1)} {first}\n"

    remote.stage({"fraud": 2})
    result = reconcile_once(remote.url, "production", target, on_deploy=hook)
    error = "on-deploy hook exited with 4: reload refused"
    assert (result.outcome, result.errors) == ("applied", (f"fraud: {error}",))
    assert result.changes == (ModelChange("fraud", 1, 2, 2, "deploy", error),)
    assert live(target, "fraud") == "2"
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["live"], fraud["state"], fraud["error"]) == (2, "failed", error)
    # the same commit again: nothing to do, the failure stays reported
    assert reconcile_once(remote.url, "production", target, on_deploy=hook).outcome == "unchanged"
    assert status_of(target)["models"]["fraud"]["error"] == error

    remote.stage({"fraud": 3})
    result = reconcile_once(remote.url, "production", target, on_deploy=hook, rollback_on_hook_failure=True)
    error = "on-deploy hook exited with 4: reload refused; rolled back to 2"
    assert (result.outcome, result.errors) == ("partial", (f"fraud: {error}",))
    assert live(target, "fraud") == "2"
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["wanted"], fraud["live"], fraud["state"], fraud["error"]) == (3, 2, "failed", error)
    assert fraud["path"] == str(target / "fraud" / "2" / "model.bin")
    assert len(seen.read_text().splitlines()) == 3


def test_a_second_controller_on_the_same_target_is_refused(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    with Controller(config(remote, target)), pytest.raises(ConflictError) as caught:
        reconcile_once(remote.url, "production", target)
    assert str(caught.value) == (
        f"another gitreg controller (pid {os.getpid()}) is working on {target} "
        "(stop it, or give this one another --target)"
    )
    assert sorted(p.name for p in (target / ".gitreg").iterdir()) == ["lock", "tmp"]


def test_leftovers_of_a_killed_controller_are_cleaned_at_start(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    # what a controller killed mid-download, mid-switch, mid-delete and mid-status-write leaves behind
    partial = target / ".gitreg" / "tmp" / "fraud.2.abcd" / "version"
    partial.mkdir(parents=True)
    (partial / "model.bin").write_bytes(b"half")
    (target / "fraud" / ".current.tmp-1234").symlink_to("2")
    shutil.copytree(target / "fraud" / "1", target / ".gitreg" / "tmp" / "trash.1.ffff")
    (target / ".gitreg" / "status.json.tmp-xyz").write_text("{")
    events: list[str] = []

    remote.stage({"fraud": 2})
    result = reconcile_once(remote.url, "production", target, log=lambda e: events.append(e.text()))

    assert result.outcome == "applied"
    assert events[0].split(" ", 1)[1] == (
        "level=warning event=cleaned removed=.gitreg/tmp/fraud.2.abcd,.gitreg/tmp/trash.1.ffff,"
        ".gitreg/status.json.tmp-xyz,fraud/.current.tmp-1234"
    )
    assert list((target / ".gitreg" / "tmp").iterdir()) == []
    assert sorted(p.name for p in (target / "fraud").iterdir()) == ["1", "2", "current"]
    assert check_target(target, remote) == {"fraud": "2"}


def test_a_broken_current_is_repaired(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    shutil.rmtree(target / "fraud" / "1")  # someone deleted the live version

    result = reconcile_once(remote.url, "production", target)

    assert [str(c) for c in result.changes] == ["fraud none -> 1"]
    assert check_target(target, remote) == {"fraud": "1"}


def test_a_current_that_is_not_a_symlink_is_left_alone(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    (target / "fraud" / "current").mkdir(parents=True)

    result = reconcile_once(remote.url, "production", target)

    current = target / "fraud" / "current"
    assert result.errors == (
        f"fraud: {current} is not a symlink "
        "(gitreg manages it: move it away and the controller recreates it)",
    )
    assert current.is_dir() and not current.is_symlink()


def test_bad_options_are_refused(remote: Remote, target: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        reconcile_once(remote.url, "production", target, keep=0)
    assert str(caught.value) == "--keep 0: keep at least 1 version (the live one)"
    with pytest.raises(UsageError) as caught:
        reconcile_once(
            remote.url, "production", target, verify_signatures=True, allowed_signers=tmp_path / "no"
        )
    assert str(caught.value) == f"--allowed-signers {tmp_path / 'no'}: no such file"
    assert not target.exists()
