"""``gitreg controller``: keep a target folder in step with a stage; ``gitreg controller status``.

``--once`` first asks ``controller.poll`` (the standard library and one ``git ls-remote``) whether there
is anything to do; only then, or for the loop, is the full controller (pydantic, ``GitRepo``,
prometheus_client) imported. A test holds that: tests/controller/test_poll.py."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from gitreg.cli import cli
from gitreg.cli.types import DAY, SecondsType
from gitreg.controller.config import ControllerConfig
from gitreg.controller.events import Event
from gitreg.errors import GitregError
from gitreg.layout import DEFAULT_BRANCH

if TYPE_CHECKING:
    from gitreg.controller import ReconcileResult, Status


@cli.group("controller", invoke_without_command=True)
@click.option("--repo", metavar="URL", help="The registry's git URL (https://, ssh://, file://, a path).")
@click.option("--stage", metavar="STAGE", help="The stage to deploy, e.g. production.")
@click.option(
    "--target",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to keep in step: DIR/<model>/current -> DIR/<model>/<version>.",
)
@click.option("--branch", default=DEFAULT_BRANCH, show_default=True, help="The branch to follow.")
@click.option(
    "--interval",
    type=SecondsType(0.05, 7 * DAY),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between polls (10% jitter).",
)
@click.option("--once", is_flag=True, help="Reconcile once and exit (0 done, 1 commit refused, 3 failed).")
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    metavar="N",
    help="Versions kept per model, the live one included, for instant local rollback.",
)
@click.option("--prune", is_flag=True, help="Remove models that left the stage (never all of them).")
@click.option(
    "--on-deploy",
    metavar="CMD",
    help="Shell command run after each switch, with GITREG_MODEL, GITREG_VERSION, GITREG_PATH, "
    "GITREG_DIGEST and GITREG_COMMIT set.",
)
@click.option(
    "--hook-timeout",
    type=SecondsType(0.1, DAY),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="How long --on-deploy may run before it counts as failed.",
)
@click.option(
    "--rollback-on-hook-failure", is_flag=True, help="Switch a model back if --on-deploy fails for it."
)
@click.option(
    "--verify-signatures", is_flag=True, help="Apply only commits whose signature verifies (SSH or GPG)."
)
@click.option(
    "--allowed-signers",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="ssh-keygen allowed-signers file for SSH signatures (git's gpg.ssh.allowedSignersFile).",
)
@click.option(
    "--allow-non-fast-forward",
    is_flag=True,
    help="With --verify-signatures, also apply a tip that does not descend from the applied commit.",
)
@click.option(
    "--listen", metavar="HOST:PORT", help="Serve /healthz, /status, /metrics and POST /reconcile here."
)
@click.option(
    "--webhook-secret",
    envvar="GITREG_WEBHOOK_SECRET",
    metavar="SECRET",
    help="Require POST /reconcile to be signed with SECRET (env GITREG_WEBHOOK_SECRET).",
)
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="/healthz answers 503 once no poll has succeeded for this long "
    "[default: 3 intervals, at least 300].",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Log lines."
)
@click.pass_context
def controller_command(
    ctx: click.Context,
    repo: str | None,
    stage: str | None,
    target: Path | None,
    branch: str,
    interval: float,
    once: bool,
    keep: int,
    prune: bool,
    on_deploy: str | None,
    hook_timeout: float,
    rollback_on_hook_failure: bool,
    verify_signatures: bool,
    allowed_signers: Path | None,
    allow_non_fast_forward: bool,
    listen: str | None,
    webhook_secret: str | None,
    stale_after: float | None,
    log_format: str,
) -> int:
    """Keep DIR in step with STAGE on the registry's branch: poll with git ls-remote, fetch and validate
    a new commit, download and verify each changed artifact, switch DIR/<model>/current atomically."""
    if ctx.invoked_subcommand is not None:
        return 0
    missing = [
        name for name, value in (("--repo", repo), ("--stage", stage), ("--target", target)) if not value
    ]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)} (or run gitreg controller status --target DIR)")
    assert repo is not None and stage is not None and target is not None  # noqa: S101 - checked just above
    if allowed_signers is not None and not verify_signatures:
        raise click.UsageError("--allowed-signers only makes sense with --verify-signatures")
    if webhook_secret is None and "GITREG_WEBHOOK_SECRET" in os.environ:
        webhook_secret = os.environ["GITREG_WEBHOOK_SECRET"]  # click reads an empty variable as unset
    server: ModuleType | None = None
    if webhook_secret is not None or listen:
        server = importlib.import_module("gitreg.controller.server")  # the HTTP side: only when asked for
        server.check_secret(webhook_secret)  # an empty secret would let anyone in: refused before anything
    if allow_non_fast_forward and not verify_signatures:
        raise click.UsageError("--allow-non-fast-forward only makes sense with --verify-signatures")
    if webhook_secret is not None and not listen:
        raise click.UsageError("--webhook-secret only makes sense with --listen")
    address = server.parse_address(listen) if server and listen else None
    config = ControllerConfig(
        repo,
        stage,
        target,
        branch=branch,
        keep=keep,
        prune=prune,
        verify_signatures=verify_signatures,
        allowed_signers=allowed_signers.absolute() if allowed_signers else None,
        allow_non_fast_forward=allow_non_fast_forward,
        on_deploy=on_deploy,
        rollback_on_hook_failure=rollback_on_hook_failure,
        hook_timeout=hook_timeout,
    )

    def log(event: Event) -> None:
        click.echo(event.json() if log_format == "json" else event.text(), err=True)

    def unraisable(what: sys.UnraisableHookArgs) -> None:
        # An error Python cannot raise (a finaliser's, after a stop cut a library's set-up short) is one
        # log line like every other, not a traceback in the middle of JSON logs.
        error = f"{type(what.exc_value).__name__}: {what.exc_value}"
        log(Event("ignored-error", "warning", {"error": error, "in": repr(what.object)[:200]}))

    sys.unraisablehook = unraisable

    answer: str | GitregError | None = None
    if once:
        from gitreg.controller.poll import glance  # noqa: PLC0415 - light: the standard library and git

        seen = glance(config, log)
        if seen.unchanged and seen.commit:
            click.echo(f"unchanged {seen.commit[:12]}: no change")  # as _report says it
            return 0
        answer = seen.answer
    from gitreg.controller import Controller  # noqa: PLC0415 - there is work: the full controller
    from gitreg.controller.loop import STOP_GRACE, Loop  # noqa: PLC0415

    with Controller(config, log) as controller:
        if once:
            result = controller.reconcile(force=True, answer=answer)
            return _report(result)
        loop = Loop(controller, interval, stale_after=stale_after, stop_grace=STOP_GRACE)
        http = (
            server.Server(controller, address, loop.wake, webhook_secret, health=loop.health)
            if server and address
            else None
        )
        loop.run(http)
    return 0


def _report(result: ReconcileResult) -> int:
    commit = result.commit[:12] if result.commit else "-"
    changes = "; ".join(str(c) for c in result.changes) or "no change"
    click.echo(f"{result.outcome} {commit}: {changes}")
    for error in result.errors:
        click.echo(f"error: {' '.join(error.split())}", err=True)
    if result.outcome == "invalid":
        return 1
    return 0 if result.outcome in ("applied", "unchanged") and not result.errors else 3


@controller_command.command("status")
@click.option(
    "--target",
    metavar="DIR",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The controller's target folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the status JSON.")
def status_command(target: Path, as_json: bool) -> int:
    """Print what the controller of DIR last did: commits, each model's state, recent reconciles."""
    from gitreg.controller import status as statuses  # noqa: PLC0415 - pydantic: not for a poll

    status = statuses.read_for_humans(target)
    if as_json:
        click.echo(json.dumps(status.as_json(), indent=2))
        return 0
    _print_status(status)
    return 0


