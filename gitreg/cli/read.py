"""Commands that read a registry: list, show, diff, pull, schema."""

from __future__ import annotations

import os
from typing import Any

import click

from gitreg import summary, uri
from gitreg.cli import cli, complete, output
from gitreg.errors import DestinationExistsError, UsageError
from gitreg.layout import KINDS
from gitreg.registry import Registry

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _stages_text(stages: dict[str, int]) -> str:
    return " ".join(f"{s}={v}" for s, v in stages.items()) or "-"


@cli.command("list")
@click.argument("model", required=False, shell_complete=complete.model_name)
@click.option("--stage", metavar="S", help="Only what is in stage S.", shell_complete=complete.stage_name)
@click.option("--where", metavar="EXPR", help='Versions matching EXPR, e.g. "metrics.auc >= 0.9".')
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Versions tagged K=V; repeatable.")
@click.option("--status", type=click.Choice(["active", "archived", "any"]), help="Versions in this status.")
@click.option("--since", metavar="DURATION|DATE", help="Versions registered since 7d, 12h, 2026-11-01...")
@click.option("--sort", metavar="FIELD", help="Sort versions by FIELD (-FIELD: highest first).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N versions.")
@json_option
@click.pass_obj
def list_command(
    directory: str,
    model: str | None,
    stage: str | None,
    where: str | None,
    tags: tuple[str, ...],
    status: str | None,
    since: str | None,
    sort: str | None,
    limit: int | None,
    as_json: bool,
) -> int:
    """List models, or one MODEL's versions, with their stages. Any of --where, --tag, --status, --since,
    --sort or --limit lists versions (of MODEL, or of every model) that match all of them."""
    reg = Registry.open(directory)
    searching = where is not None or tags or status or since or sort or limit
    if searching:
        from gitreg.search import select  # noqa: PLC0415 - the filter language, when asked for

        found = select(
            reg,
            model,
            stage=stage,
            status=None if status in (None, "any") else status,
            where=where,
            tags=_tag_pairs(tags),
            since=since,
            order_by=sort,
            limit=limit,
        )
        _print_versions([v.row() | {"model": v.version.model} for v in found], as_json, model is None)
        return 0
    if model is None:
        models = summary.list_models(reg, stage)
        if as_json:
            output.print_json([m.as_dict() for m in models])
        elif models:
            output.table(
                [["MODEL", "LATEST", "VERSIONS", "STAGES"]]
                + [[m.model, str(m.latest or "-"), str(m.versions), _stages_text(m.stages)] for m in models]
            )
        return 0
    items = [v.row() for v in summary.list_versions(reg, model, stage)]
    _print_versions(items, as_json, False)
    return 0


def _tag_pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {item!r}: write KEY=VALUE")
        if key in pairs and pairs[key] != value:
            raise UsageError(f"--tag {key!r} is given twice with different values")
        pairs[key] = value
    return pairs


def _print_versions(items: list[dict[str, Any]], as_json: bool, with_model: bool) -> None:
    """Versions as rows (``VersionWithStages.row``); ``with_model``: of several models, each row saying
    which (a ``model`` key first in JSON, a MODEL column)."""
    if as_json:
        output.print_json(
            [
                {"model": i["model"], **i} if with_model else {k: v for k, v in i.items() if k != "model"}
                for i in items
            ]
        )
        return
    if not items:
        return
    header = ["VERSION", "STATUS", "STAGES", "CREATED", "SIZE", "DIGEST", "METRICS"]
    output.table(
        [(["MODEL"] if with_model else []) + header]
        + [
            ([i["model"]] if with_model else [])
            + [
                str(i["version"]),
                i["status"],
                ",".join(i["stages"]) or "-",
                i["created_at"],
                output.size(i["size"]),
                i["digest"][:19],
                " ".join(f"{k}={v}" for k, v in i["metrics"].items()) or "-",
            ]
            for i in items
        ]
    )


@cli.command("show")
@click.argument("ref", shell_complete=complete.ref)
@json_option
@click.pass_obj
def show_command(directory: str, ref: str, as_json: bool) -> int:
    """Show one version (MODEL@3, MODEL@production, MODEL@latest), or a MODEL with its stages."""
    data = summary.shown(Registry.open(directory), ref)
    if as_json:
        output.print_json(data)
    else:
        click.echo(summary.shown_yaml(data), nl=False)
    return 0


