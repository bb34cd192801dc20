"""The program's entry point (``gitreg``, ``python -m gitreg``): the commonest invocations answered without
click; everything else handed, untouched, to the click command line in ``gitreg.cli``, which defines every
command and option.

``show REF``, ``list``, ``--version``, ``controller --once`` finding nothing new and the plain git hook
(``hook pre-commit``) run on every read, poll and commit, where importing click costs about as much as the
work. This module recognises exactly the forms written below, with the options those commands have, and
answers them as the click path does, byte for byte: the same output, the same one-line ``error: ...`` and
exit code (``tests/test_entry.py`` runs both paths over the same invocations). Any other word, option or
form (``--help``, ``--stage=S``, an option added later, a value click would refuse, shell completion, a
stream click would re-wrap) goes to click, which then behaves as it always has. ``pull`` is answered by
``gitreg.entry_pull``, ``history`` and ``audit`` by ``gitreg.entry_history`` (``tests/test_entry_pull.py``,
``tests/test_entry_history.py``)."""

from __future__ import annotations

import codecs
import errno
import io
import os
import re
import stat
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from gitreg import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from typing import Any

    from gitreg.controller.events import Event

Command = Callable[[], int | None]  # None: work the full command does, through click

#: What click's ``echo`` removes from text written to something that is not a terminal (click 8.5's
#: ``_compat._ansi_re``); an escape sequence in a hostile name is dropped alike on both paths.
_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")
#: Setting it asks click for shell completion (click's ``_{PROG_NAME}_COMPLETE``).
_COMPLETE_VAR = "_GITREG_COMPLETE"


def main() -> None:
    """``gitreg``: the quick answer when this module knows the invocation, else the click command line."""
    command = plan(sys.argv[1:])
    if command is None:
        from gitreg.cli import main as click_main  # noqa: PLC0415 - everything else: click, as always

        click_main()
        return
    code = run(command)
    if code is None:  # the quick path found work it leaves to the full command
        from gitreg.cli import main as click_main  # noqa: PLC0415

        click_main()
        return
    import gc  # noqa: PLC0415

    gc.freeze()  # the process ends: its last collection need not walk every object it made (2-4 ms)
    sys.exit(code)


def plan(args: list[str]) -> Command | None:
    """What to run for ``args`` without click, or None: click's to answer."""
    if _COMPLETE_VAR in os.environ or not _streams_as_click_uses_them():
        return None
    if not all(_encodable(a) for a in args):
        return None
    directory = "."
    if args[:1] == ["-C"]:
        if len(args) < 2 or not _plain(args[1]) or not _directory_as_click_takes_it(args[1]):
            return None
        directory, args = args[1], args[2:]
    if args == ["--version"]:
        return partial(_version)
    if not args:
        return None
    name, rest = args[0], args[1:]
    if name == "show":
        return _show_plan(directory, rest)
    if name == "list":
        return _list_plan(directory, rest)
    if name == "controller":
        return _controller_plan(rest)
    if name == "pull":
        from gitreg.entry_pull import pull_plan  # noqa: PLC0415 - only pull needs it

        return pull_plan(directory, rest)
    if name in ("history", "audit"):
        from gitreg import entry_history  # noqa: PLC0415 - only these need it

        return (entry_history.history_plan if name == "history" else entry_history.audit_plan)(
            directory, rest
        )
    if name == "hook" and rest[:1] == ["pre-commit"]:
        return _hook_plan(directory, rest[1:])
    return None


# --- what click would have made of the words ------------------------------------------------------------


def _plain(word: str) -> bool:
    """A value or argument click takes as it is: not empty, not an option or ``-``."""
    return bool(word) and not word.startswith("-")


def _name_like(word: str) -> bool:
    """Not a URI or a path (``models:/fraud@champion``, ``./x``): what no model name holds is click's."""
    return ":" not in word and "/" not in word


def _encodable(word: str) -> bool:
    """Bytes that were no UTF-8 (surrogate escapes) make click's error messages fail: click's to handle."""
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _directory_as_click_takes_it(path: str) -> bool:
    """``click.Path(file_okay=False)``: something that is not there passes (the command says more), a file
    or an unreadable folder is click's usage error."""
    try:
        mode = Path(path).stat().st_mode
    except (OSError, ValueError):
        return True
    return not stat.S_ISREG(mode) and os.access(path, os.R_OK)


