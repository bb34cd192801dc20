"""Commands that look after the blob store: verify, gc, copy."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gitreg.cli import cli, complete, output
from gitreg.errors import StorageError, UsageError
from gitreg.ops import gc as collection
from gitreg.ops.copy import copy_version, is_git_url
from gitreg.ops.verify import BlobCheck, verify_versions
from gitreg.registry import Registry
from gitreg.storage import Blob, Incomplete

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@cli.command("verify")
@click.argument("ref", required=False, shell_complete=complete.ref)
@click.option("--all", "every", is_flag=True, help="Every version of every model.")
@json_option
@click.pass_obj
def verify_command(directory: str, ref: str | None, every: bool, as_json: bool) -> int:
    """Re-hash the stored blobs of REF (or of --all versions); list any missing or corrupt, exit 1 if any.
    A store that cannot be read (unreachable, misconfigured, access denied) is an error: exit 3."""
    if (ref is None) == (not every):
        raise UsageError("give a REF or --all, not both" if every else "give a REF or --all")
    reg = Registry.open(directory)
    versions = (
        [reg.version(m, n) for m in reg.model_names() for n in reg.version_numbers(m)]
        if every
        else [reg.resolve(ref or "")]
    )
    checks = verify_versions(reg.store, versions)
    bad = [c for c in checks if c.state != "ok"]
    blobs = {c.digest: c.size or 0 for c in checks}
    if as_json:
        output.print_json(
            {
                "ok": not bad,
                "versions": len(versions),
                "blobs": len(blobs),
                "bytes": sum(blobs.values()),
                "checks": [c.as_dict() for c in checks],
            }
        )
    else:
        for check in bad:
            click.echo(_check_line(check))
    unreadable = [c for c in bad if c.state == "unreadable"]
    if unreadable:
        count = len({c.digest for c in unreadable})
        raise StorageError(
            f"cannot read the blob store at {reg.store.url}: {output.plural(count, 'blob')} unreadable "
            f"({unreadable[0].detail})",
            "check the storage URL, the network and the credentials, then verify again",
        )
    summary = f"{output.plural(len(blobs), 'blob')} of {output.plural(len(versions), 'version')}"
    if bad:
        if not as_json:
            click.echo(f"{len({c.digest for c in bad})} of {summary} missing or corrupt")
        return 1
    if not as_json:
        click.echo(f"ok: {summary}, {output.size(sum(blobs.values()))}")
    return 0


def _check_line(check: BlobCheck) -> str:
    detail = f": {check.detail}" if check.detail else ""
    return f"{check.state} {check.digest} {check.ref} {check.path}{detail}"


@cli.command("gc")
@click.option(
    "--grace", default="7d", show_default=True, metavar="DURATION", help="Keep blobs younger than this."
)
@click.option("--yes", is_flag=True, help="Delete (without it, only print what would be deleted).")
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted (the default).")
@click.option("--shared-store", is_flag=True, help="Allow collecting the per-user default store.")
@json_option
@click.pass_obj
def gc_command(
    directory: str, grace: str, yes: bool, dry_run: bool, shared_store: bool, as_json: bool
) -> int:
    """Delete blobs that no version manifest on any branch or tag references (dry run unless --yes).

    Branches, remote-tracking branches and tags count (fetch first), and so does every file of a referenced
    folder. Blobs younger than --grace are kept: a registration stores its blobs before it commits. Uploads
    that never finished (S3 multipart uploads of a killed register, temporary files of the local store)
    older than --grace are removed too; on S3 a bucket lifecycle rule (AbortIncompleteMultipartUpload)
    does the same server-side. gc assumes the store belongs to this registry alone.

    With a retention policy's delete_archived_after, versions archived on main longer ago than that refer
    to nothing: their blobs go unless another version refers to them (see "Retention and storage usage")."""
    if yes and dry_run:
        raise UsageError("give --yes or --dry-run, not both")
    seconds = collection.parse_duration(grace)
    reg = Registry.open(directory)
    todo = collection.plan(reg, seconds, allow_shared=shared_store)
    verb = "deleted" if yes else "would delete"
    now = time.time()

    def line(item: Blob | Incomplete) -> str:
        if isinstance(item, Incomplete):
            return f"{verb} unfinished upload {item.name} (started {output.age(now - item.started)} ago)"
        age = f", {output.age(now - item.modified)} old" if item.modified is not None else ""
        return f"{verb} {item.digest} ({output.size(item.size)}{age})"

    if as_json:
        if yes:
            collection.sweep(reg.store, todo, None, reg)
        output.print_json(_gc_report(todo, yes))
        return 0
    for expired, freed in todo.freed:
        click.echo(
            f"{verb} the bytes of {expired.ref}, "
            f"archived {output.timestamp(expired.archived_at.isoformat())} "
            f"({output.age(now - expired.archived_at.timestamp())} ago, past delete_archived_after): "
            f"{output.size(freed)}"
        )
    for ref in todo.expiry.undetermined:
        click.echo(f"kept the bytes of {ref}: main's history does not say when it was archived", err=True)
    if yes:
        collection.sweep(reg.store, todo, lambda item: click.echo(line(item)), reg)
    else:
        items: list[Blob | Incomplete] = [*todo.uploads, *todo.blobs]
        for item in items:
            click.echo(line(item))
    uploads = f" and {output.plural(len(todo.uploads), 'unfinished upload')}"
    click.echo(
        f"{verb} {output.plural(len(todo.blobs), 'blob')}"
        + (uploads if todo.uploads else "")
        + f", {output.size(todo.bytes)}; kept {todo.kept} referenced"
        + (f" and {len(todo.young)} younger than {grace}" if todo.young else "")
        + (
            f"; {output.size(todo.freed_bytes)} of it from "
            f"{output.plural(len(todo.freed), 'version')} archived past delete_archived_after"
            if todo.freed
            else ""
        )
        + ("" if yes or not (todo.blobs or todo.uploads) else " (run with --yes to delete)")
    )
    return 0


def _gc_report(todo: collection.Plan, deleted: bool) -> dict[str, object]:
    return {
        "deleted": deleted,
        "blobs": [{"digest": b.digest, "size": b.size, "modified": b.modified} for b in todo.blobs],
        "uploads": [{"name": u.name, "started": u.started, "size": u.size} for u in todo.uploads],
        "bytes": todo.bytes,
        "kept": todo.kept,
        "young": len(todo.young),
        "expired": [
            {"ref": e.ref, "archived_at": e.archived_at.isoformat(), "bytes": freed}
            for e, freed in todo.freed
        ],
        "expired_bytes": todo.freed_bytes,
        "undetermined": todo.expiry.undetermined,
    }


@cli.command("copy")
@click.argument("ref", shell_complete=complete.ref)
@click.option(
    "--to-registry",
    "destination",
    required=True,
    metavar="PATH_OR_URL",
    help="The registry to copy into: a checkout's path, or a git URL (the branch is pushed there).",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Download and re-hash every blob the destination already has (and copy again any that is damaged).",
)
@quiet_option
@json_option
@click.pass_obj
def copy_command(directory: str, ref: str, destination: str, verify: bool, quiet: bool, as_json: bool) -> int:
    """Copy a version into another registry: its blobs (if missing or damaged there) and a branch with its
    manifest. A blob the destination has is checked by size, and with --verify by its digest."""
    reg = Registry.open(directory)
    if not is_git_url(destination):
        destination = str(Path(directory) / destination)
    with output.transfer_progress(quiet):
        result = copy_version(reg, ref, destination, verify)
    if as_json:
        output.print_json(
            {
                "source": result.source,
                "ref": result.ref,
                "branch": result.branch,
                "commit": result.commit,
                "destination": destination,
                "pushed_to": result.pushed_to,
                "blobs_copied": result.blobs_copied,
                "bytes_copied": result.bytes_copied,
            }
        )
        return 0
    where = result.pushed_to or destination
    click.echo(
        f"{result.source} -> {result.ref} on branch {result.branch} of {where} "
        f"({output.plural(result.blobs_copied, 'blob')} copied, "
        f"{output.size(result.bytes_copied)})"
    )
    return 0
