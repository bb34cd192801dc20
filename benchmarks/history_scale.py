"""How long ``gitreg history`` and ``gitreg audit`` take on a long ``main``, next to ``git log`` over the
stage files of the same history.

    .venv/bin/python benchmarks/history_scale.py [--promotions 5000] [--models 100] [--versions 5]
        [--repeat 3] [--workdir DIR] [--keep] [--profile] [--seed 42]

A registry is generated (not timed beyond one printed figure): ``gitreg init``, then --models models with
--versions valid manifests each (every one meets the production policy: description and
lineage.code.commit), committed once on main. Then main gets --promotions promotions, each landed the way a
forge lands a pull request: a branch off main with one change to stages/staging.yaml or
stages/production.yaml, and a ``--no-ff`` merge commit "Merge pull request #N from user/branch" whose
first parent is the previous main. Production only ever takes the version that staging holds on main at
that moment, so every merge is valid. The whole history is written by one ``git fast-import`` (a branch
commit and a two-parent merge commit per promotion, the stage files as blobs) instead of 2 x N git
processes, then checked: the first-parent and merge counts, and ``gitreg validate`` on HEAD.

Measured, best and median of --repeat runs after one untimed run whose result is checked against the plan:

a) ``gitreg history MODEL`` (a model near the middle): ``gitreg.ops.history.stage_history`` and the CLI in
   process through click's CliRunner;
b) the same with ``--stage production``;
c) ``gitreg audit --format json`` over every change: ``gitreg.ops.history.audit`` and the CLI in process; and
   the audit of only the last tenth of the changes (``--since``), to show what a window costs;
d) the baselines, as subprocesses: ``git log --first-parent --raw -- stages/`` and ``... -p -- stages/``,
   the exact ``git log`` command gitreg itself runs for history and for audit, and for reference
   ``git log --first-parent --raw -G'^MODEL:' -- stages/`` (git finding one model's changes by itself).

Each of a)-c) is printed with its ratio to d), and with its CPU time next to the wall time (the CPU time of
this process and of reaped children: on a busy machine wall time stretches, CPU time much less). When
audit's best run takes more than --audit-limit seconds or more than --ratio-limit times the ``--raw``
baseline (or with --profile), it is profiled with cProfile (top 25 functions by cumulative and by own
time), then run once more with its git object reads (GitRepo calls) and YAML parses counted, the parses
by kind of file next to how many distinct texts there were."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from _common import (
    Timing,
    commit_all,
    environment_summary,
    git,
    gitreg_executable,
    isolate_env,
    model_names,
    ms,
    profile,
    registry_files,
    stage_manifest,
    table,
    timed,
    work_folder,
    write_files,
)
from click.testing import CliRunner

from gitreg import yamlio
from gitreg.cli import cli
from gitreg.gitrepo import GitRepo
from gitreg.ops.history import AuditEntry, StageChange, audit, stage_history
from gitreg.ops.init import init
from gitreg.registry import stage_path

#: (name, email): who proposes promotions, and who merges them (a forge's merge commit is authored by the
#: person who pressed the button).
_AUTHORS = [
    ("Alice Adams", "alice@example.com"),
    ("Bob Brown", "bob@example.com"),
    ("Cy Chen", "cy@example.com"),
]
_MERGERS = [("Release Bot", "release@example.com"), ("Dana Diaz", "dana@example.com")]
_START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
_STEP_SECONDS = 600  # one promotion lands every ten minutes
_BRANCH_REF = "refs/heads/bench-pull-request"


# --- the registry and its history ------------------------------------------------------------------------


@dataclass(frozen=True)
class Promotion:
    number: int  # the pull request number
    model: str
    stage: str
    from_version: int | None
    to_version: int
    author: tuple[str, str]
    merger: tuple[str, str]
    when: int  # seconds since the epoch: the branch commit; the merge lands a minute later

    @property
    def branch(self) -> str:
        user = self.author[1].split("@")[0]
        return f"{user}/promote-{self.model}-{self.to_version}-{self.stage}"


def plan(models: list[str], versions: int, count: int, seed: int) -> list[Promotion]:
    """``count`` promotions of random models. Staging moves to the model's next version (after the last it
    wraps round to 1, a rollback); production takes what staging holds when staging is ahead of it."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    stages: dict[str, dict[str, int]] = {"staging": {}, "production": {}}
    out = []
    for number in range(1, count + 1):
        model = rng.choice(models)
        staged, live = stages["staging"].get(model), stages["production"].get(model)
        if staged is not None and live != staged and rng.random() < 0.5:
            stage, old, new = "production", live, staged
        else:
            stage, old = "staging", staged
            new = 1 if staged is None else staged % versions + 1
        stages[stage][model] = new
        when = _START + number * _STEP_SECONDS
        author, merger = rng.choice(_AUTHORS), rng.choice(_MERGERS)
        out.append(Promotion(number, model, stage, old, new, author, merger, when))
    return out


