"""``gitreg import``: bring models from another registry (``gitreg import mlflow``, the one source so far)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from gitreg.cli import cli, output
from gitreg.registry import Registry

if TYPE_CHECKING:
    from gitreg.importers.mlflow import ImportResult
    from gitreg.importers.mlflow.plan import StageChange


@cli.group("import")
def import_group() -> None:
    """Import models from another registry (MLflow)."""


@import_group.command("mlflow")
@click.option(
    "--tracking-uri", required=True, metavar="URI", help="The MLflow tracking server (http://host:5000)."
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="NAME",
    help="An MLflow model to import (default: all); repeatable.",
)
@click.option(
    "--stage-map",
    "stage_map",
    multiple=True,
    metavar="ALIAS=STAGE",
    help="Map an MLflow alias (or legacy stage) to a stage, e.g. champion=production; repeatable.",
)
@click.option(
    "--branch", metavar="NAME", help="Propose the import on this new branch instead of committing here."
)
@click.option("--push", is_flag=True, help="With --branch: push the branch to origin.")
@click.option("--open-pr", is_flag=True, help="With --branch: push it and open its pull request.")
@click.option(
    "--forge", "forge_name", type=click.Choice(["github", "gitlab"]), help="Forge, if not clear from the URL."
)
@click.option("--dry-run", is_flag=True, help="Print the plan; store and commit nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_obj
def mlflow_command(
    directory: str,
    tracking_uri: str,
    models: tuple[str, ...],
    stage_map: tuple[str, ...],
    branch: str | None,
    push: bool,
    open_pr: bool,
    forge_name: str | None,
    dry_run: bool,
    quiet: bool,
) -> int:
    """Import registered models, versions, aliases, runs and artifacts from MLflow.

    Re-runnable: only what changed in MLflow since the last import is imported. Exit code 1 when a version
    already imported has different artifacts in MLflow now (a conflict: it is never overwritten)."""
    from gitreg.importers.mlflow import ImportRequest, import_mlflow  # noqa: PLC0415 - loads on use

    request = ImportRequest(
        tracking_uri=tracking_uri,
        models=list(models),
        stage_map=list(stage_map),
        branch=branch,
        push=push or open_pr,
        open_pr=open_pr,
        forge=forge_name,
        dry_run=dry_run,
    )
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # its INFO lines are not gitreg's output
    with output.transfer_progress(quiet):
        result = import_mlflow(Registry.open(directory), request)
    plan = result.plan
    if dry_run:
        _print_plan(result)
    elif not result.imported and not result.stages:
        click.echo(f"nothing to import: {_summary(result)} already up to date")
        for held in result.held:
            click.echo(f"held back: {held}", err=True)
    else:
        for ref in result.imported:
            click.echo(f"imported {ref}")
        for change in result.stages:
            click.echo(_change(change))
        for held in result.held:
            click.echo(f"held back: {held}", err=True)
        if result.proposed is not None:
            from gitreg.cli.promote import report_proposal  # noqa: PLC0415 - commands load lazily

            report_proposal(result.proposed)
        elif result.commit is not None:
            click.echo(f"committed {result.commit[:12]} on {result.branch}")
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    for conflict in plan.conflicts:
        click.echo(f"conflict: {conflict}", err=True)
    return 1 if plan.conflicts else 0


def _summary(result: ImportResult) -> str:
    plan = result.plan
    versions = sum(m.current for m in plan.models)
    return f"{output.plural(len(plan.models), 'model')}, {output.plural(versions, 'version')}"


def _print_plan(result: ImportResult) -> None:
    plan = result.plan
    click.echo(
        f"plan: {output.plural(len(plan.versions), 'version')} of "
        f"{output.plural(len({v.model for v in plan.versions}), 'model')}, {output.size(plan.size)}"
        f" ({plan.size} bytes); {output.plural(len(plan.stages), 'stage change')}"
    )
    for model in plan.models:
        new = [v for v in plan.versions if v.model == model.name]
        mapped = f" (MLflow {model.source.name!r})" if model.source.name != model.name else ""
        state = "new model" if model.new else f"{output.plural(model.current, 'version')} imported"
        click.echo(f"model {model.name}{mapped}: {state}, {output.plural(len(new), 'new version')}")
        for version in new:
            files = output.plural(len(version.files), "file")
            click.echo(f"  version {version.source.number}: {files}, {output.size(version.size)}")
    for change in plan.stages:
        click.echo(f"stage {_change(change)}")
    click.echo("dry run: nothing stored or committed")


def _change(change: StageChange) -> str:
    return f"{change.stage}: {change.model} {change.previous or '(none)'} -> {change.version} ({change.why})"
