"""How long ``gitreg validate`` takes on large registries, next to just parsing the same YAML files.

    .venv/bin/python benchmarks/validate_scale.py [--sizes 1000,10000] [--base-sizes 100,1000,10000]
        [--repeat 5] [--workdir DIR] [--keep] [--profile] [--no-cli]

For each size N (versions in the registry) a registry is generated as files: ``gitreg init``, then N/10
models x 10 versions of valid manifests, a model.yaml per model (owners and a production policy), and
stages/staging.yaml and stages/production.yaml (every production entry is also in staging and meets the
policy, so the registry is clean), committed in one commit on main; then three branches with a one-file
change each. Generating them is not measured.

Measured, in rounds (each round runs every case once, so a change in the machine's load hits all cases
alike), after one untimed round whose validation reports must have no errors; best and median of --repeat:

a) full validation of the working tree and of the HEAD commit (``validate_registry(Registry.open(...))``);
b) in the same rounds, the baseline: reading every file gitreg parses and loading it with PyYAML's C loader
   (``yaml.load(data, Loader=yaml.CSafeLoader)``), the ratio of a) to it, and the ingredients of a) alone;
c) ``--base main`` validation of the one-file changes (a promotion to staging, a promotion to production, a
   new version file) at every --base-sizes size, side by side, with the ratio of the largest size to the
   smallest (a one-file change must cost about the same in 10,000 versions as in 100);
d) the same through the CLI as a subprocess, once, interpreter start-up included.

Wall-clock time and CPU time (this process plus the git processes it waited for) are both recorded; CPU
time is the steadier figure on a busy machine. Call counts from cProfile (which do not depend on load) show
what work grows with the registry. When full validation costs more than --ratio-limit times the baseline,
or --base grows more than --flat-limit times from the smallest size to the largest, the slow case is
profiled with cProfile (top functions by cumulative and by own time)."""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import pstats
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml
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
    version_manifest,
    work_folder,
    write_files,
)

import gitreg
from gitreg import manifest, yamlio
from gitreg.gitrepo import GitRepo
from gitreg.ops.init import init
from gitreg.manifest import ModelInfo, ModelVersion, RegistryConfig, StageFile
from gitreg.registry import Registry, stage_path, version_path
from gitreg.snapshot import CommitSnapshot, MemorySnapshot
from gitreg.validate import Report, View, validate
from gitreg.validate.runner import validate_registry
from gitreg.validate.rules.files import CREDENTIAL_PATTERNS

#: Every model's production policy; the generated versions meet it.
_PRODUCTION_METRICS = {"auc": ">= 0.5"}


# --- the registries --------------------------------------------------------------------------------------


@dataclass
class Generated:
    """A generated registry: where it is, its models, the files gitreg parses, its stages and branches."""

    size: int
    root: Path
    models: list[str]
    versions: int
    parsed_files: list[str]
    staging: dict[str, int]
    production: dict[str, int]
    tracked_files: int = 0
    scenarios: list[Scenario] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """A branch off main that changes one file, as a pull request would."""

    branch: str
    label: str
    files: dict[str, str]


_LABELS = {
    "promote-staging": "promote to staging (stages/staging.yaml)",
    "promote-production": "promote to production (stages/production.yaml)",
    "new-version": "add a version (models/<m>/versions/11.yaml)",
}