def generate_base(root: Path, store: Path, models: list[str], versions: int) -> str:
    """``gitreg init``, then every model and version, committed once on main; the commit's sha."""
    init(root, store.as_uri())
    write_files(root, registry_files(models, versions, lean=True, month=1))
    commit_all(root, f"Register {len(models)} models x {versions} versions")
    return git(root, "rev-parse", "HEAD").strip()


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _person(who: tuple[str, str], when: int) -> str:
    return f"{who[0]} <{who[1]}> {when} +0000"


def fast_import_stream(promotions: list[Promotion], base: str) -> bytes:
    """A ``git fast-import`` stream: per promotion, the new stage file (a blob), a commit on a branch off
    main that writes it, and a merge commit on main with the previous main and that branch as parents."""
    stages: dict[str, dict[str, int]] = {"staging": {}, "production": {}}
    parts: list[bytes] = [b"feature done\n"]
    mark = 0
    main_tip = base
    for p in promotions:
        stages[p.stage][p.model] = p.to_version
        path = stage_path(p.stage)
        blob, branch_commit, merge_commit = mark + 1, mark + 2, mark + 3
        mark += 3
        was = "-" if p.from_version is None else str(p.from_version)
        message = (
            f"Promote {p.model}@{p.to_version} to {p.stage}\n\n"
            f"{p.stage}: {p.model} {was} -> {p.to_version}\n\n"
            f"Gitreg-Model: {p.model}\nGitreg-Version: {p.to_version}\nGitreg-Stage: {p.stage}\n"
            + (f"Gitreg-From-Version: {p.from_version}\n" if p.from_version is not None else "")
        )
        merge_message = (
            f"Merge pull request #{p.number} from {p.branch}\n\nPromote {p.model}@{p.to_version}\n"
        )
        parts += [
            f"blob\nmark :{blob}\n".encode(),
            _data(stage_manifest(stages[p.stage])),
            f"commit {_BRANCH_REF}\nmark :{branch_commit}\n".encode(),
            f"author {_person(p.author, p.when)}\ncommitter {_person(p.author, p.when)}\n".encode(),
            _data(message),
            f"from {main_tip}\nM 100644 :{blob} {path}\n\n".encode(),
            f"commit refs/heads/main\nmark :{merge_commit}\n".encode(),
            f"author {_person(p.merger, p.when + 60)}\ncommitter {_person(p.merger, p.when + 60)}\n".encode(),
            _data(merge_message),
            f"from {main_tip}\nmerge :{branch_commit}\nM 100644 :{blob} {path}\n\n".encode(),
        ]
        main_tip = f":{merge_commit}"
    parts.append(b"done\n")
    return b"".join(parts)


def build_history(root: Path, promotions: list[Promotion], base: str) -> None:
    stream = fast_import_stream(promotions, base)
    done = subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"], input=stream, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"error: git fast-import failed: {done.stderr.decode(errors='replace')}")
    git(root, "update-ref", "-d", _BRANCH_REF)  # merged branches are deleted, as forges do
    git(root, "reset", "--quiet", "--hard", "main")  # main is checked out: bring the working tree along


