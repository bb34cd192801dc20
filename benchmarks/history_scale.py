"""Claim: `gitreg history` and `gitreg audit` over 5,000 merged promotions cost a small multiple of `git log`
over the stage files of the same history.

    .venv/bin/python benchmarks/history_scale.py --promotions 1000 --models 10,1000 --versions 10 --repeat 3

Untimed, for each --models count (one registry each, so one run gives the corners): `gitreg init`, --models x
--versions manifests in one commit (with --register-merges: the model files in one commit, then each version
landed by a pull request of its own), then --promotions promotions, each landed as a forge lands a pull
request (a branch off main changing stages/staging.yaml or stages/production.yaml, and a `--no-ff` merge
"Merge pull request #N from user/branch"), all written by one `git fast-import`, then packed (as a clone is);
production only takes what staging holds. The history is checked (first-parent and merge counts, HEAD
validates, history and audit give back the plan). Timed in the same rounds: `stage_history` and `gitreg
history MODEL` (also with `--stage production`, and as a process), `audit` of every change and of the last
tenth, and `gitreg audit --format json` (in process, and as a process with its peak RSS), against `git log
--first-parent --raw -- stages/` and `... -p`. The untimed first round fills the walk cache in the registry's
git folder (`gitreg.walk_cache`), so those cases read it, as a second run does; `..., no cache` cases (and
their profile) walk without it, as the first run after a new commit does for that commit; the "first run"
processes start with the cache folder removed (untimed)."""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

from _harness import Case, gitreg_executable, measure, parser, print_profile, report, run, run_child, session
from click.testing import CliRunner

from gitreg.cli import cli
from gitreg.gitrepo import GitRepo
from gitreg.layout import stage_path, version_path
from gitreg.ops.history import StageChange, audit, stage_history
from gitreg.registry import Registry
from gitreg.validate.runner import validate_registry
from testing.synthetic import make_registry, model_names, registry_files, stage_manifest

PEOPLE = [
    ("Alice Adams", "alice@example.com"),
    ("Bob Brown", "bob@example.com"),
    ("Cy Chen", "cy@example.com"),
]
MERGERS = [("Release Bot", "release@example.com"), ("Dana Diaz", "dana@example.com")]
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())


class Promotion(NamedTuple):
    number: int  # the pull request's
    model: str
    stage: str
    from_version: int | None
    to_version: int
    author: tuple[str, str]
    merger: tuple[str, str]
    when: int  # the branch commit's time; the merge lands a minute later


