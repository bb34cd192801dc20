"""A small, realistic registry for the catalog's tests and screenshots: a few models with several versions,
metrics that move, a folder artifact, promotions merged as pull requests (and one pushed directly, which
the audit flags), and a model whose name-adjacent texts are hostile (``<script>``, quotes, unicode)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from testing import git, run

#: Shown on every page that names the model: must come out as text, never as markup.
HOSTILE_DESCRIPTION = (
    """<script>window.__pwned = 1</script> "double" 'single' & ünïcødé ✓ <img src=x onerror=alert(1)>"""
)
HOSTILE_MODEL = "xss-probe"


@dataclass(frozen=True)
class Demo:
    registry: Path
    blobs: Path
    models: dict[str, int]  # model -> number of versions
    status: Path | None = None  # a controller's status.json, when built with one


def _ok(*args: str | Path, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def _artifact(root: Path, name: str, seed: str, folder: bool = False) -> Path:
    path = root / "artifacts" / seed / name
    if folder:
        path.mkdir(parents=True, exist_ok=True)
        (path / "config.json").write_text(f'{{"seed": "{seed}"}}\n')
        (path / "weights.bin").write_bytes(seed.encode() * 64)
        (path / "tokenizer").mkdir(exist_ok=True)
        (path / "tokenizer" / "vocab.txt").write_text("a\nb\nc\n" + seed)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(seed.encode() * 32)
    return path


def _register(
    reg: Path, root: Path, model: str, version: int, metrics: dict[str, float], **extra: str
) -> None:
    folder = extra.pop("folder", "") == "yes"
    name = extra.pop("name", "model.onnx")
    args: list[str | Path] = ["register", model, _artifact(root, name, f"{model}-{version}", folder)]
    for key, value in metrics.items():
        args += ["--metric", f"{key}={value}"]
    args += ["--code-repo", "https://git.example.com/ml/train", "--code-commit", f"{version:07x}abcdef"]
    if version > 1:
        args += ["--parent", str(version - 1)]
    for option, text in extra.items():
        args += [f"--{option.replace('_', '-')}", text]
    _ok(*args, cwd=reg)


def _promote(reg: Path, ref: str, stage: str, number: int | None) -> None:
    """Promote through a branch merged as a pull request (``number``) or pushed straight onto main."""
    _ok("promote", ref, "--to", stage, cwd=reg)
    branch = git(reg, "branch", "--list", "gitreg/promote/*", "--format=%(refname:short)").split()[-1]
    if number is None:
        git(reg, "merge", "--quiet", "--ff-only", branch)
    else:
        git(
            reg, "merge", "--quiet", "--no-ff", branch, "-m", f"Merge pull request #{number} from ml/{branch}"
        )
    git(reg, "branch", "--quiet", "-D", branch)


def build_demo(root: Path, hostile: bool = True) -> Demo:
    """The demo registry in ``root/registry``, its blob store in ``root/blobs``."""
    reg, blobs = root / "registry", root / "blobs"
    _ok("init", reg, "--storage", blobs.as_uri(), cwd=root)
    fraud = [(0.912, 0.781), (0.918, 0.790), (0.925, 0.802), (0.921, 0.799), (0.934, 0.815), (0.941, 0.822)]
    for i, (auc, f1) in enumerate(fraud, 1):
        _register(
            reg,
            root,
            "fraud-detector",
            i,
            {"auc": auc, "f1": f1, "latency_ms": 12 - i * 0.7},
            description=f"Retrained on {2026}-{i + 5:02d} card transactions",
            framework="sklearn==1.5.2",
            data=f"s3://datasets/fraud/2026-{i + 5:02d}",
            run_id=f"run-{8800 + i}",
        )
    for i, auc in enumerate([0.801, 0.823, 0.847, 0.839], 1):
        _register(
            reg,
            root,
            "churn",
            i,
            {"auc": auc, "recall": 0.6 + i / 50},
            description=f"Churn model, feature set {i}",
            framework="xgboost==2.1.0",
            folder="yes",
            name="churn",
        )
    for i, ndcg in enumerate([0.412, 0.436, 0.455], 1):
        _register(
            reg,
            root,
            "recommender",
            i,
            {"ndcg@10": ndcg},
            description="Two-tower retrieval",
            framework="pytorch==2.5.1",
            format="safetensors",
            name="model.safetensors",
        )
    models = {"fraud-detector": 6, "churn": 4, "recommender": 3}
    if hostile:
        _register(reg, root, HOSTILE_MODEL, 1, {"auc": 0.5}, description=HOSTILE_DESCRIPTION)
        models[HOSTILE_MODEL] = 1
    _edit_model(
        reg, "fraud-detector", "Card-not-present fraud scoring", ["@risk-ml", "@alice"], {"team": "risk"}
    )
    _edit_model(reg, "churn", "Monthly churn propensity per subscriber", ["@growth-ds"], {"team": "growth"})
    _edit_model(reg, "recommender", "Home-feed candidate retrieval", ["@reco"], {"team": "discovery"})
    if hostile:
        _edit_model(reg, HOSTILE_MODEL, HOSTILE_DESCRIPTION, ['@"quoted"'], {"note": "<b>bold?</b>"})
    git(reg, "add", "--all")
    git(reg, "commit", "--quiet", "-m", "Describe the models")
    pr = iter(range(11, 100))
    _promote(reg, "fraud-detector@3", "staging", next(pr))
    _promote(reg, "fraud-detector@3", "production", next(pr))
    _promote(reg, "fraud-detector@5", "staging", next(pr))
    _promote(reg, "fraud-detector@5", "production", next(pr))
    _promote(reg, "fraud-detector@6", "staging", None)  # pushed straight to main: the audit flags it
    _promote(reg, "churn@3", "staging", next(pr))
    _promote(reg, "churn@3", "production", next(pr))
    _promote(reg, "recommender@3", "staging", next(pr))
    return Demo(reg, blobs, models)


def _edit_model(reg: Path, model: str, description: str, owners: list[str], tags: dict[str, str]) -> None:
    import json  # noqa: PLC0415 - JSON is YAML: the simplest way to quote hostile text

    path = reg / "models" / model / "model.yaml"
    text = (
        f"apiVersion: gitreg/v1\nkind: Model\nname: {model}\n"
        f"description: {json.dumps(description)}\nowners: {json.dumps(owners)}\ntags: {json.dumps(tags)}\n"
    )
    path.write_text(text, encoding="utf-8")


def deploy(demo: Demo, target: Path) -> Path:
    """Run a real controller once for production into ``target``; its status.json."""
    _ok(
        "controller",
        "--repo",
        demo.registry.as_uri(),
        "--stage",
        "production",
        "--target",
        target,
        "--once",
        cwd=demo.registry,
    )
    return target / ".gitreg" / "status.json"
