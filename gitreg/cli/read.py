"""Commands that read a registry: list, show, diff, pull, schema."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from gitreg import manifest, yamlio
from gitreg.cli import cli
from gitreg.credentials import redact, redact_data
from gitreg.manifest import ModelVersion
from gitreg.registry import Ref, Registry

_HIDDEN = ("apiVersion", "kind")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _print_json(data: Any) -> None:
    click.echo(json.dumps(redact_data(data), indent=2, sort_keys=False))


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _stages_text(stages: dict[str, int], with_version: bool) -> str:
    return " ".join(f"{s}={v}" if with_version else s for s, v in stages.items()) or "-"


def _version_data(reg: Registry, v: ModelVersion) -> dict[str, Any]:
    data = v.to_yaml_data()
    data["stages"] = [s for s, n in reg.stages_of(v.model).items() if n == v.version]
    return data


@cli.command("list")
@click.argument("model", required=False)
@click.option("--stage", metavar="S", help="Only what is in stage S.")
@json_option
@click.pass_obj
def list_command(directory: str, model: str | None, stage: str | None, as_json: bool) -> int:
    """List models, or one MODEL's versions, with their stages."""
    reg = Registry.open(directory)
    wanted = reg.stage(stage) if stage else None
    if model is None:
        stage_maps = {s: reg.stage(s) for s in reg.stage_names()}
        rows: list[dict[str, Any]] = []
        for name in reg.model_names():
            if wanted is not None and name not in wanted:
                continue
            numbers = reg.version_numbers(name)
            stages = {s: m[name] for s, m in stage_maps.items() if name in m}
            rows.append(
                {
                    "model": name,
                    "latest": numbers[-1] if numbers else None,
                    "versions": len(numbers),
                    "stages": stages,
                }
            )
        if as_json:
            _print_json(rows)
        elif rows:
            _table(
                [["MODEL", "LATEST", "VERSIONS", "STAGES"]]
                + [
                    [r["model"], str(r["latest"] or "-"), str(r["versions"]), _stages_text(r["stages"], True)]
                    for r in rows
                ]
            )
        return 0
    reg.model(model)
    stages_of = reg.stages_of(model)
    versions = [v for v in reg.versions(model) if wanted is None or wanted.get(model) == v.version]
    items: list[dict[str, Any]] = [
        {
            "version": v.version,
            "status": v.status,
            "stages": [s for s, n in stages_of.items() if n == v.version],
            "created_at": v.created_at,
            "digest": v.artifact.digest,
            "size": v.artifact.size,
            "metrics": v.metrics,
        }
        for v in versions
    ]
    if as_json:
        _print_json(items)
    elif items:
        _table(
            [["VERSION", "STATUS", "STAGES", "CREATED", "SIZE", "DIGEST", "METRICS"]]
            + [
                [
                    str(i["version"]),
                    i["status"],
                    ",".join(i["stages"]) or "-",
                    i["created_at"],
                    _size(i["size"]),
                    i["digest"][:19],
                    " ".join(f"{k}={v}" for k, v in i["metrics"].items()) or "-",
                ]
                for i in items
            ]
        )
    return 0


@cli.command("show")
@click.argument("ref")
@json_option
@click.pass_obj
def show_command(directory: str, ref: str, as_json: bool) -> int:
    """Show one version (MODEL@3, MODEL@production, MODEL@latest), or a MODEL with its stages."""
    reg = Registry.open(directory)
    parsed = Ref.parse(ref)
    if parsed.selector is None:
        info = reg.model(parsed.model)
        numbers = reg.version_numbers(parsed.model)
        data = info.model_dump(mode="json", by_alias=True)
        data |= {
            "versions": len(numbers),
            "latest": numbers[-1] if numbers else None,
            "stages": reg.stages_of(parsed.model),
        }
        if as_json:
            _print_json(data)
        else:
            click.echo(
                yamlio.dump(redact_data({k: v for k, v in data.items() if k not in _HIDDEN})), nl=False
            )
        return 0
    data = _version_data(reg, reg.resolve(parsed))
    if as_json:
        _print_json(data)
    else:
        click.echo(yamlio.dump(redact_data({k: v for k, v in data.items() if k not in _HIDDEN})), nl=False)
    return 0


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out |= _flatten(value, f"{prefix}{key}.")
        return out
    return {prefix.rstrip("."): data}


