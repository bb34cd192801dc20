"""``gitreg history MODEL`` and ``gitreg audit`` answered by the entry point (``gitreg.entry``) without
click, as ``gitreg.cli.history`` answers them: ``history MODEL [--stage S] [--ref R] [--json]`` and ``audit
[--since DATE] [--until DATE] [--format md|json] [--ref R]``, with what they print from
``gitreg.history_report``. ``--forge``, a date or format click would refuse, ``--format=json`` or anything
else stays click's."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from gitreg.entry import Command, _options, echo
from gitreg.layout import AUDIT_PATHS, PULL_REF_PREFIXES, history_paths

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from gitreg.gitrepo import GitRepo


def history_plan(directory: str, args: list[str]) -> Command | None:
    values: dict[str, str | None] = {"--stage": None, "--ref": None}
    flags, models = {"--json": False}, list[str]()
    if not _options(args, values, flags, models) or len(models) != 1:
        return None
    return partial(_history, directory, models[0], values["--stage"], values["--ref"], flags["--json"])


def _history(directory: str, model: str, stage: str | None, ref: str | None, as_json: bool) -> int:
    """gitreg.cli.history's ``history``."""
    _no_collection()
    repo, branch = _walking(directory, ref, history_paths(stage), oldest_first=False)
    try:
        from gitreg.history_report import history_of  # noqa: PLC0415 - loaded while git works out the log

        echo(history_of(repo, branch, model, stage, None, as_json))
    finally:
        repo.close()
    return 0


def _walking(
    directory: str, ref: str | None, paths: list[str], oldest_first: bool = True, full_diff: bool = False
) -> tuple[GitRepo, str]:
    """The repository and the branch whose history counts, its walk's ``git log`` started (oldest first, or
    newest first for ``history``): git works the log out while the rest of the command loads."""
    from gitreg.gitrepo import GitRepo  # noqa: PLC0415 - what this command needs, when it runs

    repo = GitRepo.open(Path(directory))
    branch = repo.history_branch(ref)
    repo.start_walk(branch, paths, oldest_first, full_diff)
    repo.prefetch_history_checks(branch, PULL_REF_PREFIXES)  # asked before the walk: answered meanwhile
    return repo, branch


def audit_plan(directory: str, args: list[str]) -> Command | None:
    values: dict[str, str | None] = dict.fromkeys(("--since", "--until", "--format", "--ref"))
    if not _options(args, values, {}, None):
        return None
    fmt = values["--format"] or "md"
    if fmt not in ("md", "json") or not all(_a_date(values[d]) for d in ("--since", "--until")):
        return None  # click's usage errors
    return partial(_audit, directory, values["--since"], values["--until"], fmt, values["--ref"])


def _a_date(value: str | None) -> bool:
    """What ``history_report.when`` reads (anything else is the click command's error to say)."""
    if value is None:
        return True
    from datetime import datetime  # noqa: PLC0415 - only when a date is given

    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _audit(directory: str, since: str | None, until: str | None, fmt: str, ref: str | None) -> int:
    """gitreg.cli.history's ``audit``."""
    _no_collection()
    repo, branch = _walking(directory, ref, AUDIT_PATHS, full_diff=True)
    try:
        from gitreg.history_report import audit_of  # noqa: PLC0415 - loaded while git works out the log

        for text in audit_of(repo, branch, since, until, fmt, None):
            echo(text, nl=False)
    finally:
        repo.close()
    return 0


def _no_collection() -> None:
    """The cyclic collector off for the rest of the command, as for ``list``: a walk and its rows make
    hundreds of thousands of small objects and next to no cyclic garbage (33 objects after a 5,000-change
    audit), so its collections only walk the growing heap again and again (about 17 ms of a first audit;
    the library's walk turns it off only while it runs, ``gitreg.ops.history``). The process ends with the
    command."""
    import gc  # noqa: PLC0415 - loaded already

    gc.disable()