# --- what is timed ---------------------------------------------------------------------------------------


def cli_run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"error: gitreg {' '.join(args)} exited {result.exit_code}: {result.output[-2000:]}")
    return result.output


def git_out(root: Path, *args: str) -> None:
    """A git command whose output is read to the end and dropped (the cost of producing it)."""
    subprocess.run(["git", "-C", str(root), *args], stdout=subprocess.PIPE, check=True)


def gitreg_log_args(paths: list[str]) -> list[str]:
    """The ``git log`` command ``gitreg.ops.history.landings`` runs."""
    fmt = "%x1e%H%x1f%P%x1f%an <%ae>%x1f%cn <%ce>%x1f%cI%x1f%s%x1f%b%x1d"
    return [
        "-c", "core.quotePath=false", "log", "--first-parent", "--raw", "--no-abbrev", "--no-renames",
        f"--format={fmt}", "main", "--", *paths,
    ]  # fmt: skip


@dataclass(frozen=True)
class Measured:
    """Wall-clock and CPU samples of one operation. CPU is this process's plus that of the child processes
    it reaped (a ``git log`` subprocess), not that of git's persistent ``cat-file`` processes. On a busy
    machine wall time stretches with the other load; CPU time much less."""

    wall: Timing
    cpu: Timing


def measure_both(fn: Callable[[], object], repeat: int, warmup: int = 1) -> Measured:
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        before = _cpu_seconds()
        start = time.perf_counter()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds() - before)
    return Measured(Timing(tuple(wall)), Timing(tuple(cpu)))


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def checked(
    label: str, fn: Callable[[], object], check: Callable[[object], str | None], repeat: int
) -> Measured:
    """One untimed run whose result must pass ``check`` (None: fine), then ``repeat`` timed runs."""
    problem = check(fn())
    if problem is not None:
        raise SystemExit(f"error: {label}: {problem}")
    return measure_both(fn, repeat, warmup=0)


def expect_changes(want: list[Promotion]) -> Callable[[object], str | None]:
    """A check that a history is exactly the planned promotions, in order."""

    def check(result: object) -> str | None:
        got = result if isinstance(result, list) else []
        if len(got) != len(want):
            return f"{len(got)} changes, expected {len(want)}"
        for change, p in zip(got, want, strict=True):
            assert isinstance(change, StageChange)
            key = (change.model, change.stage, change.from_version, change.to_version, change.pull_request)
            if key != (p.model, p.stage, p.from_version, p.to_version, p.number):
                return f"change {key} does not match the plan's #{p.number}"
            if change.direct_push or change.author.split(" <")[0] != p.author[0]:
                return f"#{p.number}: wrong author or flagged as a direct push: {change}"
            if change.merged_by is None or change.merged_by.split(" <")[0] != p.merger[0]:
                return f"#{p.number}: wrong merger: {change.merged_by}"
        return None

    return check


def expect_audit(want: list[Promotion]) -> Callable[[object], str | None]:
    history_check = expect_changes(want)

    def check(result: object) -> str | None:
        entries = result if isinstance(result, list) else []
        changes = [e.change for e in entries if isinstance(e, AuditEntry)]
        problem = history_check(changes)
        if problem is not None:
            return problem
        bad = [e for e in entries if isinstance(e, AuditEntry) and (e.flags or e.verdict != "pass")]
        if bad:
            return f"{len(bad)} of {len(entries)} flagged, e.g. {bad[0].as_dict()}"
        if any(isinstance(e, AuditEntry) and not e.digest for e in entries):
            return "an entry has no artifact digest"
        return None

    return check


def expect_cli_lines(count: int) -> Callable[[object], str | None]:
    def check(result: object) -> str | None:
        lines = str(result).strip().splitlines()
        return None if len(lines) == count + 1 else f"{len(lines)} lines, expected {count} rows + a header"

    return check


