"""What ``gitreg history`` and ``gitreg audit`` print, written without click: the click commands
(``gitreg.cli.history``) and the entry point's quick path (``gitreg.entry_history``) both print these, so
they print the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from gitreg.credentials import redact, redact_data
from gitreg.formatting import finite, table_lines, timestamp
from gitreg.gitrepo import GitRepo
from gitreg.ops.history import AuditEntry, StageChange, audit_entries, stage_history
from gitreg.ops.review import HOW_TO_CONFIRM, UNCONFIRMED, evidence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see gitreg.values)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any, TextIO

#: The columns of ``gitreg history``'s table.
HISTORY_HEADER = ["DATE", "STAGE", "MODEL", "CHANGE", "PR", "AUTHOR", "MERGED BY", "COMMIT", ""]


def history_text(
    directory: str, model: str, stage: str | None, ref: str | None, forge_name: str | None, as_json: bool
) -> str:
    """What ``gitreg history`` prints (without its last newline)."""
    repo = GitRepo.open(Path(directory))
    return history_of(repo, repo.history_branch(ref), model, stage, forge_name, as_json)


def history_of(
    repo: GitRepo, branch: str, model: str, stage: str | None, forge_name: str | None, as_json: bool
) -> str:
    """``history_text`` of ``branch`` of an open repository (whose walk may have been started)."""
    changes = stage_history(repo, branch, model, stage, evidence(repo, branch, forge_name))
    if as_json:
        return _json_list([c.as_dict() for c in changes])
    if changes:
        return "\n".join(table_lines([HISTORY_HEADER, *(_change_row(c) for c in changes)]))
    return f"no stage changes for {model} on {branch}"


def when(value: str | None, end: bool) -> datetime | None:
    """``--since`` / ``--until``: a date (``end``: its last second) or a time, UTC unless it says; raises
    ValueError if it is neither."""
    if value is None:
        return None
    from datetime import UTC, datetime  # noqa: PLC0415 - only when a date is given

    moment = datetime.fromisoformat(value)
    if len(value) == 10 and end:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit_text(
    directory: str,
    since: str | None,
    until: str | None,
    fmt: str,
    ref: str | None,
    forge_name: str | None,
    dates: Callable[[str | None, bool], datetime | None] = when,
) -> Iterator[str]:
    """What ``gitreg audit`` prints, a piece at a time once the walk is done (``dates`` reads --since and
    --until: ``when``, or the click command's, which says a bad date its way)."""
    repo = GitRepo.open(Path(directory))
    return audit_of(repo, repo.history_branch(ref), since, until, fmt, forge_name, dates)


def audit_of(
    repo: GitRepo,
    branch: str,
    since: str | None,
    until: str | None,
    fmt: str,
    forge_name: str | None,
    dates: Callable[[str | None, bool], datetime | None] = when,
) -> Iterator[str]:
    """``audit_text`` of ``branch`` of an open repository (whose walk may have been started)."""
    import tempfile  # noqa: PLC0415 - audit's alone, not history's

    source = evidence(repo, branch, forge_name)
    entries = audit_entries(repo, branch, dates(since, False), dates(until, True), source)
    # The rows go to temporary files as the walk finds them (memory stays flat however long the history),
    # and the report is printed once whole, its counts on top: a failure halfway prints nothing.
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rows,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as flagged,
    ):
        if fmt == "json":
            parts = _json(entries, rows, {"ref": branch, "since": since, "until": until}, lambda: source.name)
        else:
            parts = _markdown(entries, rows, flagged, branch, since, until)
        for part in parts:
            if isinstance(part, str):
                yield part
                continue
            part.seek(0)
            while chunk := part.read(1 << 16):
                yield chunk


def _version(number: int | None) -> str:
    return "-" if number is None else str(number)


def _who(text: str | None) -> str:
    return (text or "-").split(" <")[0]


def _pull_request(c: StageChange) -> str:
    """``#12`` when the forge confirms it; ``#12 (unconfirmed)`` or ``#12 (refuted)`` for a mere claim."""
    if not c.pull_request:
        return "-"
    return f"#{c.pull_request}" if c.review == "confirmed" else f"#{c.pull_request} ({c.review})"


def _change_row(c: StageChange) -> list[str]:
    """A row of ``history``'s table, each cell redacted (a name or subject may hold a URL's credentials)."""
    return [redact(cell) for cell in _change_cells(c)]