def generate(root: Path, store: Path, size: int, versions: int) -> Generated:
    """``gitreg init``, then size/versions models x versions manifests, committed in one commit on main.
    Even models are in staging at their latest version; every fourth model is in production at that same
    version (so it is in staging too, and meets the registry's and the model's production policy)."""
    init(root, store.as_uri())
    models = model_names(max(1, size // versions))
    staging = {model: versions for model in models[::2]}
    production = {model: versions for model in models[::4]}
    files = registry_files(
        models,
        versions,
        stages={"staging": staging, "production": production},
        production_metrics=_PRODUCTION_METRICS,
    )
    write_files(root, files)
    commit_all(root, f"Generated benchmark registry of {size} versions")
    parsed = ["registry.yaml", *sorted(files)]
    reg = Generated(size, root, models, versions, parsed, staging, production)
    reg.tracked_files = len(git(root, "ls-files", "-z").split("\0")) - 1
    reg.scenarios = scenarios(reg)
    for scenario in reg.scenarios:
        make_branch(root, scenario)
    return reg


def scenarios(reg: Generated) -> list[Scenario]:
    """Three pull requests of one file each, on models near the middle of the registry."""
    middle = len(reg.models) // 2
    odd = reg.models[middle | 1] if len(reg.models) > 1 else reg.models[0]
    candidates = reg.models[middle:] + reg.models
    in_staging_only = next(m for m in candidates if m in reg.staging and m not in reg.production)
    latest = reg.versions
    new_index = (middle // 4) * 4  # in staging and in production at every size, so the same work
    new_model = reg.models[new_index]
    return [
        Scenario(
            "promote-staging",
            f"staging.yaml: + {odd}: {latest}",
            {stage_path("staging"): stage_manifest({**reg.staging, odd: latest})},
        ),
        Scenario(
            "promote-production",
            f"production.yaml: + {in_staging_only}: {latest}",
            {stage_path("production"): stage_manifest({**reg.production, in_staging_only: latest})},
        ),
        Scenario(
            "new-version",
            f"+ {version_path(new_model, latest + 1)}",
            {version_path(new_model, latest + 1): version_manifest(new_model, latest + 1, index=new_index)},
        ),
    ]


def make_branch(root: Path, scenario: Scenario) -> None:
    git(root, "checkout", "--quiet", "-b", scenario.branch, "main")
    for rel, text in scenario.files.items():
        (root / rel).write_text(text)
    commit_all(root, scenario.label)
    changed = git(root, "diff", "--name-only", "main", "HEAD").split()
    if len(changed) != 1:
        raise SystemExit(f"error: branch {scenario.branch} changes {changed}, not one file")
    git(root, "checkout", "--quiet", "main")


# --- clocks and rounds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """Samples of one case: wall-clock seconds, and CPU seconds of this process plus waited-for children."""

    wall: Timing
    cpu: Timing


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def clock(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds of ``fn``, CPU seconds of ``fn`` and of the git processes it started).

    A collection after ``fn`` (outside the wall-clock window) frees GitPython's persistent ``cat-file``
    processes, so their CPU time is charged to the case that started them rather than to whichever case
    runs when they happen to be freed; the cost of a collection itself (a second one, with nothing left to
    free) is taken off again."""
    before, start = _cpu_now(), time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    gc.collect()
    collected = _cpu_now()
    gc.collect()
    overhead = _cpu_now() - collected
    return wall, max(0.0, collected - before - overhead)


@dataclass(frozen=True)
class Case:
    """One thing to time; ``before`` runs untimed just before each sample (e.g. a checkout)."""

    key: str
    fn: Callable[[], object]
    before: Callable[[], object] | None = None


def rounds(cases: list[Case], repeat: int) -> dict[str, Measured]:
    """Time every case once per round, ``repeat`` rounds, after one untimed round."""
    walls: dict[str, list[float]] = {c.key: [] for c in cases}
    cpus: dict[str, list[float]] = {c.key: [] for c in cases}
    # What exists now (modules, the cases' inputs) is left out of collections, so that the collection
    # after each sample costs next to nothing; collections inside the samples still run as usual.
    gc.collect()
    gc.freeze()
    try:
        for index in range(repeat + 1):
            for case in cases:
                if case.before is not None:
                    case.before()
                wall, cpu = clock(case.fn)
                if index > 0:
                    walls[case.key].append(wall)
                    cpus[case.key].append(cpu)
    finally:
        gc.unfreeze()
    return {k: Measured(Timing(tuple(walls[k])), Timing(tuple(cpus[k]))) for k in walls}


def expect_clean(label: str, report: Report) -> Report:
    """Refuse to time a validation that finds errors: the generated registry must be valid."""
    if report.errors:
        print(f"\nFAILED: {label} reported {len(report.errors)} error(s) on a registry meant to be clean:")
        for finding in report.errors[:20]:
            print(f"  {finding}")
    assert not report.errors, f"{label}: the generated registry does not validate cleanly"
    return report


# --- a) and b): full validation against the parse baseline ------------------------------------------------


def full_validation(root: Path, ref: str | None) -> Report:
    return validate_registry(Registry.open(root, ref=ref))


def read_and_load(root: Path, paths: list[str]) -> None:
    for rel in paths:
        yaml.load((root / rel).read_bytes(), Loader=yaml.CSafeLoader)


def load_only(texts: list[bytes]) -> None:
    for data in texts:
        yaml.load(data, Loader=yaml.CSafeLoader)


def gitreg_load(paths: list[str], texts: list[bytes]) -> list[yamlio.Document]:
    return [yamlio.load(data, path) for path, data in zip(paths, texts, strict=True)]


def kind_of(path: str) -> type[RegistryConfig | ModelInfo | ModelVersion | StageFile]:
    if path == "registry.yaml":
        return RegistryConfig
    if path.startswith("stages/"):
        return StageFile
    return ModelInfo if path.endswith("/model.yaml") else ModelVersion


def schema_check(docs: list[yamlio.Document]) -> None:
    for doc in docs:
        manifest.parse(kind_of(doc.path), doc)


#: The credential patterns as one alternation, as gitreg's credential rule runs them.
_ANY_CREDENTIAL = re.compile(
    "|".join(f"(?P<c{i}>{p.pattern})" for i, (_, p) in enumerate(CREDENTIAL_PATTERNS))
)


def credential_scan(texts: list[bytes]) -> None:
    for data in texts:
        for _match in _ANY_CREDENTIAL.finditer(data.decode("utf-8", errors="replace")):
            pass


def credential_scan_separately(texts: list[bytes]) -> None:
    """The same patterns, one pass each (what gitreg did before it joined them into one alternation)."""
    for data in texts:
        text = data.decode("utf-8", errors="replace")
        for _what, pattern in CREDENTIAL_PATTERNS:
            for _match in pattern.finditer(text):
                pass


def memory_validation(files: dict[str, bytes]) -> Report:
    """Every rule over the same files held in memory: parsing and rules without any I/O."""
    return validate(View(MemorySnapshot(files)))


def commit_reads(root: Path, paths: list[str]) -> None:
    repo = GitRepo.open(root)
    snapshot = CommitSnapshot(repo, repo.rev_parse("HEAD") or "HEAD")
    for path in paths:
        snapshot.read(path)


BASELINE = "baseline: read + yaml.load(CSafeLoader) each file"
WORKTREE = "validate_registry(Registry.open(root))"
COMMIT = "validate_registry(Registry.open(root, ref='HEAD'))"


@dataclass
class FullResult:
    size: int
    parsed: int
    findings: str
    rows: dict[str, Measured]

    def ratio(self, key: str, kind: str = "wall") -> float:
        mine, base = self.rows[key], self.rows[BASELINE]
        return mine.cpu.best / base.cpu.best if kind == "cpu" else mine.wall.best / base.wall.best


def measure_full(reg: Generated, repeat: int) -> FullResult:
    root, paths = reg.root, reg.parsed_files
    report = expect_clean("full validation (working tree)", full_validation(root, None))
    expect_clean("full validation (HEAD)", full_validation(root, "HEAD"))
    findings = f"{len(report.errors)} errors, {len(report.warnings)} warnings, {report.files_checked} files"
    texts = [(root / p).read_bytes() for p in paths]
    docs = gitreg_load(paths, texts)
    tracked = [p for p in git(root, "ls-files", "-z").split("\0") if p]
    in_memory = {p: (root / p).read_bytes() for p in tracked}
    expect_clean("validation in memory", memory_validation(in_memory))
    cases = [
        Case(BASELINE, partial(read_and_load, root, paths)),
        Case("baseline: yaml.load(CSafeLoader), bytes in memory", partial(load_only, texts)),
        Case(WORKTREE, partial(full_validation, root, None)),
        Case(COMMIT, partial(full_validation, root, "HEAD")),
        Case("  part: validate(View(MemorySnapshot(files))): no I/O", partial(memory_validation, in_memory)),
        Case("  part: gitreg yamlio.load, bytes in memory", partial(gitreg_load, paths, texts)),
        Case("  part: manifest.parse (pydantic) of loaded docs", partial(schema_check, docs)),
        Case("  part: credential patterns as one alternation", partial(credential_scan, texts)),
        Case(
            "  part: credential patterns one pass each (reference)",
            partial(credential_scan_separately, texts),
        ),
        Case("  part: CommitSnapshot.read of each file at HEAD", partial(commit_reads, root, paths)),
        Case("  part: git ls-files (worktree file list)", partial(git, root, "ls-files", "-z")),
        Case(
            "  part: git ls-tree -r -l HEAD (commit listing)",
            partial(git, root, "ls-tree", "-r", "-l", "HEAD"),
        ),
    ]
    return FullResult(reg.size, len(paths), findings, rounds(cases, repeat))


# --- c): --base validation of one-file changes ------------------------------------------------------------


FORMS = {"working tree": None, "commit": "HEAD"}

#: The git commands a --base run makes (GIT_TRACE shows them), timed alone on the promote-production branch.
_GIT_PARTS: dict[str, tuple[str, ...]] = {
    "git rev-parse --verify main": ("rev-parse", "--verify", "--quiet", "main^{commit}"),
    "git merge-base main HEAD": ("merge-base", "main", "HEAD"),
    "git diff --name-status main (working tree)": ("diff", "--name-status", "-z", "--no-renames", "main"),
    "git ls-files --others --exclude-standard (working tree)": (
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
    ),
    "git diff --name-status main HEAD (commit)": (
        "diff",
        "--name-status",
        "-z",
        "--no-renames",
        "main",
        "HEAD",
    ),
}


def based_validation(root: Path, ref: str | None) -> Report:
    return validate_registry(Registry.open(root, ref=ref), base_ref="main")


def checkout(root: Path, branch: str) -> None:
    git(root, "checkout", "--quiet", branch)


def base_key(size: int, branch: str, form: str) -> str:
    return f"{size}|{branch}|{form}"


def measure_base(regs: list[Generated], repeat: int) -> dict[str, Measured]:
    """Every scenario at every size, in both forms, interleaved across sizes in each round."""
    cases = []
    for reg in regs:
        for scenario in reg.scenarios:
            switch = partial(checkout, reg.root, scenario.branch)
            switch()
            for form, ref in FORMS.items():
                report = based_validation(reg.root, ref)
                expect_clean(f"--base main, N={reg.size}, {scenario.branch}, {form}", report)
                if report.files_checked != 1:
                    raise SystemExit(f"error: {scenario.branch} checked {report.files_checked} files, not 1")
                key = base_key(reg.size, scenario.branch, form)
                cases.append(Case(key, partial(based_validation, reg.root, ref), switch))
        switch = partial(checkout, reg.root, "promote-production")
        for label, argv in _GIT_PARTS.items():
            cases.append(Case(base_key(reg.size, label, ""), partial(git, reg.root, *argv), switch))
    try:
        return rounds(cases, repeat)
    finally:
        for reg in regs:
            checkout(reg.root, "main")


# --- d): the CLI -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliRun:
    size: int
    command: str
    seconds: float
    exit_code: int
    last_line: str
    output: str = ""  # the whole output, kept when the command failed


def cli_runs(reg: Generated, branch: str) -> list[CliRun]:
    """Each command once, as a user or CI would run it (a new interpreter each time)."""
    exe = gitreg_executable()
    root = str(reg.root)
    commands: list[tuple[str, list[str], str]] = [
        ("gitreg --version (start-up only)", [exe, "--version"], "main"),
        ("gitreg -C root validate", [exe, "-C", root, "validate"], "main"),
        (
            f"gitreg -C root validate --base main  (on {branch})",
            [exe, "-C", root, "validate", "--base", "main"],
            branch,
        ),
    ]
    runs = []
    for label, argv, branch_to_check_out in commands:
        checkout(reg.root, branch_to_check_out)
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False)
        seconds = time.perf_counter() - start
        output = (done.stdout + done.stderr).decode(errors="replace").strip().splitlines()
        full_output = "\n".join(output) if done.returncode != 0 else ""
        runs.append(
            CliRun(reg.size, label, seconds, done.returncode, output[-1] if output else "", full_output)
        )
    checkout(reg.root, "main")
    return runs


# --- call counts: what work grows with the registry (independent of the machine's load) -------------------

#: (file name, function names) in cProfile's statistics -> what the count means.
_COUNTED: list[tuple[str, frozenset[str], str]] = [
    ("", frozenset(), "Python function calls in total"),
    ("snapshot.py", frozenset({"read"}), "Snapshot.read (file reads)"),
    ("snapshot.py", frozenset({"size"}), "Snapshot.size (stat or tree lookups)"),
    ("yamlio.py", frozenset({"load"}), "yamlio.load (YAML documents parsed)"),
    ("yamlio.py", frozenset({"_check", "build"}), "yamlio nodes walked (_check / build)"),
    ("constructor.py", frozenset({"construct_object"}), "PyYAML construct_object calls"),
    ("resolver.py", frozenset({"resolve"}), "PyYAML Resolver.resolve (scalars resolved)"),
    ("files.py", frozenset({"_credentials"}), "credential scans (files)"),
    ("subprocess.py", frozenset({"_execute_child"}), "processes started (git)"),
    ("cmd.py", frozenset({"__get_object_header"}), "git cat-file requests (GitPython)"),
]


def call_counts(fn: Callable[[], object]) -> dict[str, int]:
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    counts = {}
    for filename, functions, meaning in _COUNTED:
        if not filename:
            counts[meaning] = int(stats.total_calls)  # type: ignore[attr-defined]
            continue
        counts[meaning] = sum(
            v[1]
            for (path, _line, name), v in raw.items()
            if Path(path).name == filename and name in functions
        )
    return counts


def counts_table(columns: dict[str, dict[str, int]]) -> str:
    rows = [[meaning, *(f"{c[meaning]:,}" for c in columns.values())] for _f, _n, meaning in _COUNTED]
    return table(["calls during one run", *columns], rows, right=tuple(range(1, len(columns) + 1)))


# --- report ----------------------------------------------------------------------------------------------


def cell(timing: Timing) -> str:
    return f"{ms(timing.median)} ({ms(timing.best)})"


def ratio_text(mine: Measured, reference: Measured) -> str:
    return f"{mine.wall.best / reference.wall.best:.2f}x, {mine.cpu.best / reference.cpu.best:.2f}x"


def full_table(results: list[FullResult]) -> str:
    rows = []
    for result in results:
        base = result.rows[BASELINE]
        for label, m in result.rows.items():
            rows.append(
                [
                    f"{result.size:,}",
                    label,
                    ms(m.wall.best),
                    ms(m.wall.median),
                    ms(m.cpu.best),
                    ms(m.cpu.median),
                    ratio_text(m, base),
                ]
            )
    headers = [
        "versions",
        "what",
        "wall best",
        "wall median",
        "CPU best",
        "CPU median",
        "/ baseline: wall, CPU",
    ]
    return table(headers, rows, right=(0, 2, 3, 4, 5, 6))


def base_table(
    measured: dict[str, Measured], sizes: list[int], kind: str
) -> tuple[str, dict[tuple[str, str], float]]:
    """Scenarios x sizes (median (best) ms of ``kind``: wall or cpu), and each row's growth from the
    smallest size to the largest (best / best)."""

    def pick(m: Measured) -> Timing:
        return m.cpu if kind == "cpu" else m.wall

    rows, growth = [], {}
    for branch, label in _LABELS.items():
        for form in FORMS:
            timings = [pick(measured[base_key(s, branch, form)]) for s in sizes]
            growth[(branch, form)] = timings[-1].best / timings[0].best
            ratio = (
                f"{timings[-1].best / timings[0].best:.2f}x, {timings[-1].median / timings[0].median:.2f}x"
            )
            rows.append([label, form, *(cell(t) for t in timings), ratio])
    for label in _GIT_PARTS:
        timings = [pick(measured[base_key(s, label, "")]) for s in sizes]
        ratio = f"{timings[-1].best / timings[0].best:.2f}x, {timings[-1].median / timings[0].median:.2f}x"
        rows.append([f"  part: {label}", "", *(cell(t) for t in timings), ratio])
    headers = [
        "one-file change",
        "validated",
        *(f"N={s:,}" for s in sizes),
        f"{sizes[-1]:,} / {sizes[0]:,}: best, median",
    ]
    return table(headers, rows, right=tuple(range(2, len(headers)))), growth


def cli_table(runs: list[CliRun]) -> str:
    rows = [[f"{r.size:,}", r.command, f"{r.seconds:.2f}", str(r.exit_code), r.last_line[:60]] for r in runs]
    return table(["versions", "command", "seconds", "exit", "last line of output"], rows, right=(0, 2, 3))


@dataclass
class Results:
    full: list[FullResult] = field(default_factory=list)
    base: dict[str, Measured] = field(default_factory=dict)
    cli: list[CliRun] = field(default_factory=list)
    counts: list[tuple[str, dict[str, dict[str, int]]]] = field(default_factory=list)
    profiles: list[tuple[str, str]] = field(default_factory=list)


def print_full(args: argparse.Namespace, full: list[FullResult]) -> None:
    print("\na) + b) full validation, against parsing the same files with PyYAML's C loader (ms)")
    print(
        "   baseline = read + yaml.load(CSafeLoader) of every file gitreg parses (registry.yaml, model.yaml,"
    )
    print("   version and stage files); 'part' rows time one ingredient of validation alone, for comparison;")
    print("   CPU = this process + the git processes it waited for; ratios compare best runs\n")
    print(full_table(full))
    print()
    for result in full:
        for form, key in (("working tree", WORKTREE), ("HEAD commit", COMMIT)):
            wall, cpu = result.ratio(key), result.ratio(key, "cpu")
            verdict = "ok" if min(wall, cpu) <= args.ratio_limit else f"OVER {args.ratio_limit:g}x"
            print(
                f"N={result.size:,}: full validation of the {form} = {wall:.2f}x the parse baseline in wall "
                f"time, {cpu:.2f}x in CPU time: {verdict}"
            )


def print_results(args: argparse.Namespace, results: Results) -> None:
    if results.full:
        print_full(args, results.full)
    if results.base:
        sizes = sorted(args.base_sizes)
        growth: dict[str, dict[tuple[str, str], float]] = {}
        for kind, title in (("wall", "wall-clock"), ("cpu", "CPU")):
            print(f"\nc) --base main, one-file change committed on a branch: {title} ms, median (best)\n")
            text, growth[kind] = base_table(results.base, sizes, kind)
            print(text)
        print()
        for kind, by_row in growth.items():
            worst = max(by_row, key=lambda k: by_row[k])
            verdict = "stays flat" if by_row[worst] <= args.flat_limit else "DOES NOT STAY FLAT"
            print(
                f"--base, {kind} time, from {sizes[0]:,} to {sizes[-1]:,} versions: {verdict} "
                f"(limit {args.flat_limit:g}x; worst: {_LABELS[worst[0]]}, {worst[1]}: {by_row[worst]:.2f}x)"
            )
    if results.cli:
        print("\nd) the CLI as a subprocess, each command once (interpreter start-up included)\n")
        print(cli_table(results.cli))
        for failed in (r for r in results.cli if r.exit_code != 0):
            print(f"\nN={failed.size:,} {failed.command} exited {failed.exit_code}:\n{failed.output}")
    for title, columns in results.counts:
        print(f"\n{title}\n")
        print(counts_table(columns))
    for title, text in results.profiles:
        print(f"\nprofile: {title}\n{text}")


# --- the run ---------------------------------------------------------------------------------------------


#: gitreg's modules on the validation path: a change to any of them during the run spoils the figures.
_VALIDATION_SOURCES = (
    "errors.py",
    "gitrepo.py",
    "manifest.py",
    "registry.py",
    "snapshot.py",
    "yamlio.py",
    "cli/validate.py",
    "validate/*.py",
)


def source_digest() -> str:
    """A digest of gitreg's validation-path sources, to tell whether they changed while the benchmark ran
    (the figures would then mix two versions: what was imported, and what the CLI subprocesses ran)."""
    package = Path(gitreg.__file__).resolve().parent
    digest = hashlib.sha256()
    for pattern in _VALIDATION_SOURCES:
        for path in sorted(package.glob(pattern)):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def run(args: argparse.Namespace, work: Path) -> int:
    full_sizes: list[int] = args.sizes
    base_sizes: list[int] = args.base_sizes
    print(f"validate scale: full validation at {full_sizes}, --base at {base_sizes} versions")
    print(environment_summary(work))
    print(
        f"{args.repeat} timed rounds after 1 untimed round; every validation timed was first checked to "
        "report 0 errors\n"
    )
    regs: dict[int, Generated] = {}
    for size in sorted(set(full_sizes) | set(base_sizes)):
        seconds, reg = timed(
            partial(generate, work / f"registry-{size}", work / "blobs", size, args.versions)
        )
        regs[size] = reg
        print(
            f"N={size:,}: generated {len(reg.models)} models x {reg.versions} versions, "
            f"{reg.tracked_files} tracked files ({len(reg.parsed_files)} parsed by gitreg) and 3 one-file "
            f"branches in {seconds:.1f} s (not measured)"
        )
    sources = source_digest()
    results = Results()
    for size in full_sizes:
        result = measure_full(regs[size], args.repeat)
        print(f"N={size:,}: full validation report: {result.findings}")
        results.full.append(result)
    base_regs = [regs[s] for s in base_sizes]
    if base_regs:
        results.base = measure_base(base_regs, args.repeat)
    if not args.no_cli:
        for size in sorted(regs):
            results.cli += cli_runs(regs[size], "promote-production")
    explain(args, regs, results)
    print_results(args, results)
    if source_digest() != sources:
        print("\nWARNING: gitreg's validation code changed while this ran; the figures mix two versions.")
        return 1
    print(f"\ngitreg's validation code did not change during the run (digest {sources})")
    return 0


def explain(args: argparse.Namespace, regs: dict[int, Generated], results: Results) -> None:
    """Call counts always; cProfile profiles of the cases over their limit (of every case with --profile)."""
    if results.full:
        columns = {}
        for result in results.full:
            root = regs[result.size].root
            columns[f"worktree N={result.size:,}"] = call_counts(partial(full_validation, root, None))
            columns[f"HEAD N={result.size:,}"] = call_counts(partial(full_validation, root, "HEAD"))
        results.counts.append(("call counts, full validation (cProfile, one run each)", columns))
        for result in results.full:
            for form, key, ref in (("working tree", WORKTREE, None), ("HEAD commit", COMMIT, "HEAD")):
                ratio = min(result.ratio(key), result.ratio(key, "cpu"))
                if args.profile or ratio > args.ratio_limit:
                    title = f"full validation of the {form}, N={result.size:,} ({ratio:.1f}x the baseline)"
                    fn = partial(full_validation, regs[result.size].root, ref)
                    results.profiles.append((title, profile(fn, args.profile_top)))
    if results.base:
        explain_base(args, regs, results)


def explain_base(args: argparse.Namespace, regs: dict[int, Generated], results: Results) -> None:
    sizes = sorted(args.base_sizes)
    for branch, label in _LABELS.items():
        columns = {}
        for form, ref in FORMS.items():
            for size in sizes:
                checkout(regs[size].root, branch)
                columns[f"{form} N={size:,}"] = call_counts(partial(based_validation, regs[size].root, ref))
                checkout(regs[size].root, "main")
        results.counts.append((f"call counts, --base main, {label} (cProfile, one run each)", columns))
    largest, smallest = sizes[-1], sizes[0]
    for branch, label in _LABELS.items():
        for form, ref in FORMS.items():
            now = results.base[base_key(largest, branch, form)]
            then = results.base[base_key(smallest, branch, form)]
            growth = min(now.wall.best / then.wall.best, now.cpu.best / then.cpu.best)
            if not (args.profile or growth > args.flat_limit):
                continue
            for size in (smallest, largest):
                checkout(regs[size].root, branch)
                try:
                    text = profile(partial(based_validation, regs[size].root, ref), args.profile_top)
                finally:
                    checkout(regs[size].root, "main")
                title = (
                    f"--base main, {label}, {form}, N={size:,} "
                    f"(growth {smallest:,} -> {largest:,}: {growth:.1f}x)"
                )
                results.profiles.append((title, text))


def sizes_option(text: str) -> list[int]:
    try:
        values = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive numbers")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=sizes_option, default=[1000, 10000], help="versions, full validation (1000,10000)"
    )
    parser.add_argument(
        "--base-sizes",
        type=sizes_option,
        default=[100, 1000, 10000],
        help="versions, --base validation of one-file changes (100,1000,10000); two or more",
    )
    parser.add_argument("--versions", type=int, default=10, help="versions of each model (10)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (5)")
    parser.add_argument(
        "--ratio-limit",
        type=float,
        default=3.0,
        help="full validation / baseline (best runs) over which it is profiled (3)",
    )
    parser.add_argument(
        "--flat-limit",
        type=float,
        default=2.0,
        help="--base growth from the smallest size to the largest over which it is profiled (2)",
    )
    parser.add_argument("--profile", action="store_true", help="profile every case, slow or not")
    parser.add_argument("--profile-top", type=int, default=25, help="rows of each profile (25)")
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess runs")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work folder (system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if args.versions < 1 or args.repeat < 1:
        parser.error("--versions and --repeat must be at least 1")
    if len(args.base_sizes) == 1:
        parser.error("--base-sizes needs two sizes or more, to compare them")
    if not getattr(yaml, "__with_libyaml__", False):
        parser.error("PyYAML was built without libyaml: the C-loader baseline cannot run")
    with work_folder(args.workdir, args.keep) as work:
        isolate_env(work)
        return run(args, work)


if __name__ == "__main__":
    sys.exit(main())
