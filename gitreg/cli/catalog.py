"""``gitreg catalog build`` and ``gitreg catalog serve``: the registry as a static web site."""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

import click

from gitreg.cli import cli, output
from gitreg.layout import DEFAULT_BRANCH

ref_option = click.option(
    "--ref", default=DEFAULT_BRANCH, show_default=True, metavar="REF", help="The commit to show."
)
status_option = click.option(
    "--status",
    "status",
    multiple=True,
    metavar="FILE_OR_DIR",
    type=click.Path(path_type=Path),
    help="A controller's status.json, or a folder of them: shown as 'Deployed now'. Repeatable.",
)


@cli.group("catalog")
def catalog_group() -> None:
    """The registry as a static web site: models, versions, charts, stage history, audit."""


@catalog_group.command("build")
@click.option(
    "-o",
    "--output",
    "out",
    default="site",
    show_default=True,
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="Where to write the site (replaced whole when the build succeeds).",
)
@ref_option
@status_option
@click.option(
    "--base-url", metavar="URL", help="Where the site is published (e.g. https://org.github.io/registry/)."
)
@click.pass_obj
def build_command(directory: str, out: Path, ref: str, status: tuple[Path, ...], base_url: str | None) -> int:
    """Build the catalog of the registry at REF into DIR."""
    from gitreg.catalog.site import build  # noqa: PLC0415 - Jinja2 and the catalog only for this command

    here = Path(directory)  # -C DIR: paths are read as if gitreg was started in DIR, as git -C does
    result = build(directory, here / out, ref, [here / s for s in status], base_url)
    click.echo(
        f"built {output.plural(result.pages, 'page')} ({output.plural(result.models, 'model')}, "
        f"{output.plural(result.versions, 'version')}, {output.size(result.bytes)}) in {result.path}"
    )
    return 0


@catalog_group.command("serve")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: any free port."
)
@ref_option
@status_option
@click.pass_obj
def serve_command(directory: str, port: int, ref: str, status: tuple[Path, ...]) -> int:
    """Build the catalog into a temporary folder and serve it on 127.0.0.1 until interrupted."""
    from gitreg.catalog import serve  # noqa: PLC0415 - see build_command
    from gitreg.catalog.site import build  # noqa: PLC0415

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    with tempfile.TemporaryDirectory(prefix="gitreg-catalog-") as temp:
        result = build(directory, Path(temp) / "site", ref, [Path(directory) / s for s in status])
        server = serve.open_server(result.path, port)
        previous = signal.signal(signal.SIGTERM, stop)
        try:
            click.echo(f"serving the catalog of {ref} at {serve.url_of(server)} (Ctrl-C stops)")
            sys.stdout.flush()
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.server_close()
    return 0
