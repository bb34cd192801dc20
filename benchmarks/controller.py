"""What the deployment controller costs: a poll that finds nothing new, a merge to the new version live,
and its memory while it deploys a large artifact.

    .venv/bin/python benchmarks/controller.py [--sizes 100,10000] [--artifact-mib 100] [--rss-mib 1024]
                                              [--repeat 5] [--workdir DIR] [--keep]

1. No-change poll on registries of each size in ``--sizes`` (versions; 10 per model, generated as in
   read_scale.py, plus one served model with a real blob in production), served from a bare repository
   over file://. After one untimed first apply (its time is printed: it validates the whole registry),
   times ``Controller.reconcile()`` on the same commit in process (what the loop pays every interval) and
   ``gitreg controller --once`` as a subprocess (what a cron job pays, Python start-up included), next to
   a bare ``git ls-remote`` (the floor: one request to the remote). The poll must not grow with the size.
2. Merge to live: two versions of an ``--artifact-mib`` artifact on the local store; each timed run pushes
   a commit that promotes the other one (the merge, untimed) and times the reconcile that follows: ls-remote,
   shallow fetch, full validation, download + verify + fsync, switch (``--keep 1``, so every run downloads).
   Baselines in the same run, same file, same filesystem: a plain verified copy (read + SHA-256 + write,
   the ratio's denominator) and the same with fsync; and a 1 KiB promotion for the fixed cost.
3. Peak RSS of a ``gitreg controller --once`` child process deploying an ``--rss-mib`` artifact, next to
   one that finds nothing to do (Python and gitreg's imports), from ``wait4``'s ru_maxrss."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from functools import partial
from pathlib import Path

from _common import (
    MIB,
    Timing,
    environment_summary,
    gitreg_executable,
    isolate_env,
    measure,
    ms,
    run_quiet,
    table,
    work_folder,
)
from read_scale import generate

from gitreg.controller import Controller, ControllerConfig
from gitreg.registry import model_path, stage_path, version_path
from gitreg.storage import LocalStore

CODE_COMMIT = "1b2c3d4e5f60718293a4b5c6d7e8f90123456789"
_SERVED = """\
apiVersion: gitreg/v1
kind: ModelVersion
model: served
version: 1
artifact: {{digest: "{digest}", size: {size}, type: file, name: model.bin}}
lineage: {{code: {{commit: {commit}}}}}
description: The one model the benchmark controller deploys
created_at: "2026-11-22T10:00:00Z"
created_by: Bench User <bench@example.com>
status: active
"""


# --- registries ------------------------------------------------------------------------------------------


def big_registry(work: Path, versions: int) -> str:
    """A generated registry of ``versions`` manifests whose production stage holds one real model; pushed
    to a bare repository. Returns its file:// URL."""
    path = work / f"registry-{versions}"
    generate(path, max(1, versions // 10), 10)
    artifact = work / "served.bin"
    artifact.write_bytes(os.urandom(4096))
    blob = LocalStore(work / "blobs").put_file(artifact)
    files = {
        model_path("served"): "apiVersion: gitreg/v1\nkind: Model\nname: served\n",
        version_path("served", 1): _SERVED.format(digest=blob.digest, size=blob.size, commit=CODE_COMMIT),
        stage_path("production"): "served: 1\n",
    }
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    run_quiet(["git", "add", "-A"], cwd=path)
    run_quiet(["git", "commit", "--quiet", "--no-verify", "-m", "Serve one model"], cwd=path)
    return bare_copy(path)


def bare_copy(path: Path) -> str:
    bare = path.with_name(path.name + ".git")
    run_quiet(["git", "clone", "--quiet", "--bare", str(path), str(bare)])
    return bare.as_uri()


def push(path: Path) -> None:
    run_quiet(["git", "push", "--quiet", str(path.with_name(path.name + ".git")), "main"], cwd=path)


def promote(path: Path, text: str) -> None:
    (path / "stages" / "production.yaml").write_text(text)
    run_quiet(["git", "add", "-A"], cwd=path)
    run_quiet(["git", "commit", "--quiet", "--no-verify", "-m", f"Promote {text.strip()}"], cwd=path)
    push(path)


def register(path: Path, model: str, artifact: Path) -> None:
    run_quiet(
        [
            gitreg_executable(),
            "register",
            model,
            str(artifact),
            "--description",
            "bench",
            "--code-commit",
            CODE_COMMIT,
        ],
        cwd=path,
    )


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(os.urandom(min(left, 8 * MIB)))
            left -= min(left, 8 * MIB)
    return path


# --- 1. the no-change poll -------------------------------------------------------------------------------


def no_change_poll(work: Path, sizes: list[int], repeat: int) -> None:
    rows = []
    for versions in sizes:
        url = big_registry(work, versions)
        target = work / f"target-{versions}"
        config = ControllerConfig(url, "production", target)
        with Controller(config) as controller:
            start = time.perf_counter()
            first = controller.reconcile()
            first_apply = time.perf_counter() - start
            if first.outcome != "applied":
                raise SystemExit(f"error: the first apply did not apply: {first}")

            def poll(c: Controller = controller) -> None:
                if c.reconcile().outcome != "unchanged":
                    raise SystemExit("error: a no-change poll did something")

            in_process = measure(poll, repeat)
        cli = [
            gitreg_executable(),
            "controller",
            "--repo",
            url,
            "--stage",
            "production",
            "--target",
            str(target),
        ]
        once = measure(partial(run_quiet, [*cli, "--once"]), repeat)
        ls_remote = measure(partial(run_quiet, ["git", "ls-remote", url, "refs/heads/main"]), repeat)
        startup = measure(partial(run_quiet, [gitreg_executable(), "--version"]), repeat)
        for name, timing in (
            ("Controller.reconcile(), in process", in_process),
            ("gitreg controller --once, subprocess", once),
            ("baseline: git ls-remote, subprocess", ls_remote),
            ("baseline: gitreg --version, subprocess", startup),
        ):
            rows.append([f"{versions:,}", name, ms(timing.best), ms(timing.median)])
        rows.append([f"{versions:,}", "(first apply: fetch + full validation + deploy)", ms(first_apply), ""])
    print("\n1. a poll that finds the applied commit (ms)")
    print(table(["VERSIONS", "WHAT", "BEST", "MEDIAN"], rows, right=(0, 2, 3)))


# --- 2. merge to live ------------------------------------------------------------------------------------


def verified_copy(source: Path, dest: Path, fsync: bool) -> None:
    digest = hashlib.sha256()
    with source.open("rb") as src, dest.open("wb") as out:
        while chunk := src.read(MIB):
            digest.update(chunk)
            out.write(chunk)
        if fsync:
            out.flush()
            os.fsync(out.fileno())
    digest.hexdigest()
    dest.unlink()


def merge_to_live(work: Path, size_mib: int, repeat: int) -> None:
    path = work / "registry-merge"
    run_quiet([gitreg_executable(), "init", str(path), "--storage", (work / "merge-blobs").as_uri()])
    for name in ("a", "b"):
        artifact = random_file(work / f"{name}.bin", size_mib * MIB)
        register(path, "big", artifact)
        artifact.unlink()
    register(path, "small", random_file(work / "small-1.bin", 1024))
    register(path, "small", random_file(work / "small-2.bin", 1024))
    url = bare_copy(path)
    promote(path, "big: 1\nsmall: 1\n")
    target = work / "target-merge"
    config = ControllerConfig(url, "production", target, keep=1)
    blob = next(
        p for p in (work / "merge-blobs" / "sha256").rglob("*") if p.is_file() and p.stat().st_size > MIB
    )
    live_samples, small_samples = [], []
    with Controller(config) as controller:
        controller.reconcile()
        small_version = 1
        for run in range(repeat):
            big = 2 if run % 2 == 0 else 1
            promote(path, f"big: {big}\nsmall: {small_version}\n")
            start = time.perf_counter()
            result = controller.reconcile()
            live_samples.append(time.perf_counter() - start)
            if [c.action for c in result.changes] != ["deploy"] or not all(c.ok for c in result.changes):
                raise SystemExit(f"error: the promotion was not a download + switch: {result}")
            small_version = 3 - small_version
            promote(path, f"big: {big}\nsmall: {small_version}\n")
            start = time.perf_counter()
            controller.reconcile()
            small_samples.append(time.perf_counter() - start)
    live = Timing(tuple(live_samples))
    small = Timing(tuple(small_samples))
    copy = measure(lambda: verified_copy(blob, target / "copy.tmp", fsync=False), repeat)
    copy_fsync = measure(lambda: verified_copy(blob, target / "copy.tmp", fsync=True), repeat)
    mib_s = size_mib / live.median
    rows = [
        ["merge -> live (reconcile after the push)", ms(live.best), ms(live.median), f"{mib_s:.0f}", "1.00"],
        [
            "baseline: read + sha256 + write",
            ms(copy.best),
            ms(copy.median),
            f"{size_mib / copy.median:.0f}",
            "",
        ],
        ["baseline: read + sha256 + write + fsync", ms(copy_fsync.best), ms(copy_fsync.median), "", ""],
        ["fixed cost: promote a 1 KiB artifact", ms(small.best), ms(small.median), "", ""],
    ]
    rows[1][4] = f"{live.median / copy.median:.2f}"
    rows[2][4] = f"{live.median / copy_fsync.median:.2f}"
    print(f"\n2. merge to live, {size_mib} MiB artifact on the local store (ms)")
    print(table(["WHAT", "BEST", "MEDIAN", "MIB/S", "LIVE / THIS"], rows, right=(1, 2, 3, 4)))
    print(
        f"ratio (median merge->live / median plain verified copy): {live.median / copy.median:.2f}; "
        f"against a copy that also fsyncs, as the controller does: {live.median / copy_fsync.median:.2f}"
    )


# --- 3. peak memory --------------------------------------------------------------------------------------


# Started from this (large) benchmark process, a child's ru_maxrss would include this process's memory:
# Linux carries the pre-exec high-water mark over an exec. So a small launcher starts the child and
# reports the child's wait4 figure; its own few MiB are in both the idle and the deploying figure.
_LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_pid, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, time.perf_counter() - start)
"""


def child_rss(argv: list[str]) -> tuple[int, float]:
    """(peak RSS in KiB, seconds) of one child process, from wait4."""
    done = run_quiet([sys.executable, "-S", "-c", _LAUNCHER, *argv])
    code, rss, seconds = done.stdout.decode().splitlines()[-1].split()
    if code != "0":
        raise SystemExit(f"error: {' '.join(argv)} exited with {code}")
    return int(rss), float(seconds)


def peak_memory(work: Path, size_mib: int) -> None:
    path = work / "registry-rss"
    run_quiet([gitreg_executable(), "init", str(path), "--storage", (work / "rss-blobs").as_uri()])
    register(path, "small", random_file(work / "rss-small.bin", 1024))
    artifact = random_file(work / "huge.bin", size_mib * MIB)
    register(path, "huge", artifact)
    artifact.unlink()
    url = bare_copy(path)
    promote(path, "small: 1\n")
    target = work / "target-rss"
    cli = [gitreg_executable(), "controller", "--repo", url, "--stage", "production", "--target", str(target)]
    run_quiet([*cli, "--once"])
    idle, _ = child_rss([*cli, "--once"])
    promote(path, "small: 1\nhuge: 1\n")
    deploying, seconds = child_rss([*cli, "--once"])
    print("\n3. peak RSS of a gitreg controller --once child process (wait4 ru_maxrss)")
    print(
        table(
            ["RUN", "PEAK RSS MIB"],
            [
                ["nothing to do (Python + imports + one ls-remote)", f"{idle / 1024:.1f}"],
                [f"deploying a {size_mib} MiB artifact ({seconds:.1f} s)", f"{deploying / 1024:.1f}"],
            ],
            right=(1,),
        )
    )
    print(f"difference: {(deploying - idle) / 1024:.1f} MiB for {size_mib} MiB of artifact")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,10000", help="registry sizes in versions (100,10000)")
    parser.add_argument("--artifact-mib", type=int, default=100, help="merge-to-live artifact size (100)")
    parser.add_argument("--rss-mib", type=int, default=1024, help="peak-memory artifact size (1024)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measurement (5)")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work folder (system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with work_folder(args.workdir, args.keep) as work:
        isolate_env(work)
        print("gitreg controller benchmark")
        print(environment_summary(work))
        no_change_poll(work, sizes, args.repeat)
        merge_to_live(work, args.artifact_mib, args.repeat)
        peak_memory(work, args.rss_mib)
        print(f"\nload average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
