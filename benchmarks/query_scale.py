"""Claim: ``Registry.versions(where=...)`` over 10,000 versions costs a small multiple of reading the same
manifests once.

    .venv/bin/python benchmarks/query_scale.py --models 1000 --versions 10 --repeat 5

A registry of MODELS x VERSIONS manifests (testing/synthetic.py; staging and production hold half of the
models) is committed in one commit, untimed. The baseline reads every version manifest once, as bytes from
the working tree, and loads it with PyYAML's C loader: the least any search over every manifest must do.
The cases, each on a fresh ``Registry.open`` (nothing cached) on the working tree, and on the commit:

- a selective filter (one model's versions above an AUC), as typed ``ModelVersion`` objects;
- a broad filter that half of the versions match (``metrics.auc >= 0.85 and params.max_depth < 10 and
  framework.name == 'sklearn'``), as ``ModelVersion`` objects: pydantic builds 5,000 of them;
- the same broad filter as records (``gitreg.search.select``, what ``gitreg list --where`` reads);
- ``order_by='-metrics.auc', limit=10`` over every version (records, then 10 typed versions);
- ``gitreg list --where ... --json`` in process.

Each as a ratio to the baseline's median in the same rounds."""

from __future__ import annotations

import statistics
import sys
from functools import partial
from pathlib import Path

import yaml
from _harness import Case, measure, parser, print_profile, ratio, report, session
from click.testing import CliRunner

from gitreg.cli import cli
from gitreg.layout import version_path
from gitreg.registry import Registry
from gitreg.search import select
from testing.synthetic import staged_registry

BROAD = "metrics.auc >= 0.85 and params.max_depth < 10 and framework.name == 'sklearn'"


def read_manifests(paths: list[Path]) -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in paths:
        yaml.load(path.read_bytes(), Loader=loader)  # noqa: S506 - the C safe loader


def api(path: Path, ref: str | None, **kwargs: object) -> int:
    return len(Registry.open(path, ref=ref).versions(**kwargs))  # type: ignore[arg-type]


def records(path: Path, ref: str | None, where: str) -> int:
    return len(select(Registry.open(path, ref=ref), where=where, status=None))


def cli_list(path: Path, where: str) -> None:
    result = CliRunner().invoke(cli, ["-C", str(path), "list", "--where", where, "--json"])
    if result.exit_code != 0:
        raise RuntimeError(result.stderr)


def main() -> int:
    p = parser(__doc__, repeat=5)
    p.add_argument("--models", type=int, default=1000, help="models in the registry (1000)")
    p.add_argument("--versions", type=int, default=10, help="versions of each model (10)")
    args = p.parse_args()
    total = args.models * args.versions
    title = f"query scale: {args.models} models x {args.versions} versions = {total}, {args.repeat} round(s)"
    with session(args, title) as work:
        path = work / "registry"
        names = staged_registry(path, args.models, args.versions)
        model = names[len(names) // 2]
        selective = f"model == '{model}' and metrics.auc >= 0.85"
        manifests = [path / version_path(n, v) for n in names for v in range(1, args.versions + 1)]
        counts = {
            "selective": api(path, None, where=selective),
            "broad": api(path, None, where=BROAD),
            "broad (records)": records(path, None, BROAD),
        }
        print(f"matches: {counts}\n")
        baseline = f"read + yaml.load (C) each of the {total} manifests"
        cases = [Case(baseline, partial(read_manifests, manifests))]
        for ref, where in ((None, "working tree"), ("HEAD", "commit")):
            cases += [
                Case(f"versions(where=selective), {where}", partial(api, path, ref, where=selective)),
                Case(f"versions(where=broad), {where}", partial(api, path, ref, where=BROAD)),
                Case(f"search.select(where=broad) records, {where}", partial(records, path, ref, BROAD)),
                Case(
                    f"versions(order_by='-metrics.auc', limit=10), {where}",
                    partial(api, path, ref, order_by="-metrics.auc", limit=10),
                ),
            ]
        cases.append(Case("gitreg list --where broad --json (in process)", partial(cli_list, path, BROAD)))
        timings = measure(cases, args.repeat)
        report(timings, [baseline])
        print("\nratios to the baseline: wall median, wall best, CPU median (this process: a commit's reads")
        print("also cost CPU in git's cat-file, which this does not count):")
        base = timings[baseline]
        for label, t in timings.items():
            if label != baseline:
                best, cpu = t.best / base.best, statistics.median(t.cpu) / statistics.median(base.cpu)
                print(f"  {ratio(timings, label, baseline):5.2f}x  {best:5.2f}x  {cpu:5.2f}x  {label}")
        if args.profile:
            print_profile("versions(where=broad), working tree", partial(api, path, None, where=BROAD))
    return 0


if __name__ == "__main__":
    sys.exit(main())
