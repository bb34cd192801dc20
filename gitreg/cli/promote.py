"""``gitreg promote``, ``rollback``, ``archive`` and ``restore``: changes proposed on a branch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gitreg import forge
from gitreg.cli import cli, complete
from gitreg.cli.types import VERSION
from gitreg.gitrepo import GitRepo
from gitreg.ops.promote import Planned, deliver_plan, plan_promotion, plan_rollback, plan_status
from gitreg.ops.propose import BaseRef, Proposed, resolve_base

F = Callable[..., Any]


def proposal_options(func: F) -> F:
    """The options every proposing command shares."""
    options = [
        click.option(
            "--branch", metavar="B", help="Name of the branch to create (default: gitreg/<what>/...)."
        ),
        click.option(
            "--base", metavar="REF", help="Start from REF (default: origin/main, fetched; else main)."
        ),
        click.option("--message", metavar="M", help="Commit subject (and pull request title)."),
        click.option("--push", is_flag=True, help="Push the branch to origin."),
        click.option(
            "--open-pr", is_flag=True, help="Push and open the pull request (GITHUB_TOKEN / GITLAB_TOKEN)."
        ),
        click.option(
            "--forge", "forge_name", type=click.Choice(forge.FORGES), help="Forge, if not clear from the URL."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(directory: str, base: str | None, plan: Callable[[GitRepo, BaseRef], Planned], **kw: Any) -> int:
    repo = GitRepo.open(Path(directory))
    base_ref = resolve_base(repo, base)
    planned = plan(repo, base_ref)
    result = deliver_plan(
        repo,
        base_ref,
        planned,
        message=kw.get("message"),
        push=kw["push"],
        open_pr=kw["open_pr"],
        forge_name=kw["forge_name"],
    )
    report_proposal(result)
    return 0


def report_proposal(result: Proposed) -> None:
    click.echo(f"branch {result.branch} (commit {result.commit[:12]}) from {result.base.label}")
    if result.pushed:
        click.echo(f"pushed {result.branch} to origin")
    if result.pull_request is not None:
        what = "already open" if result.pull_request.existed else "opened"
        click.echo(f"pull request #{result.pull_request.number} {what}: {result.pull_request.url}")
    for note in result.notes:
        click.echo(note, err=True)
    if not result.pushed:
        click.echo(
            f"next: git push origin {result.branch}, then open a pull request (or rerun with --open-pr)"
        )


@cli.command("promote")
@click.argument("ref", shell_complete=complete.ref)
@click.option(
    "--to",
    "stage",
    required=True,
    metavar="STAGE",
    help="The stage to promote into.",
    shell_complete=complete.stage_name,
)
@proposal_options
@click.pass_obj
def promote_command(
    directory: str, /, ref: str, stage: str, branch: str | None, base: str | None, **kw: Any
) -> int:
    """Propose REF (MODEL@VERSION) for STAGE on a new branch, as a pull request would carry it."""
    return _run(directory, base, lambda repo, b: plan_promotion(repo, b, ref, stage, branch), **kw)


@cli.command("rollback")
@click.argument("model", shell_complete=complete.model_name)
@click.option(
    "--stage",
    required=True,
    metavar="STAGE",
    help="The stage to roll back.",
    shell_complete=complete.stage_name,
)
@click.option("--to", "to", type=VERSION, metavar="V", help="A version the stage held before.")
@proposal_options
@click.pass_obj
def rollback_command(
    directory: str, /, model: str, stage: str, to: int | None, branch: str | None, base: str | None, **kw: Any
) -> int:
    """Propose putting STAGE back on the version it held before (or V)."""
    return _run(directory, base, lambda repo, b: plan_rollback(repo, b, model, stage, to, branch), **kw)


@cli.command("archive")
@click.argument("ref", shell_complete=complete.ref)
@click.option("--unstage", is_flag=True, help="Also remove the version from the stages that hold it.")
@proposal_options
@click.pass_obj
def archive_command(
    directory: str, /, ref: str, unstage: bool, branch: str | None, base: str | None, **kw: Any
) -> int:
    """Propose archiving a version (it stays in the registry, but leaves service)."""
    return _run(directory, base, lambda repo, b: plan_status(repo, b, ref, "archived", unstage, branch), **kw)


@cli.command("restore")
@click.argument("ref", shell_complete=complete.ref)
@proposal_options
@click.pass_obj
def restore_command(directory: str, /, ref: str, branch: str | None, base: str | None, **kw: Any) -> int:
    """Propose restoring an archived version to active."""
    return _run(directory, base, lambda repo, b: plan_status(repo, b, ref, "active", False, branch), **kw)