@cli.command("diff")
@click.argument("ref_a", shell_complete=complete.ref)
@click.argument("ref_b", shell_complete=complete.ref)
@json_option
@click.pass_obj
def diff_command(directory: str, ref_a: str, ref_b: str, as_json: bool) -> int:
    """What differs between two versions: metrics, params, lineage, artifact, ..."""
    reg = Registry.open(directory)
    a, b = reg.resolve_record(ref_a), reg.resolve_record(ref_b)
    changes = summary.version_diff(a, b)
    if as_json:
        output.print_json({"a": a.ref, "b": b.ref, "changes": [c.as_dict() for c in changes]})
        return 0
    click.echo(f"{a.ref} -> {b.ref}")
    if not changes:
        click.echo("  no differences")
        return 0
    width = max(len(c.field) for c in changes)
    for c in changes:
        delta = f"  ({c.delta:+g})" if c.delta is not None else ""
        click.echo(f"  {c.field.ljust(width)}  {output.cell(c.a)} -> {output.cell(c.b)}{delta}")
    return 0


@cli.command("pull")
@click.argument("ref", metavar="REF|URI", shell_complete=complete.ref)
@click.argument("folder", metavar="[DEST]", required=False, type=click.Path())
@click.option(
    "-o",
    "--output",
    "dest",
    type=click.Path(),
    help="Where to put it: a path, or a folder (existing, or ending in /) to put it in. Default: here.",
)
@click.option("--force", is_flag=True, help="Replace what is there if it is not this artifact (atomically).")
@json_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def pull_command(
    directory: str, ref: str, folder: str | None, dest: str | None, force: bool, as_json: bool, quiet: bool
) -> int:
    """Download a version's artifact, verify every byte, print where it is.

    REF names a version of the registry here (-C DIR); a URI names the registry's repository too:
    gitreg+https://HOST/PATH.git[@BRANCH]#MODEL@STAGE (or gitreg+ssh://, gitreg+file://), which needs no
    checkout. DEST is the model's folder (as KServe's storage containers are called: URI DEST): a file
    artifact goes in it under its name, a folder artifact's files directly in it. If the artifact is already
    there, nothing is downloaded."""
    if folder is not None and dest is not None:
        raise UsageError("give DEST or -o PATH, not both")
    where = folder if folder is not None else dest
    if ref.startswith("oci://"):  # made by `gitreg export oci` (plain HTTP: GITREG_OCI_INSECURE=1)
        from gitreg.cli.oci import pull_oci_command  # noqa: PLC0415 - only for oci:// references

        with output.transfer_progress(quiet):
            return pull_oci_command(directory, ref, where, as_json)
    # os.path.join keeps a trailing slash, which says "a folder to put it in"
    path_arg = os.path.join(directory, where if where is not None else ".")  # noqa: PTH118
    try:
        if uri.is_uri(ref):
            with uri.opened(ref) as found, output.transfer_progress(quiet):
                version = found.version
                path = found.registry.pull(version, path_arg, force=force, folder=folder is not None)
        else:
            reg = Registry.open(directory)
            version = reg.resolve_record(ref)
            with output.transfer_progress(quiet):
                path = reg.pull(version, path_arg, force=force, folder=folder is not None)
    except DestinationExistsError as exc:
        raise DestinationExistsError(exc.path, "remove it, or pass --force to replace it") from None
    if as_json:
        output.print_json(
            {
                "ref": version.ref,
                "path": str(path),
                "digest": version.artifact.digest,
                "size": version.artifact.size,
            }
        )
    else:
        click.echo(str(path))
    return 0


@cli.command("schema")
@click.argument("kind", required=False, type=click.Choice(sorted(KINDS), case_sensitive=False))
@click.option(
    "--write",
    "write",
    is_flag=True,
    help="Write every kind's schema under .gitreg/schemas/ of the registry, and map them for editors.",
)
@click.pass_obj
def schema_command(directory: str, kind: str | None, write: bool) -> int:
    """Print the JSON Schema of one KIND of file, or one that holds for any of them; or --write them all
    into the registry (under .gitreg/schemas/, mapped in .vscode/settings.json) for editors."""
    from gitreg import schemas  # noqa: PLC0415 - pydantic only for the command that needs it

    if write:
        if kind:
            raise UsageError("--write writes every kind: give no KIND")
        top = Registry.open(directory).workdir
        if top is None:
            raise UsageError("--write needs a registry checkout")
        for rel in schemas.write(top):
            click.echo(f"wrote {rel}")
        return 0
    output.print_json(schemas.json_schema(kind) if kind else schemas.all_schemas())
    return 0
