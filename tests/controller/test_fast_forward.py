"""With ``--verify-signatures``, a new tip must descend from the commit last applied: a force-push back to an
older signed commit, or to a signed commit never merged into what was applied, is refused (unless
``--allow-non-fast-forward``), with the reason in the status and the log. Real SSH signatures throughout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from controller.helpers import Remote, live, status_of
from gitreg.controller import Controller, ControllerConfig, ReconcileResult, reconcile_once
from testing import git, run


@pytest.fixture
def signing(ssh_keys: tuple[Path, Path, Path]) -> tuple[Path, dict[str, object]]:
    """(the trusted key, the reconcile options that verify signatures against it)."""
    trusted, _stranger, allowed = ssh_keys
    return trusted, {"verify_signatures": True, "allowed_signers": allowed}


def refusal(tip: str, applied: str) -> str:
    return (
        f"commit {tip[:12]} does not descend from {applied[:12]}, the commit last applied (the branch was "
        "force-pushed); --verify-signatures applies only fast-forwards: push a new signed commit on top "
        "of it, or pass --allow-non-fast-forward"
    )


def reconcile(remote: Remote, target: Path, options: dict[str, object], **more: object) -> ReconcileResult:
    return reconcile_once(remote.url, "production", target, **options, **more)  # type: ignore[arg-type]


def test_a_force_push_back_to_an_older_signed_commit_is_refused(
    remote: Remote, target: Path, signing: tuple[Path, dict[str, object]]
) -> None:
    key, options = signing
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    old = remote.stage({"fraud": 1}, sign_with=key)
    assert reconcile(remote, target, options).outcome == "applied"
    new = remote.stage({"fraud": 2}, sign_with=key)
    assert reconcile(remote, target, options).outcome == "applied"

    git(remote.registry, "reset", "-q", "--hard", old)
    remote.push(force=True)
    events: list[str] = []
    result = reconcile(remote, target, options, log=lambda e: events.append(e.text()))

    assert (result.outcome, result.errors) == ("invalid", (refusal(old, new),))
    assert live(target, "fraud") == "2"
    status = status_of(target)
    assert (status["attempted"]["commit"], status["attempted"]["errors"]) == (old, [refusal(old, new)])
    assert status["applied"]["commit"] == new
    assert any("event=invalid" in e and "does not descend from" in e for e in events), events
    assert not any("event=cache-rebuilt" in e for e in events), events  # a refusal, not a damaged cache

    # explicitly allowed: the older commit is applied
    result = reconcile(remote, target, options, allow_non_fast_forward=True)
    assert (result.outcome, live(target, "fraud")) == ("applied", "1")


def test_a_signed_commit_never_merged_is_refused(
    remote: Remote, target: Path, signing: tuple[Path, dict[str, object]]
) -> None:
    key, options = signing
    for seed in (1, 2, 3):
        remote.register("fraud", seed=seed)
    base = remote.stage({"fraud": 1}, sign_with=key)
    applied = remote.stage({"fraud": 2}, sign_with=key)
    assert reconcile(remote, target, options).outcome == "applied"

    # a signed commit made beside what was applied (a review branch, say), force-pushed over it
    git(remote.registry, "reset", "-q", "--hard", base)
    (remote.registry / "stages" / "production.yaml").write_text("fraud: 3\n")
    git(remote.registry, "add", "-A")
    signing_config = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    git(remote.registry, *signing_config, "commit", "-q", "-S", "-m", "Promote 3 on a side branch")
    remote.push(force=True)
    side = remote.head()

    result = reconcile(remote, target, options)

    assert (result.outcome, result.errors) == ("invalid", (refusal(side, applied),))
    assert live(target, "fraud") == "2"


def test_a_fast_forward_over_many_commits_is_applied(
    remote: Remote, target: Path, signing: tuple[Path, dict[str, object]]
) -> None:
    key, options = signing
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1}, sign_with=key)
    assert reconcile(remote, target, options).outcome == "applied"
    for n in range(6):
        remote.commit({f"notes/{n}.txt": f"{n}\n"}, f"Note {n}", sign_with=key)
    tip = remote.stage({"fraud": 2}, sign_with=key)

    result = reconcile(remote, target, options)

    assert (result.outcome, result.commit, result.errors) == ("applied", tip, ())
    assert live(target, "fraud") == "2"


def test_a_fast_forward_is_recognised_with_an_empty_cache(
    remote: Remote, target: Path, signing: tuple[Path, dict[str, object]]
) -> None:
    key, options = signing
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1}, sign_with=key)
    assert reconcile(remote, target, options).outcome == "applied"
    shutil.rmtree(target / ".gitreg" / "git")
    remote.commit({"notes/a.txt": "a\n"}, "Note", sign_with=key)
    tip = remote.stage({"fraud": 2}, sign_with=key)

    result = reconcile(remote, target, options)

    assert (result.outcome, result.commit) == ("applied", tip)


def test_a_refused_force_push_stays_refused_until_a_fast_forward(
    remote: Remote, target: Path, signing: tuple[Path, dict[str, object]]
) -> None:
    key, options = signing
    for seed in (1, 2, 3):
        remote.register("fraud", seed=seed)
    old = remote.stage({"fraud": 1}, sign_with=key)
    remote.stage({"fraud": 2}, sign_with=key)
    config = ControllerConfig(remote.url, "production", target, **options)  # type: ignore[arg-type]
    with Controller(config) as controller:
        assert controller.reconcile().outcome == "applied"
        applied = remote.head()
        git(remote.registry, "reset", "-q", "--hard", old)
        remote.push(force=True)
        assert controller.reconcile(force=True).outcome == "invalid"
        assert controller.reconcile(force=True).outcome == "invalid"

        # the branch put back on top of what was applied: a fast-forward again
        git(remote.registry, "reset", "-q", "--hard", applied)
        remote.push(force=True)
        tip = remote.stage({"fraud": 3}, sign_with=key)
        result = controller.reconcile()
    assert (result.outcome, result.commit, live(target, "fraud")) == ("applied", tip, "3")


def test_the_cli_refuses_and_allows(remote: Remote, target: Path, ssh_keys: tuple[Path, Path, Path]) -> None:
    trusted, _stranger, allowed = ssh_keys
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    old = remote.stage({"fraud": 1}, sign_with=trusted)
    flags = ["--verify-signatures", "--allowed-signers", str(allowed)]
    base = ["controller", "--repo", remote.url, "--stage", "production", "--target", str(target), "--once"]
    assert run(*base, *flags).exit_code == 0
    new = remote.stage({"fraud": 2}, sign_with=trusted)
    assert run(*base, *flags).exit_code == 0
    git(remote.registry, "reset", "-q", "--hard", old)
    remote.push(force=True)

    refused = run(*base, *flags)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1] == f"error: {refusal(old, new)}"

    allowed_run = run(*base, *flags, "--allow-non-fast-forward")
    assert allowed_run.exit_code == 0, allowed_run.stderr
    assert live(target, "fraud") == "1"

    usage = run(*base, "--allow-non-fast-forward")
    assert usage.exit_code == 2
    assert "--allow-non-fast-forward only makes sense with --verify-signatures" in usage.stderr