def plan(models: list[str], versions: int, count: int, seed: int) -> list[Promotion]:
    """Staging moves a random model to its next version (wrapping round to 1); production takes what staging
    holds when staging is ahead of it."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    held: dict[str, dict[str, int]] = {"staging": {}, "production": {}}
    out = []
    for number in range(1, count + 1):
        model = rng.choice(models)
        staged, live = held["staging"].get(model), held["production"].get(model)
        if staged is not None and live != staged and rng.random() < 0.5:
            stage, old, new = "production", live, staged
        else:
            stage, old, new = "staging", staged, 1 if staged is None else staged % versions + 1
        held[stage][model] = new
        out.append(
            Promotion(
                number, model, stage, old, new, rng.choice(PEOPLE), rng.choice(MERGERS), START + number * 600
            )
        )
    return out


def _commit(ref: str, mark: int, who: tuple[str, str], when: int, message: str, tree: str) -> bytes:
    """One fast-import commit; ``tree`` holds its from, merge and M lines."""
    person = f"{who[0]} <{who[1]}> {when} +0000"
    raw = message.encode()
    head = f"commit {ref}\nmark :{mark}\nauthor {person}\ncommitter {person}\ndata {len(raw)}\n"
    return head.encode() + raw + f"\n{tree}\n".encode()


def fast_import(
    root: Path,
    promotions: list[Promotion],
    base: str,
    registrations: dict[str, str] | None = None,
    interleave: bool = False,
) -> None:
    """Per promotion: the new stage file, a commit on a branch off main writing it, and a merge commit on main
    whose parents are the previous main and that branch. The branch is deleted afterwards, as forges do.
    ``registrations`` ({version file: text}): each lands the same way, by a merged pull request of its own
    (``--register-merges``): all before the promotions, or if ``interleave``, each just before the first
    promotion of its version (the others after the last)."""
    held: dict[str, dict[str, int]] = {"staging": {}, "production": {}}
    parts, tip = [b"feature done\n"], base
    mark = 3 * len(promotions)
    waiting = dict(registrations or {})

    def register(version_file: str, when: int) -> None:
        nonlocal mark, tip
        manifest = waiting.pop(version_file)
        n = len(registrations or {}) - len(waiting) - 1
        raw, who = manifest.encode(), PEOPLE[n % len(PEOPLE)]
        user = who[1].split("@")[0]
        blob, branch, merge = mark + 1, mark + 2, mark + 3
        mark = merge
        model, version = version_file.split("/")[1], version_file.rsplit("/", 1)[1].removesuffix(".yaml")
        parts.extend(
            [
                b"blob\nmark :%d\ndata %d\n%s\n" % (blob, len(raw), raw),
                _commit(
                    "refs/heads/bench-pr",
                    branch,
                    who,
                    when,
                    f"Register {model}@{version}\n",
                    f"from {tip}\nM 100644 :{blob} {version_file}\n",
                ),
                _commit(
                    "refs/heads/main",
                    merge,
                    MERGERS[0],
                    when + 10,
                    f"Merge pull request #{100_000 + n} from {user}/register-{model}-{version}\n",
                    f"from {tip}\nmerge :{branch}\nM 100644 :{blob} {version_file}\n",
                ),
            ]
        )
        tip = f":{merge}"

    if not interleave:
        for n, version_file in enumerate(list(waiting)):
            register(version_file, START - 600_000 + n * 60)
    for p in promotions:
        needed = version_path(p.model, p.to_version)
        if needed in waiting:
            register(needed, p.when - 60)
        held[p.stage][p.model] = p.to_version
        blob, branch, merge, path = 3 * p.number - 2, 3 * p.number - 1, 3 * p.number, stage_path(p.stage)
        text = stage_manifest(held[p.stage]).encode()
        trailers = f"Gitreg-Model: {p.model}\nGitreg-Version: {p.to_version}\nGitreg-Stage: {p.stage}\n"
        if p.from_version is not None:
            trailers += f"Gitreg-From-Version: {p.from_version}\n"
        title = f"Promote {p.model}@{p.to_version} to {p.stage}"
        user = p.author[1].split("@")[0]
        merge_title = f"Merge pull request #{p.number} from {user}/promote-{p.model}-{p.to_version}-{p.stage}"
        parts += [
            b"blob\nmark :%d\ndata %d\n%s\n" % (blob, len(text), text),
            _commit(
                "refs/heads/bench-pr",
                branch,
                p.author,
                p.when,
                f"{title}\n\n{trailers}",
                f"from {tip}\nM 100644 :{blob} {path}\n",
            ),
            _commit(
                "refs/heads/main",
                merge,
                p.merger,
                p.when + 60,
                f"{merge_title}\n\n{title}\n",
                f"from {tip}\nmerge :{branch}\nM 100644 :{blob} {path}\n",
            ),
        ]
        tip = f":{merge}"
    for n, version_file in enumerate(list(waiting)):  # versions never promoted, after the last promotion
        register(version_file, START + (len(promotions) + 1) * 600 + n * 60)
    stream = b"".join([*parts, b"done\n"])
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=stream, check=True)
    run("git", "-C", root, "update-ref", "-d", "refs/heads/bench-pr")
    run("git", "-C", root, "reset", "--quiet", "--hard", "main")


def check(label: str, changes: list[StageChange], want: list[Promotion]) -> None:
    got = [(c.model, c.stage, c.from_version, c.to_version, c.pull_request, c.merged_by) for c in changes]
    planned = [
        (p.model, p.stage, p.from_version, p.to_version, p.number, f"{p.merger[0]} <{p.merger[1]}>")
        for p in want
    ]
    if got != planned:
        raise SystemExit(f"error: {label} does not give back the planned promotions")


def cli_run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"error: gitreg {' '.join(args)} exited {result.exit_code}: {result.output[-2000:]}")


def corner(work: Path, args: argparse.Namespace, count: int) -> None:
    """One registry of ``count`` models x --versions versions and --promotions promotions: built, checked,
    timed against its baselines."""
    root, models = work / f"registry-{count}", model_names(count, width=3)
    promotions = plan(models, args.versions, args.promotions, args.seed)
    files = registry_files(models, args.versions, lean=True, month=1)
    registrations = {p: t for p, t in files.items() if "/versions/" in p} if args.register_merges else {}
    base = {p: t for p, t in files.items() if p not in registrations}
    fast_import(
        root, promotions, make_registry(root, work / f"blobs-{count}", base), registrations, args.interleave
    )
    run("git", "-C", root, "repack", "-adq")  # packed, as a clone is (make_registry leaves loose objects)
    first_parent = len(run("git", "-C", root, "rev-list", "--first-parent", "main").split())
    merges = len(run("git", "-C", root, "rev-list", "--merges", "main").split())
    landed = args.promotions + len(registrations)
    if (first_parent, merges) != (landed + 2, landed) or validate_registry(Registry.open(root)).errors:
        raise SystemExit("error: the generated history does not have the planned shape, or does not validate")
    repo, model = GitRepo.open(root), models[len(models) * 42 // 100]
    mine = [p for p in promotions if p.model == model]
    mine_production = [p for p in mine if p.stage == "production"]
    cutoff = promotions[len(promotions) * 9 // 10]
    since = datetime.fromtimestamp(cutoff.when, UTC)
    check("stage_history", stage_history(repo, "main", model), mine)
    entries = audit(repo, "main")
    check("audit", [e.change for e in entries], promotions)
    # no forge refs here: a pull request named in a merge message is "unconfirmed", nothing else
    if any(e.flags != ["unconfirmed"] or e.verdict != "pass" or not e.digest for e in entries):
        raise SystemExit("error: audit flags a change of the generated history")

    print(
        f"\n{count} models x {args.versions} versions ({count * args.versions} versions"
        f"{', each registered by a merge of its own' if registrations else ''}"
        f"{', just before its first promotion' if registrations and args.interleave else ''}); {model}: "
        f"{len(mine)} changes ({len(mine_production)} in production); audit: {len(promotions)}"
    )
    log = ["git", "-C", root, "log", "--first-parent"]
    forget = partial(shutil.rmtree, repo.cache_folder(), ignore_errors=True)  # untimed: a first run's state
    c = ["-C", str(root)]
    baselines = ["git log --first-parent --raw -- stages/", "git log --first-parent -p -- stages/"]
    cases = [
        # before each round, untimed: the cache filled again (the first-run cases of the round before
        # removed it), so that the cached cases read a full cache as a second run does
        Case(
            baselines[0],
            partial(run, *log, "--raw", "main", "--", "stages/"),
            before=partial(audit, repo, "main"),
        ),
        Case(baselines[1], partial(run, *log, "-p", "main", "--", "stages/")),
        Case(f"stage_history(main, {model})", partial(stage_history, repo, "main", model)),
        Case(
            f"stage_history(main, {model}), no cache",
            partial(stage_history, repo, "main", model, cache=False),
        ),
        Case(f"gitreg history {model} (in process)", partial(cli_run, *c, "history", model)),
        Case("stage_history(..., production)", partial(stage_history, repo, "main", model, "production")),
        Case(
            f"gitreg history {model} --stage production (in process)",
            partial(cli_run, *c, "history", model, "--stage", "production"),
        ),
        Case(
            f"audit(main, since=the last {len(promotions) - cutoff.number + 1})",
            partial(audit, repo, "main", since),
        ),
        Case(f"audit(main): all {len(promotions)} changes", partial(audit, repo, "main")),
        Case(f"audit(main): all {len(promotions)}, no cache", partial(audit, repo, "main", cache=False)),
        Case("gitreg audit --format json (in process)", partial(cli_run, *c, "audit", "--format", "json")),
        Case(
            "gitreg audit --format json (a process: start-up, peak RSS)",
            partial(run_child, gitreg_executable(), *c, "audit", "--format", "json"),
        ),
        Case(
            "gitreg audit --format json, first run (a process, no walk cache)",
            partial(run_child, gitreg_executable(), *c, "audit", "--format", "json"),
            before=forget,
        ),
        Case(
            f"gitreg history {model} (a process)",
            partial(run_child, gitreg_executable(), *c, "history", model),
        ),
        Case(
            f"gitreg history {model}, first run (a process, no walk cache)",
            partial(run_child, gitreg_executable(), *c, "history", model),
            before=forget,
        ),
    ]
    report(measure(cases, args.repeat), baselines)
    if args.profile:
        print_profile(f"audit(main) of {len(promotions)} changes", partial(audit, repo, "main"))
        print_profile(
            f"audit(main) of {len(promotions)} changes, no cache", partial(audit, repo, "main", cache=False)
        )


def main() -> int:
    p = parser(__doc__, repeat=3)
    p.add_argument("--promotions", type=int, default=5000, help="merged promotions on main (5000)")
    p.add_argument(
        "--models", default="100", help="models, or a comma-separated list, one registry each (100)"
    )
    p.add_argument("--versions", type=int, default=5, help="versions per model (5)")
    p.add_argument("--seed", type=int, default=42, help="of the random plan (42)")
    p.add_argument(
        "--register-merges",
        action="store_true",
        help="land each version by a merged pull request of its own, before the promotions, instead of all "
        "of them in the first commit (main's first-parent history then holds a merge per version too)",
    )
    p.add_argument(
        "--interleave",
        action="store_true",
        help="with --register-merges: each version lands just before the first promotion of it (the others "
        "after the last), instead of all before the promotions",
    )
    args = p.parse_args()
    counts = [int(n) for n in args.models.split(",")]
    with session(args, f"history scale: {args.promotions} promotions of {args.models} models") as work:
        for count in counts:
            corner(work, args, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
