"""``gitreg install-hooks`` and ``gitreg hook ...``, what git hooks and pre-commit hooks run."""

from __future__ import annotations

from pathlib import Path

import click

from gitreg.cli import cli
from gitreg.ops import hooks
from gitreg.validate import Report
from gitreg.validate import report as reports


@cli.command("install-hooks")
@click.option("--force", is_flag=True, help="Replace hooks that are not gitreg's.")
@click.pass_obj
def install_hooks_command(directory: str, force: bool) -> int:
    """Install gitreg's plain git hooks (for registries without the pre-commit framework)."""
    from gitreg.gitrepo import GitRepo  # noqa: PLC0415 - not for the hooks, run on every commit

    for path in hooks.install(GitRepo.open(Path(directory)), force):
        click.echo(f"installed {path}")
    return 0


@cli.group("hook")
def hook_group() -> None:
    """Entry points for git hooks and pre-commit hooks."""


@hook_group.command("pre-commit")
@click.option("--all", "everything", is_flag=True, help="Judge the whole index, not only what changed.")
@click.argument("files", nargs=-1)
@click.pass_obj
def pre_commit_command(directory: str, everything: bool, files: tuple[str, ...]) -> int:
    """Validate what is staged for commit: what changed since HEAD, and FILES (registry.yaml: everything)."""
    report = hooks.validate_index(Path(directory), everything, files)
    click.echo(reports.text(report), nl=False, err=bool(report.errors))
    return 1 if report.failed() else 0


@hook_group.command("no-large-files")
@click.argument("files", nargs=-1)
@click.pass_obj
def no_large_files_command(directory: str, files: tuple[str, ...]) -> int:
    """Refuse FILES over the registry's size limit."""
    findings = hooks.large_files(Path(directory), list(files))
    if findings:
        click.echo(reports.text(Report(findings, len(files))), nl=False)
    return 1 if findings else 0
