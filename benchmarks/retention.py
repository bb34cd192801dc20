"""Claim: `gitreg retire --dry-run` and `gitreg usage` over 10,000 versions cost a small multiple of one full
read of the registry (every manifest read and parsed once).

    .venv/bin/python benchmarks/retention.py --models 1000 --versions 10 --repeat 5

Untimed: a registry of MODELS x VERSIONS synthetic manifests (testing/synthetic.py, made in January 2026,
each version's parent the one before), staging and production holding the latest and the one before of
every other model, a retention policy (keep_last 3, archive_after 180d, delete_archived_after 365d) in
registry.yaml, and version 1 of every model archived by a commit dated 400 days before the run, so that
`usage` finds each archival time in main's history. Timed in the same rounds, in process: the baseline
(`Registry.open(p)` and every model's, version's and stage's record), `gitreg retire --dry-run --json`,
`gitreg usage` and `gitreg usage --by owner --json`; each as its median over the baseline's median."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from _harness import Case, measure, parser, print_profile, report, run, session
from click.testing import CliRunner

from gitreg.cli import cli
from gitreg.layout import version_path
from gitreg.registry import Registry
from testing.synthetic import commit_all, make_registry, model_names, registry_files

POLICY = "retention:\n  keep_last: 3\n  archive_after: 180d\n  delete_archived_after: 365d\n"


def generate(path: Path, models: int, versions: int) -> None:
    names = model_names(models)
    stages = {
        "staging": dict.fromkeys(names[::2], versions),
        "production": dict.fromkeys(names[::2], max(1, versions - 1)),
    }
    make_registry(
        path, path.with_name("blobs"), registry_files(names, versions, stages=stages, month=1), "Generated"
    )
    config = path / "registry.yaml"
    config.write_text(config.read_text() + POLICY)
    commit_all(path, "Retention policy")
    for name in names:
        manifest = path / version_path(name, 1)
        manifest.write_text(manifest.read_text().replace("status: active", "status: archived"))
    when = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    os.environ.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    try:
        commit_all(path, "Archive every version 1")
    finally:
        for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            os.environ.pop(name)


def full_read(path: Path) -> int:
    """The baseline: every file of the registry read and parsed once, as records."""
    registry = Registry.open(path)
    count = 0
    for name in registry.model_names():
        registry.model_record(name)
        count += len(registry.version_records(name))
    for stage in registry.stage_names():
        registry.stage(stage)
    return count


def in_process(path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-C", str(path), *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"gitreg {' '.join(args)} exited {result.exit_code}: {result.stderr}")
    return result.stdout


def main() -> int:
    p = parser(__doc__, repeat=5)
    p.add_argument("--models", type=int, default=1000, help="models in the registry (1000)")
    p.add_argument("--versions", type=int, default=10, help="versions of each model (10)")
    args = p.parse_args()
    title = f"retention: {args.models} models x {args.versions} versions, {args.repeat} round(s)"
    with session(args, title) as work:
        path = work / "registry"
        generate(path, args.models, args.versions)
        run("git", "-C", path, "gc", "--quiet")
        versions = full_read(path)
        planned = json.loads(in_process(path, "retire", "--dry-run", "--json"))
        used = json.loads(in_process(path, "usage", "--json"))
        print(
            f"{versions} versions; retire would archive {len(planned['stale'])}, "
            f"keeps {len(planned['kept'])}; "
            f"usage: {used['total_bytes']} bytes, {used['archived_only_bytes']} archived only, "
            f"{used['collectable_bytes']} collectable\n"
        )
        baseline = "one full read (Registry.open + every record)"
        retire = partial(in_process, path, "retire", "--dry-run", "--json")
        by_owner = partial(in_process, path, "usage", "--by", "owner", "--json")
        cases = [
            Case(baseline, partial(full_read, path)),
            Case("gitreg retire --dry-run --json", retire),
            Case("gitreg usage", partial(in_process, path, "usage")),
            Case("gitreg usage --by owner --json", by_owner),
        ]
        report(measure(cases, args.repeat), [baseline])
        if args.profile:
            print_profile("gitreg retire --dry-run", partial(in_process, path, "retire", "--dry-run"))
            print_profile("gitreg usage", partial(in_process, path, "usage"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
