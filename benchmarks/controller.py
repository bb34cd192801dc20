"""Claims: the controller's poll that finds nothing new does not grow with the registry; a merge reaches the
target at about the speed of a plain verified copy; deploying a large artifact takes no more memory.

    .venv/bin/python benchmarks/controller.py --sizes 100,10000 --artifact-mib 100 --rss-mib 1024

1. On registries of each of --sizes versions (one served model in production), served over file://:
   `Controller.reconcile()` on the applied commit in process and `gitreg controller --once` as a subprocess,
   against `python -c pass` + `git ls-remote` (the floor: a Python process and one request to the remote),
   `git ls-remote` alone and `gitreg --version` (start-up). Target: --once at most 3x the floor.
2. Merge to live of an --artifact-mib artifact: each sample pushes a promotion (untimed), then times
   `gitreg controller --once` as a process (start-up, ls-remote, shallow fetch, full validation, download +
   verify + fsync, switch, status), against a plain read + SHA-256 + write + fsync of the same blob (and
   without fsync), and a 1 KiB promotion (the fixed cost).
3. Peak RSS of `gitreg controller --once` deploying an --rss-mib artifact, against one with nothing to do."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _harness import (
    MIB,
    Case,
    gitreg_executable,
    hash_copy,
    measure,
    parser,
    random_file,
    ratio,
    report,
    run,
    run_child,
    session,
)

from gitreg.controller import Controller, ControllerConfig
from testing.synthetic import commit_all, make_registry, model_names, registry_files


def served_registry(work: Path, name: str, versions: int = 0) -> tuple[Path, str]:
    """A registry of ``versions`` synthetic versions (10 per model) and a bare copy of it, to which
    :func:`promote` pushes; returns the checkout and the bare copy's file:// URL."""
    path = work / name
    files = registry_files(model_names(max(1, versions // 10)), 10) if versions else {}
    make_registry(path, work / f"{name}-blobs", files)
    run("git", "clone", "--quiet", "--bare", path, f"{path}.git")
    return path, Path(f"{path}.git").as_uri()


def add(path: Path, model: str, size: int) -> None:
    """Register a new version of ``model``: ``size`` random bytes, with what the production policy asks."""
    artifact = random_file(path.parent / f"{model}.bin", size)
    lineage = ["--description", "x", "--code-commit", "1b2c3d4e5f60718293a4b5c6d7e8f90123456789"]
    run(gitreg_executable(), "-C", path, "register", model, artifact, *lineage)
    artifact.unlink()


def promote(path: Path, text: str) -> None:
    (path / "stages" / "production.yaml").write_text(text)
    commit_all(path, f"Promote {text.strip()}")
    run("git", "-C", path, "push", "--quiet", f"{path}.git", "main")


def reconcile(controller: Controller, expect: str) -> None:
    result = controller.reconcile()
    if result.outcome != expect:
        raise SystemExit(f"error: expected the reconcile to be {expect!r}: {result}")


def floor(ls_remote: Callable[[], object]) -> None:
    """What no poll can go below: a Python process that does nothing, and one request to the remote."""
    run(sys.executable, "-c", "pass")
    ls_remote()


def verified_copy(source: Path, dest: Path, fsync: bool) -> None:
    hash_copy(source, dest, fsync)
    dest.unlink()


def flipper(path: Path) -> Callable[[str], None]:
    """A function that promotes the other version (1 or 2) of a model, keeping the other models' versions."""
    live = {"big": 1, "small": 1}

    def flip(model: str) -> None:
        live[model] = 3 - live[model]
        promote(path, "".join(f"{m}: {v}\n" for m, v in live.items()))

    return flip


def main() -> int:
    p = parser(__doc__, repeat=5)
    p.add_argument("--sizes", default="100,10000", help="registry sizes in versions (100,10000)")
    p.add_argument("--artifact-mib", type=int, default=100, help="merge-to-live artifact size (100)")
    p.add_argument("--rss-mib", type=int, default=1024, help="peak-memory artifact size (1024)")
    args = p.parse_args()
    exe = gitreg_executable()
    with session(args, "gitreg controller") as work:
        print("1. a poll that finds the applied commit")
        for versions in [int(s) for s in args.sizes.split(",") if s]:
            path, url = served_registry(work, f"registry-{versions}", versions)
            add(path, "small", 1024)
            promote(path, "small: 1\n")
            target = work / f"target-{versions}"  # the CLI's; the in-process controller has its own (a lock)
            once = [exe, "controller", "--repo", url, "--stage", "production", "--target", target, "--once"]
            run(*once)
            with Controller(
                ControllerConfig(url, "production", work / f"target-{versions}-lib")
            ) as controller:
                reconcile(controller, "applied")
                ls_remote = partial(run, "git", "ls-remote", url, "refs/heads/main")
                cases = [
                    Case("baseline: python -c pass + git ls-remote", partial(floor, ls_remote)),
                    Case("baseline: git ls-remote", ls_remote),
                    Case("baseline: gitreg --version", partial(run, exe, "--version")),
                    Case("Controller.reconcile(), in process", partial(reconcile, controller, "unchanged")),
                    Case("gitreg controller --once", partial(run, *once)),
                ]
                print(f"\n{versions:,} versions:")
                timings = measure(cases, args.repeat)
                report(timings, [cases[0].label, cases[1].label, cases[2].label])
                quick = ratio(timings, "gitreg controller --once", cases[0].label)
                print(f"controller --once, no change / (python -c pass + git ls-remote): {quick:.2f}x")

        print(f"\n2. merge to live, {args.artifact_mib} MiB artifact on the local store")
        path, url = served_registry(work, "registry-merge")
        for model, size in (("big", args.artifact_mib * MIB), ("small", 1024)):
            add(path, model, size)
            add(path, model, size)
        promote(path, "big: 1\nsmall: 1\n")
        blob = max(
            (work / "registry-merge-blobs").rglob("*"), key=lambda f: f.stat().st_size if f.is_file() else 0
        )
        copy, flip = work / "copy.tmp", flipper(path)
        target = work / "target-merge"
        once = [exe, "controller", "--repo", url, "--stage", "production", "--target", target, "--once"]
        run(*once, "--keep", "1")
        baseline, durable = "baseline: read + sha256 + write", "baseline: read + sha256 + write + fsync"
        cases = [
            Case(baseline, partial(verified_copy, blob, copy, False)),
            Case(durable, partial(verified_copy, blob, copy, True)),
            Case("merge -> live (--once)", partial(run, *once, "--keep", "1"), partial(flip, "big")),
            Case("merge -> live, 1 KiB (--once)", partial(run, *once, "--keep", "1"), partial(flip, "small")),
        ]
        timings = measure(cases, args.repeat)
        report(timings, [durable, baseline], mib=args.artifact_mib)
        merge = ratio(timings, "merge -> live (--once)", durable)
        print(f"merge -> live / plain read + sha256 + write + fsync: {merge:.2f}x")

        print(f"\n3. peak RSS of gitreg controller --once deploying {args.rss_mib} MiB")
        path, url = served_registry(work, "registry-rss")
        add(path, "small", 1024)
        add(path, "huge", args.rss_mib * MIB)
        promote(path, "small: 1\n")
        once = [
            exe,
            "controller",
            "--repo",
            url,
            "--stage",
            "production",
            "--target",
            work / "target-rss",
            "--once",
        ]
        run(*once)
        cases = [
            Case("baseline: nothing to do (start-up, imports, ls-remote)", partial(run_child, *once)),
            Case("deploying", partial(run_child, *once), partial(promote, path, "small: 1\nhuge: 1\n")),
        ]
        report(measure(cases, 1, warmup=False), [cases[0].label])
    return 0


if __name__ == "__main__":
    sys.exit(main())