def _streams_as_click_uses_them() -> bool:
    """click writes to sys.stdout and sys.stderr as they are when they are text streams with an encoding
    that is not ASCII; otherwise it wraps them, and the quick path leaves the writing to it."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or stream.errors is None:
            return False
        try:
            if codecs.lookup(stream.encoding or "ascii").name == "ascii":
                return False
        except LookupError:
            return False
    return True


def _options(
    args: list[str], values: dict[str, str | None], flags: dict[str, bool], positional: list[str] | None
) -> bool:
    """Fill ``values`` (each ``--name VALUE`` once), ``flags`` (each once) and ``positional`` (plain words)
    from ``args``; False at anything else."""
    i = 0
    while i < len(args):
        word = args[i]
        if word in values and values[word] is None and i + 1 < len(args) and _plain(args[i + 1]):
            values[word] = args[i + 1]
            i += 2
        elif word in flags and not flags[word]:
            flags[word] = True
            i += 1
        elif positional is not None and _plain(word):
            positional.append(word)
            i += 1
        else:
            return False
    return True


# --- the commands ---------------------------------------------------------------------------------------


def _version() -> int:
    echo(f"gitreg, version {__version__}")
    return 0


def _show_plan(directory: str, args: list[str]) -> Command | None:
    flags, refs = {"--json": False}, list[str]()
    if not _options(args, {}, flags, refs) or len(refs) != 1 or not _name_like(refs[0]):
        return None
    return partial(_show, directory, refs[0], flags["--json"])


def _show(directory: str, ref: str, as_json: bool) -> int:
    """gitreg.cli.read's ``show``."""
    from gitreg.gitfind import LocateAhead  # noqa: PLC0415 - what this command needs, when it runs

    with LocateAhead(Path(directory)):  # git finds the repository while the rest is imported
        from gitreg import summary  # noqa: PLC0415
        from gitreg.registry import Registry  # noqa: PLC0415

        data = summary.shown(Registry.open(directory), ref)
    if as_json:
        print_json(data)
    else:
        echo(summary.shown_yaml(data), nl=False)
    return 0


def _list_plan(directory: str, args: list[str]) -> Command | None:
    values: dict[str, str | None] = {"--stage": None}
    flags, models = {"--json": False}, list[str]()
    if not _options(args, values, flags, models) or len(models) > 1 or not all(map(_name_like, models)):
        return None
    return partial(_list, directory, models[0] if models else None, values["--stage"], flags["--json"])


def _list(directory: str, model: str | None, stage: str | None, as_json: bool) -> int:
    """gitreg.cli.read's ``list``."""
    import gc  # noqa: PLC0415

    from gitreg.gitfind import LocateAhead  # noqa: PLC0415

    collecting = gc.isenabled()
    gc.disable()  # a listing makes thousands of small objects and no garbage: 2-3 ms of collections at 10,000
    try:
        with LocateAhead(Path(directory)):  # git finds the repository while the rest is imported
            return _listing(directory, model, stage, as_json)
    finally:
        if collecting:
            gc.enable()


def _listing(directory: str, model: str | None, stage: str | None, as_json: bool) -> int:
    from gitreg import summary  # noqa: PLC0415
    from gitreg.formatting import size, table_lines  # noqa: PLC0415
    from gitreg.registry import Registry  # noqa: PLC0415

    reg = Registry.open(directory)
    if model is None:
        if as_json:
            print_json([m.as_dict() for m in summary.list_models(reg, stage)])
            return 0
        rows = [
            [name, str(latest or "-"), str(count), _stages_text(stages)]
            for name, latest, count, stages in summary.model_rows(reg, stage)
        ]
        if rows:  # click's line by line, in one write
            echo("\n".join(table_lines([["MODEL", "LATEST", "VERSIONS", "STAGES"], *rows])))
        return 0
    items = [v.row() for v in summary.list_versions(reg, model, stage)]
    if as_json:
        print_json(items)
    elif items:
        header = ["VERSION", "STATUS", "STAGES", "CREATED", "SIZE", "DIGEST", "METRICS"]
        rows = [
            [
                str(i["version"]),
                i["status"],
                ",".join(i["stages"]) or "-",
                i["created_at"],
                size(i["size"]),
                i["digest"][:19],
                " ".join(f"{k}={v}" for k, v in i["metrics"].items()) or "-",
            ]
            for i in items
        ]
        echo("\n".join(table_lines([header, *rows])))
    return 0


def _stages_text(stages: dict[str, int]) -> str:
    return " ".join([f"{s}={v}" for s, v in stages.items()]) or "-"  # gitreg.cli.read's


