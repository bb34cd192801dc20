"""Claim: a first `gitreg audit --format json` (no walk cache) over 5,000 merged promotions costs its Python
main thread a small multiple of the CPU `git log --first-parent --raw -- stages/` takes. CPU time, not wall
time: on a shared machine the main thread's CPU (``time.thread_time``, in a child process that has imported
gitreg) is the figure the machine's load moves least, and the main thread is what a first audit waits for
(git's processes, the walk cache's writer and the authors' lookup run on the other core).

    .venv/bin/python benchmarks/audit_cpu.py --promotions 5000 --models 1000 --versions 10 --repeat 5
    .venv/bin/python benchmarks/audit_cpu.py ... --compare /path/to/another/gitreg/checkout

Untimed: the registry of ``history_scale.py`` (--models x --versions manifests, --promotions promotions merged
as a forge merges pull requests, packed), or a copy of --registry. Timed in the same rounds, each in a new
child process: `audit_of(..., "json")` (what `gitreg audit --format json` prints) with the walk cache folder
removed first, and `audit_entries(cache=False)` (the walk alone); the main thread's CPU and the whole
process's (threads included; git's processes not). With --compare, the same cases with another checkout's
gitreg first on the path (its own ``gitreg`` package), for a before/after in one run."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _harness import Sample

# (the harness and the registry builder are imported by ``main`` only: they put this checkout first on the
# path, and a --child measuring another checkout must import that one's gitreg)

_LOG = ["log", "--first-parent", "--raw", "--no-abbrev", "--format=%H", "--", "stages/"]


def child(mode: str, root: str) -> None:
    """In the child: import, remove the walk cache, run once; print process CPU ms, then main-thread CPU s."""
    import time  # noqa: PLC0415 - the child's own imports

    from gitreg import history_report  # noqa: PLC0415
    from gitreg.gitrepo import GitRepo  # noqa: PLC0415
    from gitreg.ops.history import audit_entries  # noqa: PLC0415

    shutil.rmtree(Path(root) / ".git" / "gitreg" / "cache", ignore_errors=True)
    repo = GitRepo.open(Path(root))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    process, thread = usage.ru_utime + usage.ru_stime, time.thread_time()
    if mode == "json":
        out = "".join(history_report.audit_of(repo, "main", None, None, "json", None))
    else:
        out = str(sum(1 for _ in audit_entries(repo, "main", cache=False)))
    thread = time.thread_time() - thread
    usage = resource.getrusage(resource.RUSAGE_SELF)
    process = usage.ru_utime + usage.ru_stime - process
    print(f"process-cpu-ms={process * 1000:.0f} output-chars={len(out)} {thread:.6f}")


def git_log_cpu(root: Path) -> Sample:
    from _harness import Sample  # noqa: PLC0415 - see above

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["git", "-C", str(root), *_LOG], stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Sample(cpu)


def build(work: Path, models: int, versions: int, promotions: int, seed: int) -> Path:
    from _harness import run  # noqa: PLC0415 - see above
    from history_scale import fast_import, plan  # noqa: PLC0415

    from testing.synthetic import make_registry, model_names, registry_files  # noqa: PLC0415

    root = work / "registry"
    names = model_names(models, width=3)
    files = registry_files(names, versions, lean=True, month=1)
    fast_import(root, plan(names, versions, promotions, seed), make_registry(root, work / "blobs", files))
    run("git", "-C", root, "repack", "-adq")
    return root


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return 0
    from _harness import Case, in_child, measure, parser, report, session  # noqa: PLC0415 - see above

    p = parser(__doc__, repeat=5)
    p.add_argument("--promotions", type=int, default=5000, help="merged promotions on main (5000)")
    p.add_argument("--models", type=int, default=1000, help="models (1000)")
    p.add_argument("--versions", type=int, default=10, help="versions per model (10)")
    p.add_argument("--seed", type=int, default=42, help="of the random plan (42)")
    p.add_argument("--registry", type=Path, help="copy this registry instead of building one")
    p.add_argument("--compare", type=Path, help="another gitreg checkout, measured in the same rounds")
    args = p.parse_args()
    title = f"audit CPU: {args.promotions} promotions of {args.models} models x {args.versions} versions"
    with session(args, title) as work:
        if args.registry is not None:
            root = work / "registry"
            shutil.copytree(args.registry, root, symlinks=True)
        else:
            root = build(work, args.models, args.versions, args.promotions, args.seed)
        script = str(Path(__file__).resolve())
        trees = {"": os.environ.get("PYTHONPATH")}
        if args.compare is not None:
            trees[f" [{args.compare.name}]"] = str(args.compare.resolve())
        cases = [Case("git log --first-parent --raw -- stages/ (its CPU)", partial(git_log_cpu, root))]
        for name, path in trees.items():
            env = dict(os.environ) | ({"PYTHONPATH": path} if path else {})
            cases += [
                Case(f"audit --format json, first run: main thread CPU{name}", partial(
                    in_child, script, "json", root, env=env)),
                Case(f"audit_entries(cache=False): main thread CPU{name}", partial(
                    in_child, script, "entries", root, env=env)),
            ]  # fmt: skip
        timings = measure(cases, args.repeat)
        print("median and best: the CPU of git, or of gitreg's main thread; CPU ms: this process's and its")
        print("children's, i.e. the whole child process with its git processes\n")
        report(timings, [cases[0].label])
    return 0


if __name__ == "__main__":
    sys.exit(main())