@cli.command("diff")
@click.argument("ref_a")
@click.argument("ref_b")
@json_option
@click.pass_obj
def diff_command(directory: str, ref_a: str, ref_b: str, as_json: bool) -> int:
    """What differs between two versions: metrics, params, lineage, artifact, ..."""
    reg = Registry.open(directory)
    a, b = reg.resolve(ref_a), reg.resolve(ref_b)
    skip = {"apiVersion", "kind", "model", "version", "created_at", "created_by"}
    flat_a = {k: v for k, v in _flatten(a.to_yaml_data()).items() if k.split(".")[0] not in skip}
    flat_b = {k: v for k, v in _flatten(b.to_yaml_data()).items() if k.split(".")[0] not in skip}
    changes = []
    for key in sorted(set(flat_a) | set(flat_b), key=_field_order):
        va, vb = flat_a.get(key), flat_b.get(key)
        if va == vb:
            continue
        change: dict[str, Any] = {"field": key, "a": va, "b": vb}
        if isinstance(va, int | float) and isinstance(vb, int | float) and not isinstance(va, bool):
            change["delta"] = round(vb - va, 12)
        changes.append(change)
    if as_json:
        _print_json({"a": a.ref, "b": b.ref, "changes": changes})
        return 0
    click.echo(f"{a.ref} -> {b.ref}")
    if not changes:
        click.echo("  no differences")
        return 0
    width = max(len(c["field"]) for c in changes)
    for c in changes:
        delta = f"  ({c['delta']:+g})" if "delta" in c else ""
        click.echo(f"  {c['field'].ljust(width)}  {_cell(c['a'])} -> {_cell(c['b'])}{delta}")
    return 0


_ORDER = [
    "metrics",
    "params",
    "artifact",
    "framework",
    "lineage",
    "tags",
    "description",
    "status",
    "signature",
]


def _field_order(key: str) -> tuple[int, str]:
    head = key.split(".", maxsplit=1)[0]
    return (_ORDER.index(head) if head in _ORDER else len(_ORDER), key)


def _cell(value: Any) -> str:
    if value is None:
        return "(none)"
    return redact(json.dumps(value) if isinstance(value, list | dict) else str(value))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # pragma: no cover


@cli.command("pull")
@click.argument("ref")
@click.option(
    "-o",
    "--output",
    "dest",
    type=click.Path(),
    help="Where to put it: a path, or a folder (existing, or ending in /) to put it in. Default: here.",
)
@json_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def pull_command(directory: str, ref: str, dest: str | None, as_json: bool, quiet: bool) -> int:
    """Download a version's artifact, verify every byte, print where it is."""
    from gitreg.cli.storage import transfer_progress  # noqa: PLC0415 - commands load lazily

    reg = Registry.open(directory)
    version = reg.resolve(ref)
    # os.path.join keeps a trailing slash, which says "a folder to put it in"
    with transfer_progress(quiet):
        path = reg.pull(version, os.path.join(directory, dest if dest is not None else "."))  # noqa: PTH118
    if as_json:
        _print_json(
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
@click.argument("kind", required=False, type=click.Choice(sorted(manifest.KINDS)))
def schema_command(kind: str | None) -> int:
    """Print the JSON Schema of one KIND of file (or all of them)."""
    if kind:
        _print_json(manifest.json_schema(kind))
    else:
        _print_json({k: manifest.json_schema(k) for k in sorted(manifest.KINDS)})
    return 0