def _controller_plan(args: list[str]) -> Command | None:
    """``controller --once`` with the options that decide what a poll with nothing new says."""
    values: dict[str, str | None] = dict.fromkeys(
        ("--repo", "--stage", "--target", "--branch", "--keep", "--log-format", "--allowed-signers")
    )
    flags = dict.fromkeys(("--once", "--prune", "--verify-signatures", "--allow-non-fast-forward"), False)
    if not _options(args, values, flags, None) or not flags["--once"]:
        return None
    repo, stage, target = values["--repo"], values["--stage"], values["--target"]
    keep, log_format = values["--keep"] or "2", values["--log-format"] or "text"
    signers = values["--allowed-signers"]
    if repo is None or stage is None or target is None or not _directory_as_click_takes_it(target):
        return None
    if not re.fullmatch(r"[1-9][0-9]{0,8}", keep) or log_format not in ("text", "json"):
        return None
    if not flags["--verify-signatures"] and (signers is not None or flags["--allow-non-fast-forward"]):
        return None  # click's usage errors
    if signers is not None and (Path(signers).is_dir() or not _readable_or_absent(signers)):
        return None
    if "GITREG_WEBHOOK_SECRET" in os.environ:
        return None
    from gitreg.controller.config import ControllerConfig  # noqa: PLC0415
    from gitreg.layout import DEFAULT_BRANCH  # noqa: PLC0415

    def config() -> ControllerConfig:  # built when run: a bad value is an error line, as on the click path
        return ControllerConfig(
            repo,
            stage,
            Path(target),
            branch=values["--branch"] or DEFAULT_BRANCH,
            keep=int(keep),
            prune=flags["--prune"],
            verify_signatures=flags["--verify-signatures"],
            allowed_signers=Path(signers).absolute() if signers else None,
            allow_non_fast_forward=flags["--allow-non-fast-forward"],
        )

    return partial(_poll, config, log_format)


def _readable_or_absent(path: str) -> bool:
    return not Path(path).exists() or os.access(path, os.R_OK)


def _poll(config: Callable[[], Any], log_format: str) -> int | None:
    """gitreg.cli.controller's ``--once`` up to its quick answer; None when there is work (the full
    controller, through click, then looks again)."""
    from gitreg.controller.poll import glance  # noqa: PLC0415 - the standard library and git

    def log(event: Event) -> None:
        echo(event.json() if log_format == "json" else event.text(), err=True)

    seen = glance(config(), log)
    if seen.unchanged and seen.commit:
        echo(f"unchanged {seen.commit[:12]}: no change")
        return 0
    return None


def _hook_plan(directory: str, args: list[str]) -> Command | None:
    flags, files = {"--all": False}, list[str]()
    if not _options(args, {}, flags, files):
        return None
    return partial(_hook, directory, flags["--all"], tuple(files))


def _hook(directory: str, everything: bool, files: tuple[str, ...]) -> int:
    """gitreg.cli.hooks's ``hook pre-commit``."""
    from gitreg.ops import hooks  # noqa: PLC0415
    from gitreg.validate import report as reports  # noqa: PLC0415

    report = hooks.validate_index(Path(directory), everything, files)
    echo(reports.text(report), nl=False, err=bool(report.errors))
    return 1 if report.failed() else 0


# --- writing, and failing, as gitreg.cli does -----------------------------------------------------------


def echo(text: str, err: bool = False, nl: bool = True) -> None:
    """click.echo: the text and a newline, escape sequences dropped unless to a terminal, flushed."""
    stream = sys.stderr if err else sys.stdout
    out = text + "\n" if nl else text
    if out:
        try:
            tty = stream.isatty()
        except Exception:  # click's isatty: a stream that cannot say is no terminal
            tty = False
        stream.write(out if tty else _ANSI.sub("", out))
    stream.flush()


def print_json(data: Any) -> None:
    """gitreg.cli.output.print_json."""
    import json  # noqa: PLC0415

    from gitreg.credentials import redact_data  # noqa: PLC0415
    from gitreg.formatting import finite  # noqa: PLC0415

    echo(json.dumps(finite(redact_data(data)), indent=2, sort_keys=False, allow_nan=False))


def run(command: Command) -> int | None:
    """``command()``'s exit code, every failure turned into one ``error:`` line as gitreg.cli's group does
    (click's own handling of an interrupt and of a closed pipe included)."""
    try:
        try:
            return command()
        except (EOFError, KeyboardInterrupt):
            echo("", err=True)  # click closes the terminal's ^C echo, then reports "aborted"
            return _fail("aborted", 130)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            sys.stdout = _Pacified(sys.stdout)
            sys.stderr = _Pacified(sys.stderr)
            return 1
    except Exception as exc:
        from gitreg.errors import GitregError  # noqa: PLC0415 - `--version` needs no dataclasses

        if isinstance(exc, GitregError):
            return _fail(str(exc), exc.exit_code)
        # a bug: still one line, with a way to see more
        if os.environ.get("GITREG_DEBUG"):
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        return _fail(f"internal error: {type(exc).__name__}: {exc} (set GITREG_DEBUG=1 for details)", 3)


def _fail(message: str, code: int) -> int:
    from gitreg.credentials import redact  # noqa: PLC0415

    echo(f"error: {redact(' '.join(message.split()))}", err=True)
    return code


class _Pacified:
    """A stream whose flush ignores a closed pipe (click's _PacifyFlushWrapper): ``gitreg list | head``
    ends quietly."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


__all__ = ["echo", "main", "plan", "print_json", "run"]
