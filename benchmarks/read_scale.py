"""Claim: on a registry of 10,000 versions, resolve, show and list answer well under a second.

    .venv/bin/python benchmarks/read_scale.py --models 1000 --versions 10 --repeat 5

Issue #11's target 1 (reads and start-up as processes, each as a ratio to the floor measured in the same
rounds: `git cat-file -p HEAD:stages/production.yaml && python -c 'import yaml'`), at 1,000 and 10,000
versions, and `show M` at 300 and 1,000 versions of one model:

    .venv/bin/python benchmarks/read_scale.py --floor --sizes 1000,10000 --per-model 300,1000 --repeat 7

A registry of MODELS x VERSIONS manifests (model.yaml files, and staging and production holding half of the
models) is committed in one commit, untimed. Then, in process and as `gitreg -C p ...` subprocesses:
`Registry.open(p).resolve()` of a version and of a stage (on the working tree and on the commit), `gitreg
show` and `gitreg list`, next to the baselines `gitreg --version` (start-up) and `git ls-tree -r -l HEAD`
(listing the commit). All of it twice: with git's objects loose, as the commit left them, then packed by `git
gc`, as in a fresh clone. A case whose best run is not under --budget-ms is flagged."""

from __future__ import annotations

import argparse
import subprocess
import sys
from functools import partial
from pathlib import Path

from _harness import Case, gitreg_executable, measure, parser, print_profile, ratio, report, run, session
from click.testing import CliRunner

from gitreg.cli import cli
from gitreg.registry import Registry
from testing.synthetic import staged_registry


