"""Claim: `gitreg register` stores a large file in about the time of `cp` + `sync` of the same file (at most
1.4x), stores the same bytes once, and takes no more memory for a bigger file.

    .venv/bin/python benchmarks/register_throughput.py --size-mib 1024 --repeat 3 --rss-compare-mib 256

Baselines in the same rounds, on the same file and filesystem: `cp` + `sync FILE`, one SHA-256 pass,
copyfile, copyfile + fsync, and hash + write + fsync in one thread (what register did before its writes
overlapped the reading and hashing). Every case starts after os.sync() and an untimed read of the source, so
reads come from the page cache. Then the fixed cost of a register (start-up; a 1 KiB file, in process and as
a CLI subprocess), and the peak RSS of child processes registering two sizes, next to one that only imports
gitreg."""

from __future__ import annotations

import os
import shutil
import sys
from functools import partial
from itertools import count
from pathlib import Path

from _harness import (
    MIB,
    Case,
    gitreg_executable,
    hash_copy,
    measure,
    parser,
    print_profile,
    random_file,
    ratio,
    report,
    run,
    run_child,
    session,
)

from gitreg.ops.init import init
from gitreg.ops.register import Registration, register
from gitreg.registry import Registry

MODEL = "bench-model"


def settle(source: Path, *leftovers: Path) -> None:
    """The same start for every case: leftovers removed, earlier writes flushed, the source in the cache."""
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    os.sync()
    hash_copy(source, None, fsync=False)


def copy(src: Path, dest: Path, fsync: bool) -> None:
    shutil.copyfile(src, dest)
    if fsync:
        with dest.open("rb") as out:
            os.fsync(out.fileno())


def cp_sync(src: Path, dest: Path) -> None:
    """What a user would compare with: coreutils copies (in the kernel), then flushes that one file."""
    run("cp", src, dest)
    run("sync", dest)


def main() -> int:
    p = parser(__doc__, repeat=3)
    p.add_argument("--size-mib", type=int, default=1024, help="size of the file to register (1024)")
    p.add_argument("--rss-compare-mib", type=int, default=256, help="second size for memory, 0 to skip (256)")
    args = p.parse_args()
    with session(args, f"register throughput: a {args.size_mib} MiB file, {args.repeat} round(s)") as work:
        source, dest = random_file(work / "source.bin", args.size_mib * MIB), work / "copy.bin"
        registry, store, small = work / "registry", work / "blobs", work / "small.bin"
        registered: list[str] = []

        def fresh() -> None:
            settle(source, registry, store, dest)
            init(registry, store.as_uri())

        def register_file(path: Path = source) -> None:
            registered.append(register(Registry.open(registry), Registration(MODEL, path)).artifact.digest)

        baselines = [
            "cp + sync FILE",
            "sha256, one pass",
            "copyfile",
            "copyfile + fsync",
            "hash + write + fsync, one thread",
        ]
        cases = [
            Case(baselines[0], partial(cp_sync, source, dest), partial(settle, source, dest)),
            Case(baselines[1], partial(hash_copy, source, None, False), partial(settle, source, dest)),
            Case(baselines[2], partial(copy, source, dest, False), partial(settle, source, dest)),
            Case(baselines[3], partial(copy, source, dest, True), partial(settle, source, dest)),
            Case(baselines[4], partial(hash_copy, source, dest, True), partial(settle, source, dest)),
            Case(
                "register (CLI subprocess)",
                partial(run, gitreg_executable(), "-C", registry, "register", MODEL, source),
                fresh,
            ),
            Case("register (library)", register_file, fresh),
            Case("register the same bytes again", register_file, partial(settle, source)),
        ]
        timings = measure(cases, args.repeat)
        report(timings, baselines, mib=args.size_mib)
        blobs = [f for f in (store / "sha256").rglob("*") if f.is_file()]
        print(
            f"\nstore after two registers of the same bytes: {len(blobs)} blob(s), "
            f"{sum(f.stat().st_size for f in blobs):,} bytes (the file: {args.size_mib * MIB:,})"
        )
        same = set(registered) == {hash_copy(source, None, False)}
        print(f"every registered digest equals the sha256 baseline's: {'yes' if same else 'NO'}")
        print(
            f"register / cp + sync: {ratio(timings, 'register (library)', baselines[0]):.2f}x (library), "
            f"{ratio(timings, 'register (CLI subprocess)', baselines[0]):.2f}x (CLI); "
            f"register / one-thread pass: {ratio(timings, 'register (library)', baselines[4]):.2f}x; "
            f"again / first: {ratio(timings, 'register the same bytes again', 'register (library)'):.2f}x"
        )

        print("\nfixed costs:")
        stamp = count()
        exe = gitreg_executable()
        fixed = [
            Case("baseline: python -c pass", partial(run, sys.executable, "-c", "pass")),
            Case("gitreg --version (start-up)", partial(run, exe, "--version")),
            Case(
                "register a 1 KiB file (library)",
                partial(register_file, small),
                lambda: small.write_bytes(next(stamp).to_bytes(8, "little") * 128),
            ),
            Case(
                "register a 1 KiB file (CLI subprocess)",
                partial(run, exe, "-C", registry, "register", MODEL, small),
                lambda: small.write_bytes(next(stamp).to_bytes(8, "little") * 128),
            ),
        ]
        report(measure(fixed, max(args.repeat, 5)), [fixed[0].label])

        print("\npeak RSS, one child process each:")
        sizes = sorted({args.size_mib, args.rss_compare_mib} - {0})
        files = {s: source if s == args.size_mib else random_file(work / f"{s}.bin", s * MIB) for s in sizes}
        rss = [
            Case(
                "baseline: python -c 'import gitreg.cli'",
                partial(run_child, sys.executable, "-c", "import gitreg.cli"),
            )
        ]
        rss += [
            Case(
                f"gitreg register {s} MiB",
                partial(run_child, exe, "-C", registry, "register", MODEL, files[s]),
                fresh,
            )
            for s in sizes
        ]
        rss_timings = measure(rss, 1, warmup=False)
        report(rss_timings, [rss[0].label])
        peaks = [max(rss_timings[c.label].rss_kib) / 1024 for c in rss[1:]]
        print(f"peak RSS from {sizes[0]} MiB to {sizes[-1]} MiB: {peaks[-1] - peaks[0]:+.1f} MiB")
        if args.profile:
            fresh()
            print_profile("register (library) of new bytes", register_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