def _change_cells(c: StageChange) -> list[str]:
    return [
        timestamp(c.date),
        c.stage,
        c.model,
        f"{_version(c.from_version)} -> {_version(c.to_version)}",
        _pull_request(c),
        _who(c.author),
        _who(c.merged_by),
        c.commit[:12],
        "DIRECT PUSH" if c.direct_push else "UNCONFIRMED" if c.review == UNCONFIRMED else "",
    ]


Parts = list["str | TextIO"]


def _json(
    entries: Iterator[AuditEntry], rows: TextIO, head: dict[str, str | None], source: Callable[[], str]
) -> Parts:
    """What ``output.print_json`` prints of ``{**head, "evidence": source(), "changes": [...entries]}``,
    each entry written to ``rows`` as it comes."""
    count = 0
    texts: list[str] = []
    for entry in entries:
        texts.append(_entry_row(entry))
        count += 1
        if len(texts) >= _ROWS_WRITTEN:
            rows.write(("" if count == len(texts) else ",\n") + ",\n".join(texts))
            texts.clear()
    if texts:
        rows.write(("" if count == len(texts) else ",\n") + ",\n".join(texts))
    report = json.dumps(redact_data({**head, "evidence": source(), "changes": []}), indent=2)
    if not count:
        return [report + "\n"]
    return [report.removesuffix("[]\n}") + "[\n", rows, "\n  ]\n}\n"]


#: Rows joined before they are written to the temporary file.
_ROWS_WRITTEN = 256
#: What ``json.dumps`` writes of a string (ASCII, as the report is written).
_string = json.encoder.encode_basestring_ascii
#: Between two fields of an entry's row.
_NEXT = ",\n      "


def _entry_row(entry: AuditEntry) -> str:
    """``_redacted_row(entry.as_dict())``, written field by field: each value by the C function json's
    encoder calls for it, without the dicts (an audit writes thousands of rows). A value of another type
    than the entry's fields declare, or a row that needs redacting, is written the general way."""
    c = entry.change
    try:
        text = (
            f'    {{\n      "stage": {_string(c.stage)}{_NEXT}"model": {_string(c.model)}{_NEXT}'
            f'"from_version": {_number(c.from_version)}{_NEXT}"to_version": {_number(c.to_version)}{_NEXT}'
            f'"commit": {_string(c.commit)}{_NEXT}"date": {_string(c.date)}{_NEXT}'
            f'"pull_request": {_number(c.pull_request)}{_NEXT}"author": {_string(c.author)}{_NEXT}'
            f'"merged_by": {_optional(c.merged_by)}{_NEXT}"direct_push": {_boolean(c.direct_push)}{_NEXT}'
            f'"subject": {_string(c.subject)}{_NEXT}"review": {_string(c.review)}{_NEXT}'
            f'"digest": {_optional(entry.digest)}{_NEXT}"size": {_number(entry.size)}{_NEXT}'
            f'"verdict": {_string(entry.verdict)}{_NEXT}"flags": {_flags(entry.flags)}\n    }}'
        )
    except TypeError:
        return _redacted_row(entry.as_dict())
    return text if "://" not in text else _redacted_row(entry.as_dict())


