"""Commands that change a registry: init, register."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from gitreg import yamlio
from gitreg.cli import cli, output
from gitreg.cli.types import VERSION
from gitreg.errors import ManifestError
from gitreg.ops.register import Registration, register_proposal
from gitreg.registry import Registry


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{option} {item!r}: write KEY=VALUE")
        if key in pairs:
            raise click.UsageError(f"{option} {key!r} is given twice")
        pairs[key] = value
    return pairs


def _metrics(values: tuple[str, ...]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for key, raw in _pairs(values, "--metric").items():
        try:
            number = float(raw)
        except ValueError:
            raise click.UsageError(f"--metric {key}={raw}: a metric is a number") from None
        if not math.isfinite(number):
            raise click.UsageError(f"--metric {key}={raw}: a metric is a finite number")
        metrics[key] = int(number) if raw.strip().lstrip("+-").isdigit() else number
    return metrics


def _params(values: tuple[str, ...]) -> dict[str, Any]:
    """``k=v`` with v read as a YAML scalar (8 -> 8, 0.1 -> 0.1, true -> true, adam -> "adam")."""
    params: dict[str, Any] = {}
    for key, raw in _pairs(values, "--param").items():
        try:
            value = yamlio.load(raw, "--param").data if raw else ""
        except ManifestError:
            value = raw
        params[key] = value if isinstance(value, str | int | float | bool) or value is None else raw
    return params


@cli.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--storage", metavar="URL", help="Blob storage URL or path (default: a folder in your user data dir)."
)
@click.pass_obj
def init_command(cwd: str, directory: Path, storage: str | None) -> int:
    """Create a new registry repository in DIRECTORY (new or empty)."""
    from gitreg.ops.init import init as init_registry  # noqa: PLC0415 - its templates (Jinja2): init's alone

    path, url = init_registry(Path(cwd) / directory, storage)
    click.echo(f"Created registry in {path} (blobs in {url})")
    return 0


@cli.command("register")
@click.argument("model")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--version", "version", type=VERSION, help="Version number (default: highest + 1).")
@click.option("--metric", "metrics", multiple=True, metavar="K=V", help="A metric (a number); repeatable.")
@click.option("--param", "params", multiple=True, metavar="K=V", help="A training parameter; repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="A tag; repeatable.")
@click.option("--description", default="", metavar="TEXT", help="What this version is.")
@click.option(
    "--framework", metavar="NAME[==VER]", help="Framework that produced the model, e.g. sklearn==1.5.2."
)
@click.option("--format", "fmt", metavar="F", help="Artifact format: onnx, safetensors, pickle, ...")
@click.option("--code-repo", metavar="URL", help="Repository of the training code.")
@click.option(
    "--code-commit",
    metavar="SHA",
    help="Commit of the training code (default: HEAD of the repo holding PATH).",
)
@click.option("--code-path", metavar="PATH", help="Training script within the code repository.")
@click.option("--data", multiple=True, metavar="URI[@DIGEST]", help="A training data set; repeatable.")
@click.option("--run-id", metavar="ID", help="Experiment run id.")
@click.option("--run-url", metavar="URL", help="Experiment run URL.")
@click.option("--parent", type=VERSION, metavar="V", help="The version this one was derived from.")
@click.option(
    "--owner", "owners", multiple=True, metavar="HANDLE", help="Owner of a new model (@team); repeatable."
)
@click.option("--push", is_flag=True, help="With --branch NEW: push the branch to origin.")
@click.option("--open-pr", is_flag=True, help="With --branch NEW: push it and open its pull request.")
@click.option(
    "--forge", "forge_name", type=click.Choice(["github", "gitlab"]), help="Forge, if not clear from the URL."
)
@click.option(
    "--branch",
    metavar="NAME",
    help="Commit on this branch (created from HEAD if new) instead of the current one.",
)
@click.option("--message", metavar="M", help="Commit message subject.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def register_command(
    directory: str,
    model: str,
    path: Path,
    version: int | None,
    metrics: tuple[str, ...],
    params: tuple[str, ...],
    tags: tuple[str, ...],
    description: str,
    framework: str | None,
    fmt: str | None,
    code_repo: str | None,
    code_commit: str | None,
    code_path: str | None,
    data: tuple[str, ...],
    run_id: str | None,
    run_url: str | None,
    parent: int | None,
    owners: tuple[str, ...],
    push: bool,
    open_pr: bool,
    forge_name: str | None,
    branch: str | None,
    message: str | None,
    quiet: bool,
) -> int:
    """Store the file or folder at PATH as a new version of MODEL and commit its manifest."""
    registration = Registration(
        model=model,
        path=Path(directory) / path,
        version=version,
        metrics=_metrics(metrics),
        params=_params(params),
        tags=_pairs(tags, "--tag"),
        description=description,
        framework=framework,
        format=fmt,
        code_repo=code_repo,
        code_commit=code_commit,
        code_path=code_path,
        data=list(data),
        run_id=run_id,
        run_url=run_url,
        parent=parent,
        owners=list(owners),
        branch=branch,
        push=push,
        open_pr=open_pr,
        forge=forge_name,
        message=message,
    )
    with output.transfer_progress(quiet):
        result, proposed = register_proposal(Registry.open(directory), registration)
    click.echo(result.ref)
    if proposed is not None and (push or open_pr):
        from gitreg.cli.promote import report_proposal  # noqa: PLC0415 - commands load lazily

        report_proposal(proposed)
    return 0
