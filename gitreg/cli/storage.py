"""Commands that look after the blob store: verify, gc, copy; and the progress bars of transfers."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import click

from gitreg.cli import cli
from gitreg.errors import UsageError
from gitreg.ops import gc as collection
from gitreg.ops.copy import copy_version, is_git_url
from gitreg.ops.verify import BlobCheck, verify_versions
from gitreg.registry import Registry
from gitreg.storage import Blob, Incomplete, progress

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")


@contextmanager
def _bar(total: int, label: str) -> Iterator[progress.Update]:
    from tqdm import tqdm  # noqa: PLC0415 - only a terminal session pays for the import

    columns = shutil.get_terminal_size((0, 0)).columns
    with tqdm(
        total=total,
        desc=label,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=columns > 0,
        ncols=None if columns > 0 else 80,  # a terminal that reports no width still gets a bar
    ) as bar:

        def update(n: int) -> None:
            bar.update(n)

        yield update


def transfer_progress(quiet: bool) -> AbstractContextManager[None]:
    """Progress bars (bytes, rate, ETA) on stderr for transfers over a few MB, when stderr is a terminal
    and not ``--quiet``."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()
    return progress.reporting(_bar)


def size_text(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


@cli.command("verify")
@click.argument("ref", required=False)
@click.option("--all", "every", is_flag=True, help="Every version of every model.")
@click.pass_obj
def verify_command(directory: str, ref: str | None, every: bool) -> int:
    """Re-hash the stored blobs of REF (or of --all versions); list any missing or corrupt, exit 1 if any."""
    if (ref is None) == (not every):
        raise UsageError("give a REF or --all, not both" if every else "give a REF or --all")
    reg = Registry.open(directory)
    versions = [v for m in reg.model_names() for v in reg.versions(m)] if every else [reg.resolve(ref or "")]
    checks = verify_versions(reg.store, versions)
    bad = [c for c in checks if c.state != "ok"]
    for check in bad:
        click.echo(_check_line(check))
    blobs = {c.digest: c.size or 0 for c in checks}
    summary = f"{len(blobs)} blob{'s' if len(blobs) != 1 else ''} of {len(versions)} version" + (
        "s" if len(versions) != 1 else ""
    )
    if bad:
        failed = len({c.digest for c in bad})
        click.echo(f"{failed} of {summary} missing or corrupt")
        return 1
    click.echo(f"ok: {summary}, {size_text(sum(blobs.values()))}")
    return 0


def _check_line(check: BlobCheck) -> str:
    detail = f": {check.detail}" if check.detail else ""
    return f"{check.state} {check.digest} {check.ref} {check.path}{detail}"


@cli.command("gc")
@click.option(
    "--grace", default="7d", show_default=True, metavar="DURATION", help="Keep blobs younger than this."
)
@click.option("--yes", is_flag=True, help="Delete (without it, only print what would be deleted).")
@click.option("--shared-store", is_flag=True, help="Allow collecting the per-user default store.")
@click.pass_obj
def gc_command(directory: str, grace: str, yes: bool, shared_store: bool) -> int:
    """Delete blobs that no version manifest on any branch or tag references (dry run unless --yes).

    Branches, remote-tracking branches and tags count (fetch first), and so does every file of a referenced
    folder. Blobs younger than --grace are kept: a registration stores its blobs before it commits. Uploads
    that never finished (S3 multipart uploads of a killed register, temporary files of the local store)
    older than --grace are removed too; on S3 a bucket lifecycle rule (AbortIncompleteMultipartUpload)
    does the same server-side. gc assumes the store belongs to this registry alone."""
    seconds = collection.parse_duration(grace)
    reg = Registry.open(directory)
    todo = collection.plan(reg, seconds, allow_shared=shared_store)
    verb = "deleted" if yes else "would delete"
    now = time.time()

    def line(item: Blob | Incomplete) -> str:
        if isinstance(item, Incomplete):
            return f"{verb} unfinished upload {item.name} (started {_age(now - item.started)} ago)"
        age = f", {_age(now - item.modified)} old" if item.modified is not None else ""
        return f"{verb} {item.digest} ({size_text(item.size)}{age})"

    if yes:
        collection.sweep(reg.store, todo, lambda item: click.echo(line(item)), reg)
    else:
        items: list[Blob | Incomplete] = [*todo.uploads, *todo.blobs]
        for item in items:
            click.echo(line(item))
    uploads = f" and {len(todo.uploads)} unfinished upload{'s' if len(todo.uploads) != 1 else ''}"
    click.echo(
        f"{verb} {len(todo.blobs)} blob{'s' if len(todo.blobs) != 1 else ''}"
        + (uploads if todo.uploads else "")
        + f", {size_text(todo.bytes)}; kept {todo.kept} referenced"
        + (f" and {len(todo.young)} younger than {grace}" if todo.young else "")
        + ("" if yes or not (todo.blobs or todo.uploads) else " (run with --yes to delete)")
    )
    return 0


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


@cli.command("copy")
@click.argument("ref")
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
@click.pass_obj
def copy_command(directory: str, ref: str, destination: str, verify: bool, quiet: bool) -> int:
    """Copy a version into another registry: its blobs (if missing or damaged there) and a branch with its
    manifest. A blob the destination has is checked by size, and with --verify by its digest."""
    reg = Registry.open(directory)
    if not is_git_url(destination):
        destination = str(Path(directory) / destination)
    with transfer_progress(quiet):
        result = copy_version(reg, ref, destination, verify)
    where = result.pushed_to or destination
    click.echo(
        f"{result.source} -> {result.ref} on branch {result.branch} of {where} "
        f"({result.blobs_copied} blob{'s' if result.blobs_copied != 1 else ''} copied, "
        f"{size_text(result.bytes_copied)})"
    )
    return 0