def in_process(path: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["-C", str(path), *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"gitreg {' '.join(args)} exited {result.exit_code}: {result.stderr}")


def main() -> int:
    p = parser(__doc__, repeat=5)
    p.add_argument("--models", type=int, default=1000, help="models in the registry (1000)")
    p.add_argument("--versions", type=int, default=10, help="versions of each model (10)")
    p.add_argument("--budget-ms", type=int, default=500, help="a best run must stay under this (500)")
    p.add_argument("--floor", action="store_true", help="issue #11 target 1: each read / the floor")
    p.add_argument("--sizes", default="1000,10000", help="--floor: registry sizes in versions (1000,10000)")
    p.add_argument("--per-model", default="300,1000", help="--floor: versions of one model for show M")
    args = p.parse_args()
    if args.floor:
        return floor_ratios(args)
    title = f"read scale: {args.models} models x {args.versions} versions, {args.repeat} round(s)"
    with session(args, title) as work:
        path, exe = work / "registry", gitreg_executable()
        names = staged_registry(path, args.models, args.versions)
        model = names[len(names) // 2]
        at_version, at_stage = f"{model}@{min(7, args.versions)}", f"{model}@production"
        if Registry.open(path).resolve(at_version).model != model:
            raise SystemExit("error: the generated registry does not read back")
        baselines = ["gitreg --version (start-up)", "git ls-tree -r -l HEAD"]
        cases = [
            Case(baselines[0], partial(run, exe, "--version")),
            Case(baselines[1], partial(run, "git", "-C", path, "ls-tree", "-r", "-l", "HEAD")),
        ]
        for ref in (at_version, at_stage):
            cases.append(Case(f"Registry.open(p).resolve({ref!r})", partial(_resolve, path, None, ref)))
            cases.append(
                Case(f"Registry.open(p, ref='HEAD').resolve({ref!r})", partial(_resolve, path, "HEAD", ref))
            )
        for command in (["show", at_version], ["list"], ["list", model]):
            cases.append(
                Case(f"gitreg {' '.join(command)} (in process)", partial(in_process, path, *command))
            )
            cases.append(
                Case(f"gitreg {' '.join(command)} (subprocess)", partial(run, exe, "-C", path, *command))
            )
        slow = []
        for objects in ("loose", "packed"):
            if objects == "packed":
                run("git", "-C", path, "gc", "--quiet")
            print(f"\ngit objects {objects}; 1 untimed round, then {args.repeat}:")
            timings = measure(cases, args.repeat)
            report(timings, baselines)
            slow += [
                f"{label} ({objects})" for label, t in timings.items() if t.best * 1000 >= args.budget_ms
            ]
        flagged = [s for s in slow if not s.startswith(tuple(baselines))]
        print(f"\nover {args.budget_ms} ms (best run): {', '.join(flagged) or 'none'}")
        if args.profile:
            print_profile(f"gitreg list {model}", partial(in_process, path, "list", model))
    return 0


FLOOR = "floor: git cat-file -p HEAD:stages/production.yaml && python -c 'import yaml'"


def _floor(path: Path) -> None:
    run("git", "-C", path, "cat-file", "-p", "HEAD:stages/production.yaml")
    run(sys.executable, "-c", "import yaml")


def floor_ratios(args: argparse.Namespace) -> int:
    """Each read command as a process, median / the floor's median, measured in the same rounds."""
    sizes = [int(n) for n in args.sizes.split(",")]
    per_model = [int(n) for n in args.per_model.split(",")]
    title = f"read start-up against the floor: {sizes} versions, show M at {per_model}; {args.repeat} rounds"
    with session(args, title) as work:
        exe, rows = gitreg_executable(), []
        for size in sizes:
            path = work / f"registry-{size}"
            names = staged_registry(path, size // 10, 10)
            model = names[len(names) // 2 - len(names) // 2 % 2]  # an even one: it is in both stages
            cases = [Case(FLOOR, partial(_floor, path))]
            for command in (
                ["show", f"{model}@production"],
                ["show", f"{model}@7"],
                ["show", model],
                ["list"],
                ["pull", f"{model}@production", "-o", str(work / "pulled" / str(size)) + "/", "-q"],
            ):
                label = f"gitreg {' '.join(command[:2])}" + (" (resolution)" if command[0] == "pull" else "")
                cases.append(Case(label, partial(_pull_or_run, exe, path, work, command)))
            script = "from gitreg import Registry; "
            script += f"Registry.open({str(path)!r}).resolve_record('{model}@production')"
            label = f"python: Registry.open(p).resolve_record('{model}@production')"
            cases.append(Case(label, partial(run, sys.executable, "-c", script)))
            print(f"\n{size} versions ({size // 10} models x 10):")
            timings = measure(cases, args.repeat)
            report(timings, [FLOOR])
            rows += [
                (f"{label} @ {size}", ratio(timings, label, FLOOR)) for label in timings if label != FLOOR
            ]
        for count in per_model:
            path = work / f"one-model-{count}"
            names = staged_registry(path, 2, count)
            cases = [Case(FLOOR, partial(_floor, path))]
            cases.append(Case(f"gitreg show {names[0]}", partial(run, exe, "-C", path, "show", names[0])))
            cases.append(
                Case(
                    f"gitreg show {names[0]}@latest",
                    partial(run, exe, "-C", path, "show", f"{names[0]}@latest"),
                )
            )
            print(f"\nshow M with {count} versions of M:")
            timings = measure(cases, args.repeat)
            report(timings, [FLOOR])
            rows += [
                (f"{label} @ {count}/model", ratio(timings, label, FLOOR))
                for label in timings
                if label != FLOOR
            ]
        print("\nratios to the floor (target: at most 2.00x)")
        for label, value in rows:
            print(f"  {value:5.2f}x  {label}")
    return 0


def _pull_or_run(exe: str, path: Path, work: Path, command: list[str]) -> None:
    """A read command; ``pull`` resolves, opens the store and stops there: synthetic versions name blobs that
    no store holds, so it exits 3 saying so (its resolution is what is timed)."""
    if command[0] != "pull":
        run(exe, "-C", path, *command)
        return
    done = subprocess.run([exe, "-C", str(path), *command], capture_output=True, text=True, check=False)
    if done.returncode != 3 or "is missing from the store" not in done.stderr:
        raise RuntimeError(f"gitreg pull exited {done.returncode}: {done.stderr[-2000:]}")


def _resolve(path: Path, ref: str | None, what: str) -> None:
    Registry.open(path, ref=ref).resolve(what)


if __name__ == "__main__":
    sys.exit(main())