def _boolean(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise TypeError(value)


def _number(value: object) -> str:
    if value is None:
        return "null"
    if type(value) is not int:
        raise TypeError(value)  # a bool, a float: the general way
    return int.__repr__(value)


def _optional(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _flags(flags: object) -> str:
    if type(flags) is not list:
        raise TypeError(flags)
    if not flags:
        return "[]"
    return "[\n        " + ",\n        ".join(map(_string, flags)) + "\n      ]"


def _json_list(rows: list[dict[str, Any]]) -> str:
    """What ``output.print_json(rows)`` prints (without its newline): ``history --json``."""
    texts = []
    for row in rows:
        text = _flat_row(row, "  ")
        if text is None:
            return json.dumps(finite(redact_data(rows)), indent=2, allow_nan=False)  # print_json's own
        texts.append(text if "://" not in text else str(_flat_row(redact_data(row), "  ")))
    return "[\n" + ",\n".join(texts) + "\n]" if texts else "[]"


def _redacted_row(row: dict[str, Any]) -> str:
    """``_json_row(redact_data(row))``. Redaction changes only a string that holds ``://``, and JSON writes
    ``:`` and ``/`` as they are, so a row whose text has none is its own redaction: most rows are encoded
    once, instead of copied value by value first."""
    text = _json_row(row)
    return text if "://" not in text else _json_row(redact_data(row))


def _json_row(row: dict[str, Any]) -> str:
    """``textwrap.indent(json.dumps(row, indent=2), "    ")``: an audit entry in the report's list."""
    text = _flat_row(row, "    ")
    if text is not None:
        return text
    import textwrap  # noqa: PLC0415 - a row with nested values: seldom

    return textwrap.indent(json.dumps(row, indent=2), "    ")


#: Fields one a line, and a list's items one a line, as ``json.dumps(indent=2)`` lays them out inside an
#: object INDENT in: json's C encoder with separators that carry the indentation (``indent=`` makes json
#: encode in Python, at about twice the cost of the whole row here).
_FIELDS = {i: json.JSONEncoder(separators=(f",\n{i}  ", ": ")).encode for i in ("  ", "    ")}
_ITEMS = {i: json.JSONEncoder(separators=(f",\n{i}    ", ": ")).encode for i in ("  ", "    ")}
#: Values the encoder writes alike however it is called (a float is not: print_json writes NaN as null).
_SCALARS = {str, int, bool, type(None)}


def _flat_row(row: dict[str, Any], indent: str) -> str | None:
    """``textwrap.indent(json.dumps(row, indent=2), indent)`` (``indent``: 2 or 4 spaces) of a flat row, its
    values JSON scalars and lists of them: one call of the C encoder for each run of scalars, one for each
    list. None for any other row."""
    fields, items = _FIELDS[indent], _ITEMS[indent]
    parts: list[str] = []
    run: dict[str, Any] = {}
    for key, value in row.items():
        kind = type(value)
        if kind in _SCALARS or (kind is list and not value):
            run[key] = value
        elif kind is list and type(key) is str and all(type(item) in _SCALARS for item in value):
            if run:
                parts.append(fields(run)[1:-1])
                run = {}
            parts.append(f"{fields(key)}: [\n{indent}    {items(value)[1:-1]}\n{indent}  ]")
        else:
            return None
    if run:
        parts.append(fields(run)[1:-1])
    if not parts:
        return f"{indent}{{}}"
    return f"{indent}{{\n{indent}  " + f",\n{indent}  ".join(parts) + f"\n{indent}}}"


_COLUMNS = [
    "landed",
    "stage",
    "model",
    "change",
    "pull request",
    "author",
    "merged by",
    "artifact",
    "validator",
    "flags",
]


def _markdown(
    entries: Iterator[AuditEntry],
    rows: TextIO,
    flagged: TextIO,
    branch: str,
    since: str | None,
    until: str | None,
) -> Parts:
    """The report: counts, the table (written to ``rows`` entry by entry) and the flagged changes (to
    ``flagged``)."""
    count = flags = direct = invalid = unconfirmed = 0
    for e in entries:
        c = e.change
        artifact = f"`{e.digest}` ({e.size} B)" if e.digest else "-"
        cells = [
            c.date,
            c.stage,
            c.model,
            f"{_version(c.from_version)} → {_version(c.to_version)}",
            _pull_request(c),
            _who(c.author),
            _who(c.merged_by),
            artifact,
            e.verdict.replace("|", "/"),
            ", ".join(e.flags) or "ok",
        ]
        rows.write(redact("| " + " | ".join(cells) + " |\n"))  # a name or message may hold a URL's password
        count += 1
        direct += "direct-push" in e.flags
        invalid += "invalid" in e.flags
        unconfirmed += UNCONFIRMED in e.flags
        if e.flags:
            flags += 1
            target = f"{c.stage} {c.model} → {_version(c.to_version)}"
            flagged.write(redact(f"- `{c.commit[:12]}` {target}: {', '.join(e.flags)} ({c.subject})\n"))
    window = f" from {since}" if since else ""
    window += f" until {until}" if until else ""
    lines = [
        f"# Stage changes on {branch}{window}",
        "",
        f"{count} changes; {flags} flagged ({direct} direct pushes, {invalid} failing validation"
        + (f", {unconfirmed} unconfirmed reviews)." if unconfirmed else ")."),
        "",
        *([HOW_TO_CONFIRM, ""] if unconfirmed else []),
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    head = "\n".join(lines) + "\n"
    parts: Parts = [head, rows]
    if flags:
        parts += ["\n## Flagged\n\n", flagged]
    return parts
