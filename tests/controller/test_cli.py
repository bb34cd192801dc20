"""``gitreg controller --once`` and ``gitreg controller status`` through the command line: output, exit
codes, and every refused option (refused before anything is written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.helpers import Remote, status_of
from testing import run


def once(remote: Remote, target: Path, *args: str) -> tuple[int, str, str]:
    result = run(
        "controller", "--repo", remote.url, "--stage", "production", "--target", target, "--once", *args
    )
    return result.exit_code, result.stdout, result.stderr


def test_once_prints_what_it_did_and_exits_by_outcome(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    first = remote.stage({"fraud": 1})
    code, out, err = once(remote, target)
    assert (code, out) == (0, f"applied {first[:12]}: fraud none -> 1\n")
    assert [line.split(" ", 2)[2].split(" ")[0] for line in err.splitlines()] == [
        "event=observed",
        "event=deploy",
        "event=downloaded",
        "event=switched",
        "event=reconciled",
    ]
    assert once(remote, target) == (0, f"unchanged {first[:12]}: no change\n", "")

    bad = remote.commit({"stages/production.yaml": "fraud: 9\n"}, "Promote a version that does not exist")
    code, out, err = once(remote, target, "--log-format", "json")
    assert (code, out) == (1, f"invalid {bad[:12]}: no change\n")
    assert err.splitlines()[-1] == "error: stages/production.yaml:1:1: stage-entry: fraud@9 does not exist"
    event = json.loads(err.splitlines()[-2])
    assert (event["event"], event["level"], event["commit"]) == ("invalid", "error", bad)
    assert event["errors"] == ["stages/production.yaml:1:1: stage-entry: fraud@9 does not exist"]

    remote.blob("fraud", 2).unlink()
    fixed = remote.stage({"fraud": 2})
    code, out, err = once(remote, target)
    assert code == 3
    assert out.startswith(f"partial {fixed[:12]}: fraud 1 -> 2 failed: blob sha256:")
    assert err.splitlines()[-1].startswith("error: fraud: blob sha256:")


def test_status_for_humans_and_as_json(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("churn", seed=2)
    first = remote.stage({"fraud": 1, "churn": 1})
    assert once(remote, target)[0] == 0
    remote.blob("churn", 1).unlink()
    (target / "churn" / "1").rename(target / "gone")  # churn must be downloaded again, and cannot be
    second = remote.stage({"fraud": 1, "churn": 1})  # the same stage, a new commit

    assert once(remote, target)[0] == 3
    result = run("controller", "status", "--target", target)

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"target     {target}"
    assert lines[1] == f"following  stage production of {remote.url} (branch main)"
    assert lines[2].startswith(f"observed   {second[:12]}  20")
    assert lines[3].startswith(f"applied    {first[:12]}  20")
    assert lines[4].startswith(f"attempted  {second[:12]}  20") and lines[4].endswith("  partial")
    assert lines[5].startswith("           churn: blob sha256:")
    assert lines[7].split() == ["MODEL", "WANTED", "LIVE", "STATE", "CHANGED", "ERROR"]
    assert lines[8].split()[:4] == ["churn", "1", "-", "failed"]
    assert lines[9].split()[:4] == ["fraud", "1", "1", "synced"] and lines[9].endswith("  -")
    assert lines[10:12] == ["", "recent reconciles (newest last)"]
    assert lines[12].split()[1:] == [
        first[:12],
        "applied",
        "churn",
        "none",
        "->",
        "1;",
        "fraud",
        "none",
        "->",
        "1",
    ]
    assert lines[13].split()[1:4] == [second[:12], "partial", "churn"]

    result = run("controller", "status", "--target", target, "--json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, status_of(target))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--stage", "production"],
            "error: missing --repo, --target (or run gitreg controller status --target DIR)",
        ),
        (["--keep", "0"], "error: Invalid value for '--keep': 0 is not in the range x>=1."),
        (["--allowed-signers", "x"], "error: --allowed-signers only makes sense with --verify-signatures"),
        (["--webhook-secret", "x"], "error: --webhook-secret only makes sense with --listen"),
        (
            ["--listen", "9100"],
            "error: --listen '9100' is not an address (write HOST:PORT, e.g. 127.0.0.1:9100 or :9100)",
        ),
        (
            ["--verify-signatures", "--allowed-signers", "/nonexistent/allowed"],
            "error: --allowed-signers /nonexistent/allowed: no such file",
        ),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(
    remote: Remote, target: Path, args: list[str], message: str
) -> None:
    base = (
        []
        if args[0] == "--stage"
        else ["--repo", remote.url, "--stage", "production", "--target", str(target)]
    )
    result = run("controller", *base, *args, "--once")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")
    assert not target.exists()


def test_status_of_a_folder_no_controller_has_used(tmp_path: Path) -> None:
    result = run("controller", "status", "--target", tmp_path)
    assert (result.exit_code, result.stderr) == (
        3,
        f"error: {tmp_path} has no controller status ({tmp_path}/.gitreg/status.json does not exist) "
        "(run gitreg controller with --target pointing here first)\n",
    )
