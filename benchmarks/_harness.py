"""The benchmarks' one timing harness. A private work folder and git/XDG environment; cases timed in
interleaved rounds (every case once per round, so a change in the machine's load hits a case and its
baseline alike); a table of medians with each case's ratio to baselines measured in the same rounds; the peak
RSS of a child process. Benchmarks print figures; they assert nothing."""

from __future__ import annotations

import argparse
import compileall
import cProfile
import hashlib
import io
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The testing/ package (synthetic registries, storage servers): scripts import this module first.
sys.path.insert(0, str(REPO_ROOT))
MIB = 1024 * 1024
#: Variables that would point gitreg or git somewhere other than the benchmark's own folders.
_LEAKY_ENV = (
    "GITREG_STORAGE_URL",
    "GITREG_STORAGE_OPTIONS",
    "GITREG_DEBUG",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)


def parser(doc: str | None, repeat: int) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=repeat, help=f"timed rounds ({repeat})")
    parser.add_argument("--profile", action="store_true", help="also print cProfile of gitreg's own cases")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work folder (system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    return parser


@contextmanager
def session(args: argparse.Namespace, title: str) -> Iterator[Path]:
    """A new work folder (removed at the end unless --keep), git and gitreg pointed at it alone, and a header
    saying where the figures come from. Refuses a --workdir inside this checkout."""
    parent = args.workdir.resolve() if args.workdir else None
    if parent is not None and (parent == REPO_ROOT or REPO_ROOT in parent.parents):
        raise SystemExit(f"error: --workdir {parent} is inside the gitreg checkout; choose another folder")
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gitreg-bench-", dir=parent))
    home = work / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench User\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n[gc]\n\tauto = 0\n"
    )
    os.environ.update(GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1")
    for name in ("DATA", "CACHE", "CONFIG"):
        os.environ[f"XDG_{name}_HOME"] = str(home / name.lower())
    for name in _LEAKY_ENV:
        os.environ.pop(name, None)
    # gitreg as an installation runs it, with its modules' bytecode compiled (pip compiles a wheel's modules
    # when it installs them). Without this, PYTHONDONTWRITEBYTECODE (set in some shells) makes every gitreg
    # process compile gitreg from source, a cost the baselines' PyYAML and click never pay.
    compileall.compile_dir(REPO_ROOT / "gitreg", quiet=1)
    head = _capture(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"])
    git_version = _capture(["git", "--version"]).stdout.strip()
    print(
        f"{title}\ngitreg at {head.stdout.strip() or '?'}; python {platform.python_version()}; {git_version}"
    )
    print(f"{os.cpu_count()} CPUs, {load_average()}; work folder {work}\n")
    try:
        yield work
        print(f"\nat the end: {load_average()}")
    finally:
        if args.keep:
            print(f"kept the work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def load_average() -> str:
    """Other work on the machine skews wall-clock figures: say how much there was."""
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# --- timing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """What a case may return to report its own figures (a child process timed from the inside)."""

    seconds: float
    rss_kib: int = 0
    stdout: str = ""


@dataclass
class Timing:
    """Samples of one case: wall-clock and CPU seconds (this process and the children it waited for), and
    the peak RSS in KiB when the case ran a child through :func:`run_child`."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def best(self) -> float:
        return min(self.wall)


@dataclass(frozen=True)
class Case:
    """One thing to time; ``before`` runs untimed before each sample (a checkout, a fresh registry, ...)."""

    label: str
    fn: Callable[[], object]
    before: Callable[[], object] | None = None


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(cases: Sequence[Case], repeat: int, warmup: bool = True) -> dict[str, Timing]:
    """Every case once per round, ``repeat`` rounds, after one untimed round unless not ``warmup``."""
    timings = {case.label: Timing() for case in cases}
    for index in range(repeat + warmup):
        for case in cases:
            if case.before is not None:
                case.before()
            cpu, start = _cpu(), time.perf_counter()
            value = case.fn()
            wall, cpu = time.perf_counter() - start, _cpu() - cpu
            if index < warmup:
                continue
            timing = timings[case.label]
            timing.wall.append(value.seconds if isinstance(value, Sample) else wall)
            timing.cpu.append(cpu)
            if isinstance(value, Sample) and value.rss_kib:
                timing.rss_kib.append(value.rss_kib)
    return timings


def ratio(timings: Mapping[str, Timing], label: str, baseline: str) -> float:
    """Median over median, both from the same rounds."""
    return timings[label].median / timings[baseline].median


def report(timings: Mapping[str, Timing], baselines: Sequence[str], *, mib: float = 0) -> None:
    """A table: median and best wall ms, median CPU ms, MiB/s (when ``mib`` of data moved), peak RSS (when
    measured), and each case's median over each baseline's median."""
    rss = any(t.rss_kib for t in timings.values())
    names = ["baseline"] if len(baselines) == 1 else [f"b{i}" for i in range(1, len(baselines) + 1)]
    headers = ["what", "median ms", "best ms", "CPU ms", *(["MiB/s"] if mib else [])]
    headers += [*(["peak RSS MiB"] if rss else []), *(f"/ {n}" for n in names)]
    rows = []
    for label, t in timings.items():
        row = [
            label,
            f"{t.median * 1000:.1f}",
            f"{t.best * 1000:.1f}",
            f"{statistics.median(t.cpu) * 1000:.1f}",
        ]
        row += [f"{mib / t.median:.0f}"] if mib else []
        row += [f"{max(t.rss_kib) / 1024:.1f}" if t.rss_kib else ""] if rss else []
        row += [f"{ratio(timings, label, b):.2f}x" for b in baselines]
        rows.append(row)
    print(table(headers, rows))
    if len(baselines) > 1:
        print("\n".join(f"  {n} = {b}" for n, b in zip(names, baselines, strict=True)))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table; every column but the first is right-aligned."""
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def print_profile(title: str, fn: Callable[[], object], top: int = 20) -> None:
    """cProfile of one call of ``fn``: the ``top`` functions by cumulative time."""
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    print(f"\nprofile of one call: {title}\n{out.getvalue().strip()}")


# --- processes -------------------------------------------------------------------------------------------


def gitreg_executable() -> str:
    """The ``gitreg`` console script beside the Python running the benchmark (the project's venv)."""
    beside = Path(sys.executable).parent / "gitreg"
    found = str(beside) if beside.exists() else shutil.which("gitreg")
    if found is None:
        raise SystemExit("error: no gitreg executable next to this Python or on PATH; install gitreg first")
    return found


def _capture(argv: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def run(*argv: object, cwd: Path | None = None) -> str:
    """The stdout of a command; raises with its stderr if it fails."""
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


# Started from this (large) process, a child's ru_maxrss would include this process's memory: Linux carries
# the pre-exec high-water mark over an exec. So a small launcher spawns the child and reports wait4's figure.
_LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_pid, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, time.perf_counter() - start)
"""


def run_child(*argv: object, env: Mapping[str, str] | None = None) -> Sample:
    """Run ``argv`` (argv[0] an absolute path) as a child process: its wall time, peak RSS and stdout."""
    done = _capture([sys.executable, "-S", "-c", _LAUNCHER, *map(str, argv)], env)
    *out, last = done.stdout.splitlines() or [""]
    code, rss, seconds = [*last.split(), "", "", ""][:3]
    if code != "0":
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {code}: {done.stderr[-2000:]}")
    return Sample(float(seconds), int(rss), "\n".join(out))


def in_child(script: str, *args: object, env: Mapping[str, str] | None = None) -> Sample:
    """``python SCRIPT --child ARGS...`` as a child process, whose last line is ``[what...] seconds``: the
    child's own time for its operation, its peak RSS, and what it printed before the time."""
    done = run_child(sys.executable, script, "--child", *args, env=env)
    *out, seconds = done.stdout.splitlines()[-1].split()
    return Sample(float(seconds), done.rss_kib, " ".join(out))


def run_cli(*argv: str) -> None:
    """``gitreg ARGV...`` in this process (a child's operation, its imports measured); raises if it fails."""
    from gitreg.cli import cli  # noqa: PLC0415 - the caller's imports are what is measured

    try:
        cli.main(list(argv), prog_name="gitreg")
    except SystemExit as exc:
        if exc.code:
            raise


def hash_copy(src: Path, dest: Path | None, fsync: bool) -> str:
    """One pass over ``src`` in 1 MiB chunks, hashed and written to ``dest`` if given (then fsynced if
    ``fsync``): the least a durable content-addressed store must do. Returns the ``sha256:`` digest."""
    hasher, buf = hashlib.sha256(), bytearray(MIB)
    view = memoryview(buf)
    with src.open("rb", buffering=0) as inp, (dest or Path(os.devnull)).open("wb", buffering=0) as out:
        while n := inp.readinto(buf):
            hasher.update(view[:n])
            if dest is not None:
                out.write(view[:n])
        if fsync:
            os.fsync(out.fileno())
    return "sha256:" + hasher.hexdigest()


def shards(folder: Path, count: int, size: int = 1024) -> Path:
    """``folder`` holding ``count`` random files of ``size`` bytes, 500 a subfolder: a model in shards."""
    for i in range(count):
        part = folder / f"d{i // 500:03}"
        part.mkdir(parents=True, exist_ok=True)
        (part / f"f{i:05}.bin").write_bytes(os.urandom(size))
    return folder


def random_file(path: Path, size: int) -> Path:
    """``size`` random-looking bytes: one random MiB, each copy stamped with its index; fsynced."""
    block = bytearray(os.urandom(MIB))
    with path.open("wb", buffering=0) as out:
        for index in range(0, size, MIB):
            block[:8] = index.to_bytes(8, "little")
            out.write(block[: min(MIB, size - index)])
        os.fsync(out.fileno())
    return path
