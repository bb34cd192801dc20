"""``gitreg controller --once`` when the applied commit is still the tip: answered by ``controller.poll``
with the standard library and one plain ``git ls-remote``, without importing pydantic, GitPython or
prometheus_client; everything else (and every doubt) handed to the full controller, which then behaves as
before. Also: old versions are deleted only after the switch is reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from controller.helpers import Remote, run_controller, status_of, versions_on_disk, wait_for
from gitreg.controller import Event, reconcile_once
from gitreg.controller import poll as polls
from gitreg.controller import status as statuses
from gitreg.errors import GitError
from gitreg.gitlite import ls_remote

HEAVY = ("pydantic", "git", "gitdb", "prometheus_client", "yaml", "gitreg.registry", "gitreg.manifest")


def imported_by(argv: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``argv`` (a python command) with ``-X importtime``: the process, and every module it imported."""
    result = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, check=False, timeout=120
    )
    modules = {
        line.rpartition("|")[2].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result, modules


def once_argv(remote: Remote, target: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gitreg",
        "controller",
        "--repo",
        remote.url,
        "--stage",
        "production",
        "--target",
        str(target),
        "--once",
        *args,
    ]


@pytest.fixture
def deployed(remote: Remote, target: Path) -> str:
    """fraud@1 in production, applied to ``target`` by a first --once: the commit."""
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    commit = remote.stage({"fraud": 1})
    assert run_controller(remote, target).returncode == 0
    return commit


def test_a_poll_with_nothing_new_imports_nothing_heavy(remote: Remote, target: Path, deployed: str) -> None:
    before = (target / ".gitreg" / "status.json").read_bytes()
    result, modules = imported_by(once_argv(remote, target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"unchanged {deployed[:12]}: no change\n"
    assert [ln for ln in result.stderr.splitlines() if not ln.startswith("import time:")] == []
    assert sorted(m for m in HEAVY if m in modules) == []
    assert "gitreg.controller.poll" in modules  # the guard sees the quick path, not some other exit
    assert (target / ".gitreg" / "status.json").read_bytes() == before  # nothing written, as before

    # With work to do (and with --verify-signatures' checks, on a commit not yet applied), the full
    # controller runs: the guard above is not blind to imports.
    remote.stage({"fraud": 2})
    result, modules = imported_by(once_argv(remote, target))
    assert result.returncode == 0, result.stderr
    assert {"pydantic", "gitreg.gitrepo", "prometheus_client"} <= modules


def test_signature_checks_still_refuse_a_new_commit(
    remote: Remote, target: Path, ssh_keys: tuple[Path, Path, Path]
) -> None:
    trusted, stranger, allowed = ssh_keys
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    good = remote.stage({"fraud": 1}, sign_with=trusted)
    flags = ("--verify-signatures", "--allowed-signers", str(allowed))
    assert run_controller(remote, target, *flags).stdout == f"applied {good[:12]}: fraud none -> 1\n"
    result, modules = imported_by(once_argv(remote, target, *flags))  # the same applied commit
    assert (result.returncode, result.stdout) == (0, f"unchanged {good[:12]}: no change\n")
    assert "pydantic" not in modules
    bad = remote.stage({"fraud": 2}, sign_with=stranger)
    result = run_controller(remote, target, *flags)
    assert (result.returncode, result.stdout) == (1, f"invalid {bad[:12]}: no change\n")
    result = run_controller(remote, target, *flags)  # refused again, not taken as applied
    assert (result.returncode, result.stdout) == (1, f"invalid {bad[:12]}: no change\n")


def test_a_current_link_changed_by_hand_is_put_back(remote: Remote, target: Path, deployed: str) -> None:
    (target / "fraud" / "current").unlink()
    result = run_controller(remote, target)
    assert (result.returncode, result.stdout) == (0, f"applied {deployed[:12]}: fraud none -> 1\n")
    assert (target / "fraud" / "current").readlink() == Path("1")


def test_another_spec_reapplies(remote: Remote, target: Path, deployed: str) -> None:
    result = run_controller(remote, target, "--keep", "3")
    assert (result.returncode, result.stdout) == (0, f"applied {deployed[:12]}: no change\n")
    assert status_of(target)["spec"]["keep"] == 3
    assert run_controller(remote, target, "--keep", "3").stdout == f"unchanged {deployed[:12]}: no change\n"


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s["history"][0].update(duration_seconds="slow"),  # a part the quick path does not use
        lambda s: s["models"]["fraud"].update(state="dancing"),
        lambda s: s["spec"].update(prune=1),  # pydantic reads True: another spec, applied again
        lambda s: s.update(models=[]),
    ],
)
def test_a_status_file_in_doubt_goes_to_the_full_controller(
    remote: Remote, target: Path, deployed: str, damage: Any
) -> None:
    path = target / ".gitreg" / "status.json"
    status = json.loads(path.read_text())
    damage(status)
    path.write_text(json.dumps(status))
    result, modules = imported_by(once_argv(remote, target))
    assert result.returncode == 0, result.stderr
    assert "pydantic" in modules
    # whatever the full controller made of it, the file is one it reads again, and the next poll is quick
    assert statuses.read(path) is not None
    result, modules = imported_by(once_argv(remote, target))
    assert (result.returncode, result.stdout) == (0, f"unchanged {deployed[:12]}: no change\n")
    assert "pydantic" not in modules


def test_leftovers_are_cleaned_and_reported(remote: Remote, target: Path, deployed: str) -> None:
    (target / ".gitreg" / "tmp" / "fraud.2.abcd").mkdir()
    result = run_controller(remote, target)
    assert (result.returncode, result.stdout) == (0, f"unchanged {deployed[:12]}: no change\n")
    assert "event=cleaned" in result.stderr
    assert "removed=.gitreg/tmp/fraud.2.abcd" in result.stderr
    assert list((target / ".gitreg" / "tmp").iterdir()) == []


def test_an_unreachable_remote_is_reported_once(remote: Remote, target: Path, deployed: str) -> None:
    remote.bare.rename(remote.bare.with_name("moved.git"))
    message = f"git ls-remote failed: fatal: '{remote.bare}' does not appear to be a git repository"
    for _ in range(2):
        result = run_controller(remote, target)
        assert (result.returncode, result.stdout) == (3, "unreachable -: no change\n")
        assert result.stderr.splitlines()[-1] == f"error: {message}"
    assert status_of(target)["remote_error"]["message"] == message
    remote.bare.with_name("moved.git").rename(remote.bare)
    result = run_controller(remote, target)  # back: the full controller reports it, then quick again
    assert (result.returncode, result.stdout) == (0, f"unchanged {deployed[:12]}: no change\n")
    assert "event=remote-reachable" in result.stderr
    assert status_of(target)["remote_error"] is None
    assert run_controller(remote, target).stderr == ""


def test_the_lock_is_taken(remote: Remote, target: Path, deployed: str) -> None:
    code = (
        "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(target / ".gitreg" / "lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        result = run_controller(remote, target)
        assert (result.returncode, result.stdout) == (3, "")
        assert result.stderr.startswith("error: another gitreg controller (pid ")
        assert f"is working on {target} (stop it, or give this one another --target)" in result.stderr
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_the_poll_shapes_follow_the_status_models() -> None:
    """poll.py's copy of status.json's shape names exactly the models' fields (a field added to a model
    and not to the shape, or the other way round, fails here)."""
    pairs: list[tuple[dict[str, Any], type[BaseModel]]] = [
        (polls.STATUS, statuses.Status),
        (polls.SPEC, statuses.Spec),
        (polls.COMMIT_MARK, statuses.CommitMark),
        (polls.ATTEMPT, statuses.Attempt),
        (polls.REMOTE_ERROR, statuses.RemoteError),
        (polls.MODEL_STATUS, statuses.ModelStatus),
        (polls.HISTORY_ENTRY, statuses.HistoryEntry),
    ]
    for shape, model in pairs:
        fields = {info.alias or name: info.is_required() for name, info in model.model_fields.items()}
        assert {name: required for name, (_shape, required) in shape.items()} == fields, model.__name__


# --- deleting old versions only after the switch is reported ---------------------------------------------


def test_old_versions_are_deleted_after_the_switch_is_reported(remote: Remote, target: Path) -> None:
    for seed in (1, 2, 3):
        remote.register("fraud", seed=seed)
        remote.register("churn", seed=seed + 10)
    remote.stage({"fraud": 1, "churn": 1})
    reconcile_once(remote.url, "production", target, keep=1)
    second = remote.stage({"fraud": 2, "churn": 2})
    seen: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}

    def log(event: Event) -> None:
        seen.setdefault(
            event.name,
            (status_of(target), versions_on_disk(target, "fraud"), versions_on_disk(target, "churn")),
        )

    result = reconcile_once(remote.url, "production", target, keep=1, log=log)
    assert result.outcome == "applied"
    status, fraud, churn = seen["reconciled"]
    # When the reconcile is reported, status.json already says what is live and the old versions are there
    assert status["applied"]["commit"] == second
    assert {m: s["live"] for m, s in status["models"].items()} == {"fraud": 2, "churn": 2}
    assert (fraud, churn) == (["1", "2"], ["1", "2"])
    assert list(seen).index("trimmed") > list(seen).index("reconciled")
    assert (versions_on_disk(target, "fraud"), versions_on_disk(target, "churn")) == (["2"], ["2"])


def test_the_hook_sees_the_new_version_live_and_the_old_one_kept(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target, keep=1)
    remote.stage({"fraud": 2})
    record = target.parent / "seen"
    hook = f"ls {target}/fraud > {record}; readlink {target}/fraud/current >> {record}"
    assert reconcile_once(remote.url, "production", target, keep=1, on_deploy=hook).outcome == "applied"
    assert record.read_text().split() == ["1", "2", "current", "2"]
    assert versions_on_disk(target, "fraud") == ["2"]


# --- gitlite.ls_remote: git ls-remote as a plain process ------------------------------------------------


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finding processes needs /proc")
def test_ls_remote_ends_a_remote_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "helper-pid"
    hang = tmp_path / "hang.sh"
    hang.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 120\n")
    hang.chmod(0o755)
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext:file")
    with pytest.raises(GitError) as caught:
        ls_remote(f"ext::{hang}", "main", timeout=1)
    assert str(caught.value).startswith("git ls-remote failed: no answer from the remote in 1 seconds")
    helper = int(pid_file.read_text())
    wait_for(lambda: not alive(helper), "the remote's helper to be ended with git")
