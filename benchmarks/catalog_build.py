"""Claim: building the catalog of a registry costs a small multiple of one full `gitreg validate` of the same
registry (the build validates it first, then renders a page per model and per version).

    .venv/bin/python benchmarks/catalog_build.py --shapes 1000x10,100x100 --repeat 3

For each shape MODELSxVERSIONS, a synthetic registry (testing/synthetic.py) committed on main, with staging
holding the latest version of every other model and production that of every fourth (one more commit, so
the stage history has changes to show). Untimed. Then, in the same interleaved rounds: a full validation of
main (the baseline: what `gitreg validate --ref main` does) and `gitreg catalog build --ref main` (in
process, into a folder it replaces each round). Then the site's size: pages, files, bytes, and disk usage
(allocated blocks)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from _harness import Case, measure, parser, print_profile, report, session, table

from gitreg.catalog.site import build
from gitreg.registry import Registry
from gitreg.validate.runner import validate_registry
from testing.synthetic import (
    commit_all,
    make_registry,
    model_names,
    registry_files,
    stage_manifest,
    write_files,
)


def generate(root: Path, models: int, versions: int) -> None:
    names = model_names(models)
    make_registry(root, root.with_name(root.name + "-blobs"), registry_files(names, versions))
    stages = {
        "stages/staging.yaml": stage_manifest(dict.fromkeys(names[::2], versions)),
        "stages/production.yaml": stage_manifest(dict.fromkeys(names[::4], versions)),
    }
    write_files(root, stages)
    commit_all(root, "Promote")


def validate_main(root: Path) -> None:
    report = validate_registry(Registry.open(root, ref="main"))
    if report.errors:
        raise SystemExit(f"error: the generated registry does not validate: {report.errors[:3]}")


def build_site(root: Path, out: Path) -> None:
    build(root, out, "main")


def disk_usage(site: Path) -> tuple[int, int, int, int]:
    files = [p for p in site.rglob("*") if p.is_file()]
    pages = sum(p.suffix == ".html" for p in files)
    size = sum(p.stat().st_size for p in files)
    blocks = sum(p.stat().st_blocks * 512 for p in site.rglob("*"))
    return pages, len(files), size, blocks


def main() -> int:
    p = parser(__doc__, repeat=3)
    p.add_argument("--shapes", default="1000x10,100x100", help="MODELSxVERSIONS, comma-separated")
    args = p.parse_args()
    shapes = [tuple(int(n) for n in s.split("x")) for s in args.shapes.split(",") if s]
    with session(args, f"catalog build against full validation, shapes {args.shapes}") as work:
        sizes = []
        for models, versions in shapes:
            root = work / f"registry-{models}x{versions}"
            generate(root, models, versions)
            out = work / f"site-{models}x{versions}"
            cases = [
                Case("baseline: full validation of main", partial(validate_main, root)),
                Case("gitreg catalog build --ref main", partial(build_site, root, out)),
            ]
            print(f"\n{models:,} models x {versions:,} versions:")
            report(measure(cases, args.repeat), [cases[0].label])
            pages, files, size, blocks = disk_usage(out)
            sizes.append(
                [
                    f"{models:,} x {versions:,}",
                    f"{pages:,}",
                    f"{files:,}",
                    f"{size / 2**20:.1f}",
                    f"{blocks / 2**20:.1f}",
                    f"{size / max(pages, 1) / 1024:.1f}",
                ]
            )
            if args.profile:
                print_profile(f"catalog build, {models} x {versions}", partial(build_site, root, out))
        print("\nthe site on disk:")
        print(table(["shape", "pages", "files", "MiB", "disk MiB", "KiB/page"], sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
