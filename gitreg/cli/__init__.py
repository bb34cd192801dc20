"""The command line. This package is the only place that prints or exits: commands parse their options,
call the library, print, and return an exit code (0 ok, 1 findings, 2 usage, 3 gitreg could not do its
job). Every error is one line on stderr, ``error: ...``, never a traceback (``GITREG_DEBUG=1`` shows it)."""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from gitreg import __version__
from gitreg.credentials import redact
from gitreg.errors import GitregError

#: Which module of gitreg.cli defines each command. Modules are imported only when their command runs
#: (or for --help), so `gitreg show` does not pay for importing the controller, Jinja2 or the forges.
COMMANDS = {
    "init": "write",
    "register": "write",
    "list": "read",
    "show": "read",
    "diff": "read",
    "pull": "read",
    "schema": "read",
    "validate": "validate",
    "install-hooks": "hooks",
    "hook": "hooks",
    "promote": "promote",
    "rollback": "promote",
    "archive": "promote",
    "restore": "promote",
    "history": "history",
    "audit": "history",
    "controller": "controller",
    "verify": "storage",
    "gc": "storage",
    "copy": "storage",
    "export": "oci",
    "import": "importer",
    "retire": "retention",
    "usage": "retention",
    "catalog": "catalog",
}


class GitregGroup(click.Group):
    """Loads commands lazily, and turns every failure into one ``error:`` line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in set(COMMANDS) | set(self.commands) if self.get_command(ctx, n) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = f"gitreg.cli.{COMMANDS[cmd_name]}"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                return None  # an installation without that part of gitreg
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """An unknown command is a usage error that suggests the nearest command: click's own suggestion
        knows only the commands already loaded, and here they load lazily."""
        name = click.utils.make_str(args[0])
        if ctx.resilient_parsing or name.startswith("-") or self.get_command(ctx, name) is not None:
            return super().resolve_command(ctx, args)
        shown = name if len(name) < 40 else name[:20] + "..."
        close = difflib.get_close_matches(name.lower(), self.list_commands(ctx), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "gitreg --help lists the commands"
        raise click.UsageError(f"no such command {shown!r} ({hint})", ctx)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # `gitreg` alone: the help, as it reads, not squeezed into one line
            code = exc.exit_code
        except click.ClickException as exc:
            code = _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            code = _fail("aborted", 130)
        except GitregError as exc:
            from gitreg.cli.wording import worded  # noqa: PLC0415 - only an error needs it

            code = _fail(worded(exc), exc.exit_code)
        except KeyboardInterrupt:
            code = _fail("interrupted", 130)
        except Exception as exc:  # a bug: still one line, with a way to see more
            if os.environ.get("GITREG_DEBUG"):
                import traceback  # noqa: PLC0415 - only a bug's report needs it

                traceback.print_exc()
            code = _fail(f"internal error: {type(exc).__name__}: {exc} (set GITREG_DEBUG=1 for details)", 3)
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> int:
    click.echo(f"error: {redact(' '.join(message.split()))}", err=True)  # a URL's credentials: never
    return code


@click.group(cls=GitregGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitreg")
@click.option(
    "-C",
    "directory",
    default=".",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Run as if gitreg was started in DIR.",
)
@click.pass_context
def cli(ctx: click.Context, directory: str) -> None:
    """gitreg: a GitOps model registry. Manifests in Git, artifacts in content-addressed blob storage."""
    ctx.obj = directory


def main() -> None:
    cli.main(prog_name="gitreg")


__all__ = ["COMMANDS", "cli", "main"]
