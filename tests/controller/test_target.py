"""Crash safety of the target folder: the controller as a real process, SIGKILLed at chosen moments (a blob
store that stalls mid-blob, a hook that hangs, random instants), then restarted; nothing it leaves may be
a broken ``current`` or a partial version taken as complete."""

from __future__ import annotations

import contextlib
import os
import random
import resource
import subprocess
import threading
import time
from pathlib import Path

from controller.helpers import (
    Remote,
    Running,
    check_target,
    controller_argv,
    live,
    run_controller,
    status_of,
    versions_on_disk,
    wait_for,
)

MIB = 1024 * 1024


def staged_bytes(target: Path) -> int:
    return sum(p.stat().st_size for p in (target / ".gitreg" / "tmp").rglob("*") if p.is_file())


def test_killed_mid_download_then_restarted(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2, size=3 * MIB)
    first = remote.stage({"fraud": 1})
    assert run_controller(remote, target).returncode == 0
    # the store serves version 2's blob through a FIFO: half of it, then nothing until the test says so
    # (the download reads 1 MiB chunks: one is written to disk, the next is still waiting)
    blob = remote.blob("fraud", 2)
    data = blob.read_bytes()
    saved = blob.with_name("saved")
    blob.rename(saved)
    os.mkfifo(blob)
    release = threading.Event()

    def serve_half() -> None:
        fd = os.open(blob, os.O_WRONLY)
        try:
            os.write(fd, data[: 3 * MIB // 2])
            release.wait(60)
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)

    writer = threading.Thread(target=serve_half, daemon=True)
    writer.start()
    second = remote.stage({"fraud": 2})
    running = Running(controller_argv(remote, target, "--once"))
    wait_for(lambda: staged_bytes(target) >= MIB, "a first chunk of the blob to be written")

    running.kill()
    release.set()
    writer.join(timeout=10)

    assert (live(target, "fraud"), versions_on_disk(target, "fraud")) == ("1", ["1"])
    assert check_target(target, remote) == {"fraud": "1"}
    assert staged_bytes(target) == MIB  # the partial download, where nothing takes it as complete
    status = status_of(target)
    assert (status["applied"]["commit"], status["observed"]["commit"]) == (first, second)
    assert (status["models"]["fraud"]["live"], status["models"]["fraud"]["state"]) == (1, "progressing")

    blob.unlink()
    saved.rename(blob)
    done = run_controller(remote, target)

    assert (done.returncode, done.stdout) == (0, f"applied {second[:12]}: fraud 1 -> 2\n")
    assert "event=cleaned removed=.gitreg/tmp/fraud.2." in done.stderr
    assert list((target / ".gitreg" / "tmp").iterdir()) == []
    assert check_target(target, remote) == {"fraud": "2"}


def test_killed_while_the_hook_runs_runs_the_hook_again(remote: Remote, target: Path, tmp_path: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2)
    remote.stage({"fraud": 1})
    assert run_controller(remote, target).returncode == 0
    commit = remote.stage({"fraud": 2})
    started = tmp_path / "hook-started"
    running = Running(controller_argv(remote, target, "--once", "--on-deploy", f"touch {started}; sleep 60"))
    wait_for(started.exists, "the hook to start")

    running.kill()

    assert check_target(target, remote) == {"fraud": "2"}  # the switch was done before the hook ran
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["live"], fraud["state"]) == (2, "progressing")

    log = tmp_path / "hook.log"
    done = run_controller(remote, target, "--on-deploy", f'echo "$GITREG_MODEL@$GITREG_VERSION" >> {log}')

    assert (done.returncode, done.stdout) == (
        0,
        f"applied {commit[:12]}: fraud 2: on-deploy hook run again\n",
    )
    assert log.read_text() == "fraud@2\n"
    assert status_of(target)["models"]["fraud"]["state"] == "synced"


def test_killed_at_random_moments_never_breaks_the_target(remote: Remote, target: Path) -> None:
    for seed in (1, 2, 3):
        remote.register("fraud", seed=seed, size=3 * 1024 * 1024)
        remote.register("churn", seed=seed + 10, size=1024 * 1024, folder=True)
    rng = random.Random(5)  # noqa: S311 - reproducible moments to kill at, not secrets
    for round_ in range(8):
        remote.stage({"fraud": rng.randint(1, 3), "churn": rng.randint(1, 3)})
        running = Running(controller_argv(remote, target, "--once", "--keep", "2"))
        time.sleep(rng.uniform(0.0, 1.2))

        running.kill()

        found = check_target(target, remote)
        assert set(found) <= {"fraud", "churn"}, round_
        if (target / ".gitreg" / "status.json").exists():
            status_of(target)  # always whole JSON: it is replaced, never rewritten in place

    wanted = {"fraud": 2, "churn": 3}
    remote.stage(wanted)
    done = run_controller(remote, target)
    assert done.returncode == 0, done.stderr
    assert check_target(target, remote) == {m: str(v) for m, v in wanted.items()}
    assert list((target / ".gitreg" / "tmp").iterdir()) == []
    assert all(len(versions_on_disk(target, m)) <= 2 for m in wanted)


def test_a_write_failure_leaves_that_model_on_its_old_version(remote: Remote, target: Path) -> None:
    remote.register("fraud", seed=1)
    remote.register("fraud", seed=2, size=2 * MIB)
    remote.register("churn", seed=3)
    remote.stage({"fraud": 1})
    assert run_controller(remote, target).returncode == 0
    commit = remote.stage({"fraud": 2, "churn": 1})

    def small_disk() -> None:  # no file may grow past 1 MiB: the 2 MiB artifact cannot be written
        resource.setrlimit(resource.RLIMIT_FSIZE, (MIB, MIB))

    done = subprocess.run(
        controller_argv(remote, target, "--once"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        preexec_fn=small_disk,
    )

    assert done.returncode == 3
    assert done.stdout.startswith(
        f"partial {commit[:12]}: churn none -> 1; fraud 1 -> 2 failed: cannot write to "
    )
    assert done.stdout.endswith("/model.bin: File too large\n")
    assert check_target(target, remote) == {"churn": "1", "fraud": "1"}
    assert versions_on_disk(target, "fraud") == ["1"]
    assert list((target / ".gitreg" / "tmp").iterdir()) == []
    assert status_of(target)["models"]["fraud"]["state"] == "failed"
