"""``gitreg history`` and ``gitreg audit``: what main's history says about the stages. What they print is
``gitreg.history_report``'s (the entry point answers the commonest forms without click)."""

from __future__ import annotations

from datetime import datetime

import click

from gitreg.cli import cli, complete
from gitreg.history_report import _json_row, audit_text, history_text, when
from gitreg.ops.review import FORGES

forge_option = click.option(
    "--forge",
    "forge_name",
    type=click.Choice(FORGES),
    help="Forge whose API confirms review (with GITHUB_TOKEN or GITLAB_TOKEN), if not clear from the URL.",
)

ref_option = click.option(
    "--ref", metavar="REF", help="The branch whose history counts (default: origin/main, else main)."
)


@cli.command("history")
@click.argument("model", shell_complete=complete.model_name)
@click.option("--stage", metavar="S", help="Only this stage.", shell_complete=complete.stage_name)
@ref_option
@forge_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def history_command(
    directory: str, model: str, stage: str | None, ref: str | None, forge_name: str | None, as_json: bool
) -> int:
    """Every change of MODEL's stages along main's first-parent history."""
    click.echo(history_text(directory, model, stage, ref, forge_name, as_json))
    return 0


def _when(value: str | None, end: bool) -> datetime | None:
    try:
        return when(value, end)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date such as 2026-11-01 or 2026-11-01T12:00:00Z"
        ) from None


@cli.command("audit")
@click.option("--since", metavar="DATE", help="From this date (inclusive).")
@click.option("--until", metavar="DATE", help="Up to this date (inclusive).")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@ref_option
@forge_option
@click.pass_obj
def audit_command(
    directory: str, since: str | None, until: str | None, fmt: str, ref: str | None, forge_name: str | None
) -> int:
    """Evidence for reviewers and auditors: every stage change, who, when, how, and what went live.

    Review counts only where the forge shows it: its pull-request refs, when fetched, or its API, with
    GITHUB_TOKEN or GITLAB_TOKEN. A pull request only named in a commit message is flagged unconfirmed."""
    for text in audit_text(directory, since, until, fmt, ref, forge_name, _when):
        click.echo(text, nl=False)
    return 0


__all__ = ["_json_row", "audit_command", "history_command"]  # _json_row: tests/cli/test_audit_json_rows.py
