"""``gitreg export oci`` and the ``oci://`` form of ``gitreg pull``: OCI artifacts (issue 16)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gitreg.cli import cli, complete, output
from gitreg.registry import Registry

insecure_option = click.option(
    "--insecure",
    is_flag=True,
    help="Plain HTTP, for a registry on this machine only (127.0.0.1, localhost); or GITREG_OCI_INSECURE=1.",
)


def insecure_wanted(flag: bool) -> bool:
    return flag or os.environ.get("GITREG_OCI_INSECURE", "").lower() in ("1", "true", "yes")


@cli.group("export")
def export_group() -> None:
    """Publish a version in another system's format."""


@export_group.command("oci")
@click.argument("ref", shell_complete=complete.ref)
@click.argument("target", metavar="oci://HOST/REPO:TAG")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["modelpack", "modelcar"]),
    default="modelpack",
    show_default=True,
    help="modelpack: a CNCF ModelPack artifact, a layer per file; modelcar: an image with the files under "
    "/models, for KServe's oci:// storageUri.",
)
@click.option(
    "--base",
    metavar="oci://HOST/REPO:TAG",
    help="modelcar: the image to put /models on (KServe runs the modelcar with a shell: busybox, say).",
)
@insecure_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def export_oci_command(
    directory: str, ref: str, target: str, fmt: str, base: str | None, insecure: bool, as_json: bool
) -> int:
    """Push version REF to an OCI registry as TARGET; print the manifest digest. Layers the registry holds
    already are not sent again."""
    from gitreg.ops.export_oci import export_oci  # noqa: PLC0415 - loaded when the command runs

    reg = Registry.open(directory)
    record = reg.resolve_record(ref)
    done = export_oci(reg, record, target, fmt, insecure=insecure_wanted(insecure), base=base)
    if as_json:
        output.print_json(
            {
                "reference": done.reference,
                "digest": done.digest,
                "layers": done.layers,
                "uploaded": done.uploaded,
            }
        )
    else:
        click.echo(done.digest)
    return 0


def pull_oci_command(directory: str, reference: str, dest: str | None, as_json: bool) -> int:
    """``gitreg pull oci://...``: DEST is required (a folder that does not exist yet)."""
    from gitreg.errors import UsageError  # noqa: PLC0415
    from gitreg.ops.pull_oci import pull_oci  # noqa: PLC0415 - loaded when the command runs

    if dest is None:
        raise UsageError(f"pulling {reference} needs a destination folder", "give it as DEST (or -o DEST)")
    done = pull_oci(reference, Path(directory, dest), insecure=insecure_wanted(False))
    if as_json:
        output.print_json(
            {"ref": reference, "path": str(done.path), "digest": done.digest, "size": done.size}
        )
    else:
        click.echo(str(done.path))
    return 0