def expect_cli_json(count: int) -> Callable[[object], str | None]:
    def check(result: object) -> str | None:
        changes = json.loads(str(result))["changes"]
        return None if len(changes) == count else f"{len(changes)} changes in the JSON, expected {count}"

    return check


@contextmanager
def counting(names: list[str]) -> Iterator[Counter[str]]:
    """Count calls of the named GitRepo methods while the block runs (the class is restored afterwards)."""
    calls: Counter[str] = Counter()
    originals = {name: getattr(GitRepo, name) for name in names}

    def wrap(name: str, original: Callable[..., object]) -> Callable[..., object]:
        def counted(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            if name == "run" and len(args) > 1:
                calls[f"run git {args[1] if args[1] != '-c' else args[3]}"] += 1
            return original(*args, **kwargs)

        return counted

    for name, original in originals.items():
        setattr(GitRepo, name, wrap(name, original))
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(GitRepo, name, original)


# --- the run ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--promotions", type=int, default=5000, help="merged promotions on main")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=5, help="versions per model")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", help="the model for history (default: the one at the middle)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, help="parent of the work folder (outside this checkout)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--profile", action="store_true", help="profile audit even when it is fast")
    parser.add_argument("--audit-limit", type=float, default=30.0, help="profile audit above this (s)")
    parser.add_argument("--ratio-limit", type=float, default=20.0, help="... or above this x baseline")
    args = parser.parse_args()
    if args.promotions < 10 or args.models < 2 or args.versions < 2 or args.repeat < 1:
        parser.error("need --promotions >= 10, --models >= 2, --versions >= 2, --repeat >= 1")
    with work_folder(args.workdir, args.keep) as work:
        isolate_env(work)
        run(work, args)


def run(work: Path, args: argparse.Namespace) -> None:  # noqa: PLR0915 - one benchmark, told in order
    print(environment_summary(work))
    root, store = work / "registry", work / "blobs"
    models = model_names(args.models, width=3)
    model = args.model or models[len(models) * 42 // 100]
    promotions = plan(models, args.versions, args.promotions, args.seed)

    print(f"\n== generating: {args.models} models x {args.versions} versions, {args.promotions} promotions")
    seconds, base = timed(partial(generate_base, root, store, models, args.versions))
    print(f"registry of {args.models * (args.versions + 1)} manifests, one commit: {seconds:.2f} s")
    stream_seconds, stream = timed(partial(fast_import_stream, promotions, base))
    seconds, _ = timed(partial(build_history, root, promotions, base))
    print(
        f"fast-import stream ({len(stream) / 1e6:.1f} MB) written in {stream_seconds:.2f} s; "
        f"git fast-import of {2 * args.promotions} commits + reset: {seconds:.2f} s"
    )
    first_parent = len(git(root, "log", "--first-parent", "--oneline", "main").splitlines())
    merges = len(git(root, "log", "--merges", "--oneline", "main").splitlines())
    all_commits = int(git(root, "rev-list", "--count", "main").strip())
    objects = git(root, "count-objects", "-v")
    packed = dict(line.split(": ") for line in objects.splitlines())
    print(
        f"git log --first-parent --oneline main | wc -l: {first_parent} "
        f"(init + models commit + {args.promotions} merges); git log --merges: {merges}; "
        f"commits on main: {all_commits}"
    )
    print(
        f"objects: {packed['count']} loose, {packed['in-pack']} packed ({packed['size-pack']} KiB of packs)"
    )
    if first_parent != args.promotions + 2 or merges != args.promotions:
        raise SystemExit("error: the generated history does not have the expected shape")
    done = subprocess.run(
        [gitreg_executable(), "-C", str(root), "validate"], capture_output=True, text=True, check=False
    )
    verdict = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:]
    print(f"gitreg validate on HEAD: exit {done.returncode}: {' '.join(verdict)}")
    if done.returncode != 0:
        raise SystemExit(f"error: the generated registry is invalid:\n{done.stdout}{done.stderr}")
    for stage in ("staging", "production"):
        entries = len((root / stage_path(stage)).read_text().splitlines())
        changed = sum(p.stage == stage for p in promotions)
        print(f"  stages/{stage}.yaml: {entries} entries at HEAD, changed by {changed} merges")

    repo = GitRepo.open(root)
    mine = [p for p in promotions if p.model == model]
    mine_production = [p for p in mine if p.stage == "production"]
    cutoff = promotions[len(promotions) * 9 // 10]
    tail = [p for p in promotions if p.when >= cutoff.when]
    since = datetime.fromtimestamp(cutoff.when, UTC)
    since_text = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    r = args.repeat
    c = ["-C", str(root)]

    print(f"\n== measuring: best and median of {r} runs, after one untimed run checked against the plan")
    print(f"{model}: {len(mine)} changes ({len(mine_production)} in production); audit: {len(promotions)}")
    rows: list[tuple[str, str, Measured]] = []

    def add(group: str, label: str, timing: Measured) -> None:
        rows.append((group, label, timing))
        print(f"  {label}: best {ms(timing.wall.best)} ms (CPU {ms(timing.cpu.best)} ms)", flush=True)

    add(
        "d",
        "git log --first-parent --raw -- stages/",
        measure_both(partial(git_out, root, *_raw("--raw")), r),
    )
    add("d", "git log --first-parent -p -- stages/", measure_both(partial(git_out, root, *_raw("-p")), r))
    history_log = partial(git_out, root, *gitreg_log_args(["stages/"]))
    add("d", "gitreg's git log for history (stages/)", measure_both(history_log, r))
    audit_paths = ["stages/", "models/", "registry.yaml"]
    audit_log = partial(git_out, root, *gitreg_log_args(audit_paths))
    add("d", "gitreg's git log for audit", measure_both(audit_log, r))
    pickaxe = partial(git_out, root, *_raw("--raw")[:-2], f"-G^{model}:", "--", "stages/")
    add("d", f"(ref.) git log --first-parent --raw -G'^{model}:' -- stages/", measure_both(pickaxe, r))

    history_fn = partial(stage_history, repo, "main", model)
    add("a", f"stage_history(main, {model})", checked("history", history_fn, expect_changes(mine), r))
    cli_history = partial(cli_run, [*c, "history", model])
    add(
        "a",
        f"gitreg history {model} (CliRunner)",
        checked("cli", cli_history, expect_cli_lines(len(mine)), r),
    )
    prod_fn = partial(stage_history, repo, "main", model, "production")
    add("b", "stage_history(..., production)", checked("prod", prod_fn, expect_changes(mine_production), r))
    cli_prod = partial(cli_run, [*c, "history", model, "--stage", "production"])
    add(
        "b",
        f"gitreg history {model} --stage production (CliRunner)",
        checked("cli prod", cli_prod, expect_cli_lines(len(mine_production)), r),
    )
    tail_fn = partial(audit, repo, "main", since)
    add("c", f"audit(main, since=last {len(tail)})", checked("audit tail", tail_fn, expect_audit(tail), r))
    audit_fn = partial(audit, repo, "main")
    audit_measured = checked("audit", audit_fn, expect_audit(promotions), r)
    add("c", f"audit(main): all {len(promotions)} changes", audit_measured)
    cli_audit = partial(cli_run, [*c, "audit", "--format", "json"])
    add(
        "c",
        "gitreg audit --format json (CliRunner)",
        checked("cli audit", cli_audit, expect_cli_json(len(promotions)), r),
    )
    print_results(rows, len(promotions), since_text)

    raw = rows[0][2].wall.best
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} CPUs)")
    audit_timing = audit_measured.wall
    if args.profile or audit_timing.best > args.audit_limit or audit_timing.best > args.ratio_limit * raw:
        why = "--profile" if args.profile else f"over {args.audit_limit:.0f} s or {args.ratio_limit:.0f}x"
        print(f"\n== profile of audit(main) over {len(promotions)} changes ({why})")
        print(profile(audit_fn, 25))
        print_call_counts(audit_fn, len(promotions))


