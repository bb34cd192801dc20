"""Helpers shared by the benchmark scripts: an isolated git/XDG environment, a temporary work folder that
is removed afterwards, timing and plain-text tables, and the manifests of synthetic registries. Benchmarks
print figures; they assert nothing."""

from __future__ import annotations

import cProfile
import hashlib
import io
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from gitreg.registry import model_path, stage_path, version_path

REPO_ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
T = TypeVar("T")

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


@contextmanager
def work_folder(parent: Path | None, keep: bool = False) -> Iterator[Path]:
    """A new folder under ``parent`` (default: the system temp folder), removed on exit unless ``keep``.

    Refuses a parent inside this checkout: benchmark data never lands in the repository."""
    if parent is not None:
        resolved = parent.resolve()
        if resolved == REPO_ROOT or REPO_ROOT in resolved.parents:
            raise SystemExit(
                f"error: --workdir {parent} is inside the gitreg checkout; choose another folder"
            )
        resolved.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="gitreg-bench-", dir=parent))
    try:
        yield folder
    finally:
        if keep:
            print(f"\nkept the work folder: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def isolate_env(work: Path) -> None:
    """Point git and gitreg at files inside ``work`` only: a private global gitconfig with an identity, no
    system config, private XDG data and cache folders. Child processes inherit all of it."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Bench User\n\temail = bench@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n"
        "[gc]\n\tauto = 0\n"
    )
    os.environ["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    for name in _LEAKY_ENV:
        os.environ.pop(name, None)


def gitreg_executable() -> str:
    """The ``gitreg`` console script of the interpreter running the benchmark (the project's venv)."""
    beside = Path(sys.executable).parent / "gitreg"
    if beside.exists():
        return str(beside)
    found = shutil.which("gitreg")
    if found is None:
        raise SystemExit("error: no gitreg executable next to this Python or on PATH; install gitreg first")
    return found


def run_quiet(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command with its output captured; raise with its stderr if it fails."""
    done = subprocess.run(list(argv), cwd=cwd, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.decode(errors='replace')}"
        )
    return done


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one operation, in seconds."""

    samples: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def measure(fn: Callable[[], object], repeat: int, warmup: int = 1) -> Timing:
    """Time ``fn`` ``repeat`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(tuple(samples))


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds one call of ``fn`` takes, what it returned)."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A plain-text table; columns whose index is in ``right`` are right-aligned."""
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def environment_summary(work: Path) -> str:
    """One paragraph about where the figures come from."""
    git_version = run_quiet(["git", "--version"]).stdout.decode().strip()
    fs = _filesystem_of(work)
    return (
        f"gitreg {gitreg_revision()}; python {platform.python_version()} ({sys.executable}), "
        f"{git_version}\n{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, {load_average()}\n"
        f"work folder: {work} (filesystem: {fs})"
    )


def gitreg_revision() -> str:
    """The checkout's commit, and whether gitreg/ has uncommitted changes (the figures are of those)."""
    git = ["git", "-C", str(REPO_ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "(not a git checkout)"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "gitreg"], capture_output=True, text=True, check=False
    )
    changed = len(dirty.stdout.splitlines())
    return f"at {head.stdout.strip()}" + (f" + {changed} uncommitted file(s) in gitreg/" if changed else "")


def load_average() -> str:
    """The 1/5/15-minute load average: other work on the machine skews wall-clock figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _filesystem_of(path: Path) -> str:
    done = subprocess.run(
        ["df", "--output=fstype,source", str(path)], capture_output=True, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    return " ".join(lines[-1].split()) if done.returncode == 0 and len(lines) > 1 else "unknown"


def profile(fn: Callable[[], object], top: int) -> str:
    """cProfile of one call: the ``top`` functions by cumulative time, then by own time."""
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    parts = []
    for key, title in (("cumulative", "by cumulative time"), ("tottime", "by own time")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats(key).print_stats(top)
        lines = out.getvalue().splitlines()
        head = next(ln.strip() for ln in lines if "function calls" in ln)
        body = lines[next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")) :]
        parts.append(f"  [{title}; {head}]\n" + "\n".join(ln for ln in body if ln.strip()))
    return "\n".join(parts)


# --- synthetic registries --------------------------------------------------------------------------------

_VERSION_TEMPLATE = """\
apiVersion: gitreg/v1
kind: ModelVersion
model: {model}
version: {version}
artifact:
  digest: sha256:{digest}
  size: {size}
  type: file
  name: model.onnx
  format: onnx
{framework}metrics:
  auc: {auc:.4f}
  f1: {f1:.4f}
{params}lineage:
  code:
    repo: https://git.example.com/ml/train
    commit: {commit}
    path: train.py
{parent}description: Version {version} of {model}
created_at: "2026-{month:02d}-{day:02d}T10:00:00Z"
created_by: Bench User <bench@example.com>
status: active
"""

_VERSION_FRAMEWORK = 'framework:\n  name: sklearn\n  version: "1.5.2"\n'
_VERSION_PARAMS = "params:\n  max_depth: 8\n  learning_rate: 0.1\n"

_MODEL_TEMPLATE = """\
apiVersion: gitreg/v1
kind: Model
name: {model}
description: Benchmark model number {index}
owners: ["@ml-team"]
"""

_MODEL_TAGS = "tags:\n  team: bench\n"


def model_names(count: int, width: int = 4) -> list[str]:
    """``count`` names model-0000, model-0001, ...: zero-padded to at least ``width`` digits, so that they
    sort in the order they are numbered."""
    width = max(width, len(str(count - 1)))
    return [f"model-{i:0{width}d}" for i in range(count)]


def version_manifest(model: str, version: int, *, index: int, lean: bool = False, month: int = 11) -> str:
    """A valid ModelVersion manifest of ``model`` (the ``index``-th model) at ``version``: a digest and
    lineage commit derived from the name, metrics that meet ``auc >= 0.5``, a description and created_at in
    ``month`` of 2026 (what a production policy asks for). ``lean`` leaves out framework, params and
    lineage.parent."""
    seed = hashlib.sha256(f"{model}@{version}".encode()).hexdigest()
    return _VERSION_TEMPLATE.format(
        model=model,
        version=version,
        digest=seed,
        size=1_000_000 + index * 1000 + version,
        framework="" if lean else _VERSION_FRAMEWORK,
        auc=0.80 + (version % 10) / 100,
        f1=0.70 + (index % 10) / 100,
        params="" if lean else _VERSION_PARAMS,
        commit=seed[:40],
        parent=f"  parent: {version - 1}\n" if version > 1 and not lean else "",
        month=month,
        day=1 + version % 28,
    )


def model_manifest(
    model: str, index: int, *, lean: bool = False, production_metrics: Mapping[str, str] | None = None
) -> str:
    """The model.yaml of ``model`` (the ``index``-th model): owners, tags unless ``lean``, and with
    ``production_metrics`` (e.g. ``{"auc": ">= 0.5"}``) a production policy on those metrics."""
    text = _MODEL_TEMPLATE.format(model=model, index=index) + ("" if lean else _MODEL_TAGS)
    if production_metrics:
        text += "policy:\n  production:\n    metrics:\n"
        text += "".join(f'      {name}: "{rule}"\n' for name, rule in production_metrics.items())
    return text


def stage_manifest(entries: Mapping[str, int]) -> str:
    """A stage file: ``model: version`` lines, sorted by model."""
    return "".join(f"{model}: {number}\n" for model, number in sorted(entries.items()))


def registry_files(
    models: Sequence[str],
    versions: int,
    *,
    stages: Mapping[str, Mapping[str, int]] | None = None,
    lean: bool = False,
    month: int = 11,
    production_metrics: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """{relative path: text} of a synthetic registry's own files: a model.yaml and versions 1..``versions``
    of each model (see :func:`model_manifest` and :func:`version_manifest`), and a stage file for each of
    ``stages`` ({stage: {model: version}}). registry.yaml and the rest of ``gitreg init`` are not in it."""
    files: dict[str, str] = {}
    for index, model in enumerate(models):
        files[model_path(model)] = model_manifest(
            model, index, lean=lean, production_metrics=production_metrics
        )
        for version in range(1, versions + 1):
            files[version_path(model, version)] = version_manifest(
                model, version, index=index, lean=lean, month=month
            )
    for stage, entries in (stages or {}).items():
        files[stage_path(stage)] = stage_manifest(entries)
    return files


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write {relative path: content} below ``root``, creating folders as needed."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)


def git(root: Path, *args: str) -> str:
    """The output of ``git -C root ARGS``; raises if git fails."""
    return run_quiet(["git", "-C", str(root), *args]).stdout.decode()


def commit_all(root: Path, message: str) -> None:
    """Stage everything in the working tree of ``root`` and commit it, hooks skipped."""
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "--no-verify", "-m", message)
