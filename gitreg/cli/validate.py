"""``gitreg validate``: schema, stage and change rules; exit 1 when they find problems."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from gitreg.cli import cli
from gitreg.registry import Registry
from gitreg.validate import catalogue
from gitreg.validate import report as reports
from gitreg.validate.runner import validate_registry


@cli.command("validate")
@click.option(
    "--base",
    metavar="REF",
    help="Also check the change against REF (e.g. origin/main): immutability, transitions.",
)
@click.option("--check-artifacts", is_flag=True, help="Check that every referenced blob is in the store.")
@click.option("--format", "fmt", type=click.Choice(reports.FORMATS), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option("--ref", metavar="REF", help="Validate this commit instead of the working tree.")
@click.option("--list-rules", is_flag=True, help="List the rules (with --format json, as JSON) and exit.")
@click.pass_obj
def validate_command(
    directory: str,
    base: str | None,
    check_artifacts: bool,
    fmt: str,
    strict: bool,
    ref: str | None,
    list_rules: bool,
) -> int:
    """Check the registry's schema and stage rules (and, with --base, the rules about change)."""
    if list_rules:
        if fmt == "json":
            click.echo(json.dumps(catalogue.as_dicts(), indent=2))
        else:
            click.echo(catalogue.text_table(), nl=False)
        return 0
    registry = Registry.open(directory, ref=ref)
    report = validate_registry(registry, base, check_artifacts)
    click.echo(reports.RENDERERS[fmt](report), nl=False)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        with Path(summary_file).open("a", encoding="utf-8") as out:
            out.write(reports.markdown_summary(report))
    return 1 if report.failed(strict) else 0
