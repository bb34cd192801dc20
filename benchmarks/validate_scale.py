"""Claims: full validation of a registry costs a small multiple of just parsing its YAML; validating a
one-file pull request (`--base`) costs about the same in 10,000 versions as in 100.

    .venv/bin/python benchmarks/validate_scale.py --sizes 1000,10000 --base-sizes 100,1000,10000 --repeat 5

For each size N, a registry of N/10 models x 10 versions that validates clean (a production policy every
production entry meets), committed on main, with three one-file branches: a promotion to staging, one to
production, a new version. Untimed. Then:

a) full validation of the working tree and of the HEAD commit, and of the same files in memory (no I/O),
   against reading and loading every parsed file with PyYAML's C loader, in the same rounds;
b) `--base main` on each branch, at every --base-sizes size in the same rounds, and the ratio of the largest
   size to the smallest;
c) `gitreg validate` and `gitreg validate --base main` once each as a subprocess, against `gitreg --version`.
Every validation is first checked to report no errors."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import yaml
from _harness import (
    Case,
    gitreg_executable,
    measure,
    parser,
    print_profile,
    ratio,
    report,
    run,
    session,
    table,
)

from gitreg.layout import stage_path, version_path
from gitreg.registry import Registry
from gitreg.snapshot import MemorySnapshot
from gitreg.validate import Report, View, validate
from gitreg.validate.runner import validate_registry
from testing.synthetic import (
    commit_all,
    make_registry,
    model_names,
    registry_files,
    stage_manifest,
    version_manifest,
)

BRANCHES = {"staging": "promote to staging", "production": "promote to production", "new": "add a version"}
FORMS = {"working tree": None, "commit": "HEAD"}


def generate(root: Path, size: int) -> list[str]:
    """The registry of ``size`` versions and its three branches; returns the files gitreg parses."""
    models = model_names(max(1, size // 10))
    staging, production = dict.fromkeys(models[::2], 10), dict.fromkeys(models[::4], 10)
    stages = {"staging": staging, "production": production}
    files = registry_files(models, 10, stages=stages, production_metrics={"auc": ">= 0.5"})
    make_registry(root, root.with_name("blobs"), files)
    middle = len(models) // 2
    odd = models[middle | 1] if len(models) > 1 else models[0]
    staged_only = next(m for m in models[middle:] + models if m in staging and m not in production)
    new = (middle // 4) * 4  # in staging and in production at every size, so the same work
    changes = {
        "staging": {stage_path("staging"): stage_manifest({**staging, odd: 10})},
        "production": {stage_path("production"): stage_manifest({**production, staged_only: 10})},
        "new": {version_path(models[new], 11): version_manifest(models[new], 11, index=new)},
    }
    for branch, changed in changes.items():
        run("git", "-C", root, "checkout", "--quiet", "-b", branch, "main")
        for rel, text in changed.items():
            (root / rel).write_text(text)
        commit_all(root, BRANCHES[branch])
    run("git", "-C", root, "checkout", "--quiet", "main")
    return ["registry.yaml", *files]


def clean(report: Report, files: int | None = None) -> Report:
    if report.errors or (files is not None and report.files_checked != files):
        raise SystemExit(f"error: the generated registry does not validate as planned: {report.errors[:5]}")
    return report


def full(root: Path, ref: str | None, base: str | None = None, files: int | None = None) -> Report:
    """Validation of ``root`` (at ``ref``, against ``base``), checked to find no errors in ``files`` files."""
    return clean(validate_registry(Registry.open(root, ref=ref), base_ref=base), files)


def in_memory(snapshot: MemorySnapshot) -> Report:
    return clean(validate(View(snapshot)))


def yaml_baseline(root: Path, paths: list[str]) -> None:
    for rel in paths:
        yaml.load((root / rel).read_bytes(), Loader=yaml.CSafeLoader)


def main() -> int:
    p = parser(__doc__, repeat=5)
    p.add_argument("--sizes", default="1000,10000", help="versions, full validation (1000,10000)")
    p.add_argument(
        "--base-sizes", default="100,1000,10000", help="versions, --base validation (100,1000,10000)"
    )
    args = p.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    base_sizes = sorted({int(s) for s in args.base_sizes.split(",") if s})
    if len(base_sizes) < 2 or not getattr(yaml, "__with_libyaml__", False):
        p.error("--base-sizes needs two sizes or more, and PyYAML its C loader (libyaml)")
    with session(args, f"validate scale: full at {sizes}, --base at {base_sizes} versions") as work:
        roots = {n: work / f"registry-{n}" for n in sorted({*sizes, *base_sizes})}
        parsed = {n: generate(root, n) for n, root in roots.items()}

        print("a) full validation, against read + yaml.load(CSafeLoader) of every file gitreg parses")
        for n in sizes:
            root = roots[n]
            memory = MemorySnapshot(
                {p: (root / p).read_bytes() for p in run("git", "-C", root, "ls-files").split()}
            )
            cases = [
                Case("baseline: read + yaml.load(CSafeLoader)", partial(yaml_baseline, root, parsed[n])),
                Case("validate the working tree", partial(full, root, None)),
                Case("validate the HEAD commit", partial(full, root, "HEAD")),
                Case("validate the same files in memory (no I/O)", partial(in_memory, memory)),
            ]
            print(f"\n{n:,} versions ({len(parsed[n]):,} files parsed):")
            report(measure(cases, args.repeat), [cases[0].label])
            if args.profile:
                print_profile(f"validate the working tree, {n:,} versions", partial(full, root, None))

        print(f"\nb) --base main on a one-file branch, median ms at each size; {args.repeat} round(s)")
        cases = []
        for n in base_sizes:
            for branch in BRANCHES:
                checkout = partial(run, "git", "-C", roots[n], "checkout", "--quiet", branch)
                for form, ref in FORMS.items():
                    label = f"{n}|{branch}|{form}"
                    cases.append(Case(label, partial(full, roots[n], ref, "main", 1), checkout))
        timings = measure(cases, args.repeat)
        rows = []
        for branch, what in BRANCHES.items():
            for form in FORMS:
                medians = [f"{timings[f'{n}|{branch}|{form}'].median * 1000:.1f}" for n in base_sizes]
                growth = ratio(
                    timings, f"{base_sizes[-1]}|{branch}|{form}", f"{base_sizes[0]}|{branch}|{form}"
                )
                rows.append([f"{what}, {form}", *medians, f"{growth:.2f}x"])
        sizes_text = [f"N={n:,}" for n in base_sizes]
        print(table(["one-file change", *sizes_text, f"N={base_sizes[-1]:,} / N={base_sizes[0]:,}"], rows))

        print("\nc) the CLI as a subprocess, once each (interpreter start-up included)")
        exe = gitreg_executable()
        for n, root in roots.items():
            cases = [
                Case("baseline: gitreg --version", partial(run, exe, "--version")),
                Case(
                    "gitreg validate",
                    partial(run, exe, "-C", root, "validate"),
                    partial(run, "git", "-C", root, "checkout", "--quiet", "main"),
                ),
                Case(
                    "gitreg validate --base main (on a promotion)",
                    partial(run, exe, "-C", root, "validate", "--base", "main"),
                    partial(run, "git", "-C", root, "checkout", "--quiet", "production"),
                ),
            ]
            print(f"\n{n:,} versions:")
            report(measure(cases, 1, warmup=False), [cases[0].label])
    return 0


if __name__ == "__main__":
    sys.exit(main())
