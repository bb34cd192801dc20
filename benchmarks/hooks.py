"""Claims: a commit with the plain git hook (`gitreg install-hooks`) costs at most 2x a floor hook that makes
the same git calls and loads the changed files with PyYAML, flat from 100 to 10,000 versions; with the
pre-commit framework, gitreg's share (the framework running gitreg's hooks minus the framework running
no-op hooks) stays within 150 ms.

    .venv/bin/python benchmarks/hooks.py --sizes 100,10000 --repeat 7

For each size N, a registry of N/10 models x 10 versions with a staging stage, committed. Each timed case
is one promotion (stages/staging.yaml moves one model between versions 9 and 10), staged untimed, then:
`git commit` with gitreg's plain hook; with the floor hook (python + PyYAML + `git write-tree`, `rev-parse`,
`diff --name-status` against HEAD and `cat-file --batch` of the changed files); with `--no-verify`; and
`pre-commit run` with the hooks the registry template lists (this checkout's) against the same framework
with as many no-op hooks
(`language: system`, `entry: true`). Every hook is first checked to pass."""

from __future__ import annotations

import os
import re
import shutil
import sys
from functools import partial
from pathlib import Path

import yaml
from _harness import REPO_ROOT, Case, measure, parser, ratio, report, run, session

from gitreg.layout import stage_path
from testing.synthetic import make_registry, model_names, registry_files

FLOOR_HOOK = """#!/bin/sh
exec "{python}" -c '
import subprocess, yaml
def git(*a, input=None):
    return subprocess.run(["git", *a], input=input, capture_output=True, check=True).stdout
tree = git("write-tree").strip()
head = git("rev-parse", "--verify", "-q", "HEAD").strip()
out = git("diff", "--name-status", "-z", "--no-renames", head, tree).split(b"\\0")
paths = [p for p in out[1::2] if p]
blobs = git("cat-file", "--batch", input=b"".join(tree + b":" + p + b"\\n" for p in paths)) if paths else b""
if paths: yaml.load(blobs.split(b"\\n", 1)[1].rsplit(b"\\n", 1)[0], Loader=yaml.CSafeLoader)
'
"""


def generate(root: Path, size: int) -> None:
    models = model_names(max(1, size // 10))
    files = registry_files(models, 10, stages={"staging": dict.fromkeys(models[::2], 10)})
    make_registry(root, root.with_name(f"blobs-{size}"), files)


def promote(root: Path) -> None:
    """Stage one promotion: the first model in staging moves between versions 10 and 9."""
    path = root / stage_path("staging")
    entries = yaml.safe_load(path.read_text())
    first = next(iter(entries))
    entries[first] = 9 if entries[first] == 10 else 10
    path.write_text("".join(f"{m}: {v}\n" for m, v in entries.items()))
    run("git", "-C", root, "add", stage_path("staging"))


def commit(root: Path, *options: str) -> None:
    run("git", "-C", root, *options, "commit", "--quiet", "-m", "Promote")


def hooks_repo(work: Path) -> Path:
    """This checkout's tracked and untracked files committed to a fresh repository, as pre-commit clones."""
    repo = work / "gitreg-hooks"
    listed = run("git", "-C", REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted({n for n in listed.split("\0") if n}):
        if (REPO_ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, repo / name)
    run("git", "-C", repo, "init", "--quiet")
    run("git", "-C", repo, "add", "--all")
    run("git", "-C", repo, "commit", "--quiet", "-m", "gitreg")
    return repo


def configs(work: Path) -> tuple[Path, Path]:
    """A pre-commit config with the gitreg hooks the registry template lists, and one with as many no-op
    hooks run the same way."""
    repo = hooks_repo(work)
    rev = run("git", "-C", repo, "rev-parse", "HEAD").strip()
    template = (REPO_ROOT / "registry-template" / ".pre-commit-config.yaml.j2").read_text()
    ids = [{"id": hook_id} for hook_id in re.findall(r"- id: (\S+)", template)]
    gitreg = work / "gitreg-config.yaml"
    gitreg.write_text(yaml.safe_dump({"repos": [{"repo": str(repo), "rev": rev, "hooks": ids}]}))
    noop = [
        {"id": f"noop-{n}", "name": f"noop {n}", "entry": "true", "language": "system", "always_run": True}
        for n in range(1, len(ids) + 1)
    ]
    noops = work / "noop-config.yaml"
    noops.write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": noop}]}))
    return gitreg, noops


def main() -> int:
    p = parser(__doc__, repeat=7)
    p.add_argument("--sizes", default="100,10000", help="versions (100,10000)")
    args = p.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    pre_commit = Path(sys.executable).parent / "pre-commit"
    with session(args, f"hooks: a promotion commit at {sizes} versions") as work:
        plain_dir, floor_dir = work / "plain-hooks", work / "floor-hooks"
        floor_dir.mkdir()
        (floor_dir / "pre-commit").write_text(FLOOR_HOOK.format(python=sys.executable))
        (floor_dir / "pre-commit").chmod(0o755)
        gitreg_config, noop_config = configs(work)
        os.environ["PRE_COMMIT_HOME"] = str(work / "pre-commit-home")
        for n in sizes:
            root = work / f"registry-{n}"
            generate(root, n)
            run(sys.executable, "-m", "gitreg", "-C", root, "install-hooks")
            plain_dir.mkdir(exist_ok=True)
            shutil.copy2(root / ".git" / "hooks" / "pre-commit", plain_dir / "pre-commit")
            stage = partial(promote, root)
            framework = [str(pre_commit), "run", "--config"]
            for config in (gitreg_config, noop_config):  # builds the hooks' environment, checks they pass
                run(*framework, config, cwd=root)
            cases = [
                Case(
                    "baseline: floor hook", partial(commit, root, "-c", f"core.hooksPath={floor_dir}"), stage
                ),
                Case("baseline: --no-verify", partial(commit, root, "-c", "core.hooksPath=/dev/null"), stage),
                Case(
                    "plain hook (install-hooks)",
                    partial(commit, root, "-c", f"core.hooksPath={plain_dir}"),
                    stage,
                ),
                Case(
                    "baseline: pre-commit, no-op hooks",
                    partial(run, *framework, noop_config, cwd=root),
                    stage,
                ),
                Case("pre-commit, gitreg's hooks", partial(run, *framework, gitreg_config, cwd=root), stage),
            ]
            print(f"\n{n:,} versions:")
            timings = measure(cases, args.repeat)
            report(timings, ["baseline: floor hook", "baseline: pre-commit, no-op hooks"])
            share = timings[cases[4].label].median - timings[cases[3].label].median
            print(f"gitreg's share under pre-commit: {share * 1000:.0f} ms (median minus the no-op median)")
            print(f"plain hook / floor hook: {ratio(timings, cases[2].label, cases[0].label):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
