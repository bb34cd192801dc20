"""``gitreg retire`` (archive the versions a retention policy finds stale, on one proposed branch) and
``gitreg usage`` (bytes held by model, owner, tag or stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitreg.cli import cli, complete, output
from gitreg.cli.promote import proposal_options, report_proposal
from gitreg.errors import UsageError
from gitreg.gitrepo import GitRepo
from gitreg.ops.propose import propose, resolve_base
from gitreg.ops.retire import retirement
from gitreg.ops.usage import check_grouping, usage
from gitreg.registry import Registry
from gitreg.retention import RetirementPlan
from gitreg.usage import UsageReport


@cli.command("retire")
@click.option("--model", metavar="M", help="Only this model.", shell_complete=complete.model_name)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (with --dry-run).")
@proposal_options
@click.pass_obj
def retire_command(
    directory: str,
    /,
    model: str | None,
    dry_run: bool,
    as_json: bool,
    branch: str | None,
    base: str | None,
    **kw: Any,
) -> int:
    """Archive the versions the retention policy finds stale, on one new branch from origin/main.

    A version is stale when it is active, not among its model's newest keep_last, held by no stage now nor
    by a protected stage within archive_after, and created longer ago than archive_after; the parent of a
    version kept is kept too. The branch is validated as CI will validate it; its pull request lists each
    version, its age, its size and why it is stale."""
    if as_json and not dry_run:
        raise UsageError("--json prints the plan: use it with --dry-run")
    repo = GitRepo.open(Path(directory))
    base_ref = resolve_base(repo, base)
    if dry_run:
        from gitreg.ops.retire import plan_retirement  # noqa: PLC0415 - the plan alone

        found = plan_retirement(repo, base_ref, model)
        if as_json:
            output.print_json({"base": base_ref.label, **found.as_dict()})
        else:
            _print_plan(found, base_ref.label)
        return 0
    result = retirement(repo, base_ref, model, branch=branch)
    if result.change is None:
        click.echo(f"nothing to retire on {base_ref.label}")
        return 0
    if kw.get("message"):
        result.change.subject = kw["message"]
    proposed = propose(
        repo, result.change, base_ref, push=kw["push"], open_pr=kw["open_pr"], forge_name=kw["forge_name"]
    )
    _print_plan(result.plan, base_ref.label)  # once it is proposed: a refusal is one error line
    report_proposal(proposed)
    return 0


def _print_plan(found: RetirementPlan, label: str) -> None:
    if not found.stale:
        click.echo(f"nothing to retire on {label} ({output.plural(len(found.kept), 'active version')} kept)")
        return
    rows = [["version", "age", "size", "why it is stale"]]
    for v in found.stale:
        age = f"{v.age_days}d" if v.age_days is not None else "?"
        rows.append([v.ref, age, output.size(v.size), v.reason])
    output.table(rows)
    click.echo(
        f"{output.plural(len(found.stale), 'version')} to archive on {label}, {output.size(found.bytes)} "
        f"recorded; {len(found.kept)} kept"
    )


@cli.command("usage")
@click.option(
    "--by", "by", default="model", show_default=True, metavar="model|owner|stage|tag:KEY", help="Grouping."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one row per group and a total.")
@click.option("--check-store", is_flag=True, help="Read the store: folder listings, and what it holds.")
@click.pass_obj
def usage_command(directory: str, by: str, as_json: bool, as_csv: bool, check_store: bool) -> int:
    """Bytes held per model, owner, stage or tag (e.g. --by tag:team), each blob counted once per group;
    bytes shared between groups, held only by archived versions, and that gc would free."""
    if as_json and as_csv:
        raise UsageError("give --json or --csv, not both")
    check_grouping(by)
    report = usage(Registry.open(directory), by, check_store)
    if as_json:
        output.print_json(report.as_dict())
    elif as_csv:
        click.echo(report.csv(), nl=False)
    else:
        _print_usage(report)
    return 0


def _print_usage(report: UsageReport) -> None:
    rows = [[report.by, "versions", "bytes", "shared", "archived only"]]
    for g in report.groups:
        rows.append(
            [
                g.name,
                str(g.versions),
                output.size(g.bytes),
                output.size(g.shared_bytes),
                output.size(g.archived_only_bytes),
            ]
        )
    output.table(rows)
    click.echo(
        f"total: {output.size(report.total_bytes)} in {output.plural(report.versions, 'version')} "
        f"(a naive sum says {output.size(report.naive_bytes)}); shared between groups "
        f"{output.size(report.shared_bytes)}; held only by archived versions "
        f"{output.size(report.archived_only_bytes)}; gc would free {output.size(report.collectable_bytes)} "
        "by the retention policy"
    )
    store = report.store
    if store is not None:
        click.echo(
            f"store: {output.plural(store.stored_blobs, 'blob')}, {output.size(store.stored_bytes)}; "
            f"{output.plural(store.unreferenced_blobs, 'blob')} no version refers to "
            f"({output.size(store.unreferenced_bytes)}); {len(store.missing)} referenced but missing"
        )
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