def _raw(mode: str) -> list[str]:
    return ["log", "--first-parent", mode, "main", "--", "stages/"]


def print_results(rows: list[tuple[str, str, Measured]], changes: int, since: str) -> None:
    raw, patch = rows[0][2].wall.best, rows[1][2].wall.best
    body = [
        [
            group,
            label,
            ms(m.wall.best),
            ms(m.wall.median),
            ms(m.cpu.best),
            f"{m.wall.best / raw:.1f}x",
            f"{m.wall.best / patch:.1f}x",
            f"{m.wall.best / changes * 1e6:.0f}" if "all" in label or "json" in label else "",
        ]
        for group, label, m in rows
    ]
    headers = ["", "operation", "best ms", "median ms", "CPU ms", "/ --raw", "/ -p", "us/change"]
    print(f"\n== results ({changes} promotions on main; the audit window starts {since})")
    print("ratios are of best wall times; CPU ms: best CPU time of the python process + reaped children")
    print(table(headers, body, right=(2, 3, 4, 5, 6, 7)))


def print_call_counts(fn: Callable[[], object], changes: int) -> None:
    """How many git object reads one audit makes (GitRepo calls), and how many YAML documents it parses
    against how many distinct ones there are (gitreg.yamlio.load calls, by file)."""
    names = ["read_blob", "read_path", "object_at", "tree_names", "ls_tree_sizes", "run", "rev_parse"]
    with counting(names) as calls, counting_yaml() as parses:
        start = time.perf_counter()
        cpu = _cpu_seconds()
        fn()
        cpu = _cpu_seconds() - cpu
        seconds = time.perf_counter() - start
    print(f"\n== one audit, counted: {seconds:.1f} s wall, {cpu:.1f} s CPU, {changes} changes")
    rows = [[name, str(n), f"{n / changes:.1f}"] for name, n in sorted(calls.items(), key=lambda kv: -kv[1])]
    print(table(["GitRepo method", "calls", "per change"], rows, right=(1, 2)))
    yaml_rows = [
        [kind, str(p.calls), str(len(p.distinct)), f"{p.seconds:.1f}", f"{p.seconds / p.calls * 1000:.2f}"]
        for kind, p in sorted(parses.items(), key=lambda kv: -kv[1].seconds)
    ]
    total = sum(p.seconds for p in parses.values())
    yaml_rows.append(["total", str(sum(p.calls for p in parses.values())), "", f"{total:.1f}", ""])
    headers = ["yamlio.load of", "parses", "distinct texts", "wall s", "ms each"]
    print(table(headers, yaml_rows, right=(1, 2, 3, 4)))