def _print_status(status: Status) -> None:
    spec = status.spec
    click.echo(f"target     {status.target}")
    if spec is not None:
        click.echo(f"following  stage {spec.stage} of {spec.repo} (branch {spec.branch})")
    for label, mark in (("observed", status.observed), ("applied", status.applied)):
        click.echo(f"{label:<10} {mark.commit[:12]}  {_when(mark.time)}" if mark else f"{label:<10} -")
    if status.attempted is not None:
        a = status.attempted
        click.echo(f"attempted  {a.commit[:12]}  {_when(a.time)}  {a.result}")
        for error in a.errors:
            click.echo(f"           {error}")
    if status.remote_error is not None:
        since = _when(status.remote_error.since)
        click.echo(f"remote     unreachable since {since}: {status.remote_error.message}")
    if status.models:
        click.echo("")
        rows = [["MODEL", "WANTED", "LIVE", "STATE", "CHANGED", "ERROR"]]
        rows += [
            [
                name,
                _num(m.wanted),
                _num(m.live),
                m.state,
                _when(m.changed_at) if m.changed_at else "-",
                m.error or "-",
            ]
            for name, m in sorted(status.models.items())
        ]
        from gitreg.cli import output  # noqa: PLC0415 - not needed by a poll

        output.table(rows)
    if status.history:
        click.echo("\nrecent reconciles (newest last)")
        for h in status.history[-10:]:
            what = "; ".join(h.changes + h.errors) or "-"
            click.echo(f"  {_when(h.time)}  {(h.commit or '-')[:12]:<12}  {h.result:<11}  {what}")


def _when(stamp: str) -> str:
    return stamp[:19] + "Z"


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)
