"""How fast `gitreg register` stores a large file, next to what the hardware does anyway, and how much
memory it takes.

    .venv/bin/python benchmarks/register_throughput.py [--size-mib 1024] [--repeat 3] [--workdir DIR]

Every step reads its input from the page cache (the source file is read once, untimed, right before each
step, after os.sync() has flushed earlier writes), so the figures compare CPU and write cost, not how cold
the disk is. Peak memory is measured in child processes, one per measurement."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from _common import (
    MIB,
    Timing,
    environment_summary,
    gitreg_executable,
    isolate_env,
    load_average,
    measure,
    ms,
    profile,
    run_quiet,
    table,
    timed,
    work_folder,
)

from gitreg.ops.init import init
from gitreg.manifest import ModelVersion
from gitreg.ops.register import Registration, register
from gitreg.registry import Registry

MODEL = "bench-model"

#: Runs the command in argv[1:] as its only child, then prints the child's peak RSS (KiB on Linux), so the
#: figure is that of one process (and the git processes it waited for), never of an earlier child.
_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def make_file(path: Path, size_mib: int) -> None:
    """``size_mib`` MiB of random-looking bytes: one random MiB, each copy stamped with its index."""
    block = bytearray(os.urandom(MIB))
    with path.open("wb", buffering=0) as out:
        for index in range(size_mib):
            block[:8] = index.to_bytes(8, "little")
            out.write(block)
        os.fsync(out.fileno())


def read_through(path: Path) -> None:
    """Read the whole file (1 MiB at a time) so that it is in the page cache."""
    buf = bytearray(MIB)
    with path.open("rb", buffering=0) as src:
        while src.readinto(buf):
            pass


def settle(source: Path) -> None:
    """Start a measurement from the same state: earlier writes flushed, the source in the page cache."""
    os.sync()
    read_through(source)


# --- baselines -----------------------------------------------------------------------------------------


def sha256_pass(path: Path) -> str:
    hasher = hashlib.sha256()
    buf = bytearray(MIB)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as src:
        while n := src.readinto(buf):
            hasher.update(view[:n])
    return "sha256:" + hasher.hexdigest()


def copy_plain(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)


def copy_fsync(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hash_write_fsync(src: Path, dest: Path) -> None:
    """The least a durable content-addressed store must do: one read, hashed and written, then fsync."""
    hasher = hashlib.sha256()
    buf = bytearray(MIB)
    view = memoryview(buf)
    with src.open("rb", buffering=0) as inp, dest.open("wb", buffering=0) as out:
        while n := inp.readinto(buf):
            chunk = view[:n]
            hasher.update(chunk)
            out.write(chunk)
        os.fsync(out.fileno())


# --- gitreg --------------------------------------------------------------------------------------------


def fresh_registry(work: Path, name: str) -> tuple[Path, Path]:
    """A new registry made by ``gitreg init`` and the folder of its own (empty) local store."""
    registry, store = work / name, work / f"{name}-blobs"
    init(registry, store.as_uri())
    return registry, store


def register_file(registry: Path, path: Path) -> ModelVersion:
    return register(Registry.open(registry), Registration(model=MODEL, path=path))


def store_usage(store: Path) -> tuple[int, int]:
    """(blobs under sha256/, bytes of every file in the store, temporary files included)."""
    blobs = [p for p in (store / "sha256").rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    return len(blobs), total


def remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


@dataclass
class Results:
    timings: dict[str, list[float]] = field(default_factory=dict)
    digest: str = ""
    registered: list[ModelVersion] = field(default_factory=list)
    store_after_first: tuple[int, int] = (0, 0)
    store_after_second: tuple[int, int] = (0, 0)

    def add(self, name: str, seconds: float) -> None:
        self.timings.setdefault(name, []).append(seconds)


BASELINES = ("a  sha256, one pass", "b1 copyfile", "b2 copyfile + fsync", "b3 hash + write + fsync")
REGISTER = "c  register (library)"
REGISTER_CLI = "c' register (CLI subprocess, 1 run)"
DEDUP = "d  register same bytes again (library)"


def run_throughput(work: Path, source: Path, repeat: int) -> Results:
    results = Results()
    dest = work / "copy.bin"
    for _ in range(repeat):
        settle(source)
        seconds, results.digest = timed(partial(sha256_pass, source))
        results.add(BASELINES[0], seconds)
        for name, fn in zip(BASELINES[1:], (copy_plain, copy_fsync, hash_write_fsync), strict=True):
            settle(source)
            results.add(name, timed(partial(fn, source, dest))[0])
            remove(dest)

        registry, store = fresh_registry(work, "registry")
        for name in (REGISTER, DEDUP):
            settle(source)
            seconds, version = timed(partial(register_file, registry, source))
            results.add(name, seconds)
            results.registered.append(version)
            if name == REGISTER:
                results.store_after_first = store_usage(store)
            else:
                results.store_after_second = store_usage(store)
        remove(registry, store)

    registry, store = fresh_registry(work, "registry-cli")
    argv = [gitreg_executable(), "-C", str(registry), "register", MODEL, str(source)]
    settle(source)
    results.add(REGISTER_CLI, timed(partial(run_quiet, argv))[0])
    remove(registry, store)
    return results


def fixed_costs(work: Path, repeat: int) -> dict[str, Timing]:
    """What a register costs whatever the size: process start-up and the git work of a tiny file."""
    costs = {
        "gitreg --version (CLI start-up only)": measure(
            lambda: run_quiet([gitreg_executable(), "--version"]), max(repeat, 5)
        )
    }
    registry, store = fresh_registry(work, "registry-small")
    small = work / "small.bin"
    counter = iter(range(1_000_000))

    def register_small() -> None:
        small.write_bytes(next(counter).to_bytes(8, "little") * 128)
        register_file(registry, small)

    costs["register a 1 KiB file (library)"] = measure(register_small, max(repeat, 5))
    remove(registry, store, small)
    return costs


def profiles(work: Path, source: Path, top: int) -> None:
    """cProfile of one register of new bytes and one of bytes the store already holds."""
    registry, store = fresh_registry(work, "registry-profile")
    for what in ("new bytes", "bytes already stored"):
        settle(source)
        print(f"\nprofile of one library register of {what}:")
        print(profile(partial(register_file, registry, source), top))
    remove(registry, store)


# --- memory --------------------------------------------------------------------------------------------


def child_peak_rss_kib(task: str, registry: Path | None = None, path: Path | None = None) -> int:
    """Peak RSS of a fresh child running this script with ``--child-task``."""
    argv = [sys.executable, "-c", _RSS_WRAPPER, sys.executable, str(Path(__file__).resolve())]
    argv += ["--child-task", task]
    if registry is not None and path is not None:
        argv += ["--registry", str(registry), "--file", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {task} child failed: {done.stderr}")
    return int(done.stdout.strip().splitlines()[-1])


def run_child_task(task: str, registry: Path | None, path: Path | None) -> None:
    if task == "register":
        if registry is None or path is None:
            raise SystemExit("error: --child-task register needs --registry and --file")
        register_file(registry, path)


def memory(work: Path, source: Path, size_mib: int, compare_mib: int) -> list[tuple[str, int]]:
    """[(label, peak RSS in KiB)]: importing only, then registering each size in a fresh registry."""
    rows = [("child that only imports gitreg", child_peak_rss_kib("import"))]
    for size in sorted({size_mib, compare_mib} - {0}):
        path = source
        if size != size_mib:
            path = work / f"source-{size}.bin"
            make_file(path, size)
        registry, store = fresh_registry(work, f"registry-rss-{size}")
        rows.append((f"child that registers {size} MiB", child_peak_rss_kib("register", registry, path)))
        remove(registry, store)
        if path != source:
            remove(path)
    return rows


# --- report --------------------------------------------------------------------------------------------


def report(results: Results, size_mib: int, fixed: dict[str, Timing], rss: list[tuple[str, int]]) -> None:
    best = {name: min(samples) for name, samples in results.timings.items()}
    rows = []
    for name, samples in results.timings.items():
        timing = Timing(tuple(samples))
        rows.append(
            [
                name,
                f"{timing.best:.3f}",
                f"{timing.median:.3f}",
                f"{size_mib / timing.best:.0f}",
                *(f"{timing.best / best[b]:.2f}x" for b in BASELINES),
            ]
        )
    headers = ["step", "best s", "median s", "MiB/s", "/ a", "/ b1", "/ b2", "/ b3"]
    print(table(headers, rows, right=range(1, 8)))
    print("(ratios: the step's best time divided by that baseline's best time; MiB/s from the best time)")

    print("\nfixed costs (1 warm-up, then timed runs):")
    print(
        table(
            ["step", "best ms", "median ms"],
            [[name, ms(t.best), ms(t.median)] for name, t in fixed.items()],
            right=(1, 2),
        )
    )

    first, second = results.store_after_first, results.store_after_second
    digests = {v.artifact.digest for v in results.registered}
    print("\nstore contents (local store of the library registry, last repetition):")
    print(f"  after the first register:  {first[0]} blob(s), {first[1]:,} bytes")
    print(f"  after the second register: {second[0]} blob(s), {second[1]:,} bytes")
    print(f"  source file: {size_mib * MIB:,} bytes; registered digest(s): {', '.join(sorted(digests))}")
    print(f"  digest equals the sha256 baseline: {'yes' if digests == {results.digest} else 'NO'}")
    dedup_ok = second == first and second[0] == 1
    print(f"  deduplicated (one blob, store did not grow): {'yes' if dedup_ok else 'NO'}")

    print("\npeak RSS (ru_maxrss of RUSAGE_CHILDREN, one fresh child per line):")
    base_rss = rss[0][1]
    print(
        table(
            ["child", "peak RSS MiB", "above import-only MiB"],
            [[label, f"{kib / 1024:.1f}", f"{(kib - base_rss) / 1024:+.1f}"] for label, kib in rss],
            right=(1, 2),
        )
    )
    _verdicts(best, rss)


def _verdicts(best: dict[str, float], rss: list[tuple[str, int]]) -> None:
    print("\nverdicts:")
    reg, dedup = best[REGISTER], best[DEDUP]
    print(
        f"  register is {reg / best[BASELINES[2]]:.2f}x a copy + fsync and "
        f"{reg / best[BASELINES[3]]:.2f}x the one-pass hash + write + fsync floor"
    )
    if dedup > 0.5 * reg:
        print(
            f"  SLOW: registering bytes the store already holds takes {dedup / reg:.0%} of a first register "
            "(the store writes and fsyncs a full temporary copy before it finds the blob exists)"
        )
    else:
        print(f"  registering bytes the store already holds takes {dedup / reg:.0%} of a first register")
    sizes = rss[1:]
    if len(sizes) > 1:
        growth = (sizes[-1][1] - sizes[0][1]) / 1024
        verdict = "does not grow" if abs(growth) < 16 else "GROWS"
        print(
            f"  peak memory {verdict} with the artifact size "
            f"({sizes[0][0]} -> {sizes[-1][0]}: {growth:+.1f} MiB)"
        )
    print("  expected: register streams in 1 MiB chunks, so its memory must not grow with the file size")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the file to register (1024)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each timed step (3)")
    parser.add_argument(
        "--rss-compare-mib", type=int, default=256, help="second size for the memory check, 0 to skip (256)"
    )
    parser.add_argument("--profile", action="store_true", help="also print cProfile of two registers")
    parser.add_argument("--profile-top", type=int, default=12, help="rows of each profile (12)")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work folder (system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--child-task", choices=("import", "register"), help=argparse.SUPPRESS)
    parser.add_argument("--registry", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_task:
        run_child_task(args.child_task, args.registry, args.file)
        return 0
    if args.size_mib < 1 or args.repeat < 1:
        parser.error("--size-mib and --repeat must be at least 1")

    with work_folder(args.workdir, args.keep) as work:
        isolate_env(work)
        print(f"register throughput: {args.size_mib} MiB file, {args.repeat} repetition(s) per step")
        print(environment_summary(work))
        print(
            "page cache: every step starts after os.sync() and an untimed full read of the source, so all "
            "reads come from the page cache; writes go to the same filesystem\n"
        )
        source = work / "source.bin"
        make_file(source, args.size_mib)
        results = run_throughput(work, source, args.repeat)
        fixed = fixed_costs(work, args.repeat)
        rss = memory(work, source, args.size_mib, args.rss_compare_mib)
        report(results, args.size_mib, fixed, rss)
        if args.profile:
            profiles(work, source, args.profile_top)
        print(f"\nat the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