@dataclass
class _Parses:
    calls: int = 0
    seconds: float = 0.0
    distinct: set[str] = field(default_factory=set)


@contextmanager
def counting_yaml() -> Iterator[dict[str, _Parses]]:
    """Count and time gitreg.yamlio.load by the kind of file parsed (restored afterwards)."""
    parses: dict[str, _Parses] = {}
    original = yamlio.load

    def load(text: str | bytes, path: str) -> yamlio.Document:
        kind = _kind(path)
        entry = parses.setdefault(kind, _Parses())
        raw = text.encode() if isinstance(text, str) else text
        entry.distinct.add(hashlib.sha1(raw, usedforsecurity=False).hexdigest())
        start = time.perf_counter()
        try:
            return original(text, path)
        finally:
            entry.calls += 1
            entry.seconds += time.perf_counter() - start

    yamlio.load = load
    try:
        yield parses
    finally:
        yamlio.load = original


def _kind(path: str) -> str:
    if path == "stage":
        return "stage blob (history._Stages)"
    if path == "version":
        return "version (history._version_at)"
    if path.startswith("stages/") or path == "registry.yaml":
        return f"{path} (validate)"
    if path.endswith("/model.yaml"):
        return "models/*/model.yaml (validate)"
    if "/versions/" in path:
        return "models/*/versions/* (validate)"
    return path


if __name__ == "__main__":
    main()
