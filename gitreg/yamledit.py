"""Editing registry files the way a person would: change one top-level ``key: value`` line and keep the
rest of the file (order, comments, blank lines) as it was, so a promotion's diff is one line.

Each edit is checked by parsing the result; where the file is written in a form a line edit cannot handle
(flow style, a multi-line value), the file is rewritten from its data instead: correct, if less tidy."""

from __future__ import annotations

import re
from typing import Any

from gitreg import yamlio
from gitreg.errors import ManifestError


def _line_pattern(key: str) -> re.Pattern[str]:
    quoted = re.escape(key)
    key = rf"(?P<key>{quoted}|'{quoted}'|\"{quoted}\")"
    return re.compile(rf"^{key}(?P<sep>\s*:[ \t]*)(?P<value>[^#\n]*?)(?P<rest>[ \t]*(?:#.*)?)$")


def _scalar(value: Any) -> str:
    """``value`` as it would appear after ``key: `` in block YAML."""
    return yamlio.dump({"k": value}).removeprefix("k: ").rstrip("\n")


def set_entry(text: str, key: str, value: Any) -> str:
    """``text`` with top-level ``key`` set to ``value``.

    A new key goes in name order among the top-level keys, with a blank line on each side: an edit of
    one entry then never touches the lines around another, so promotions of two models merge cleanly."""
    crlf = "\r\n" in text
    plain = text.replace("\r\n", "\n")
    expected = _data(plain)
    expected[key] = value
    lines = plain.splitlines(keepends=True)
    pattern = _line_pattern(key)
    for index, line in enumerate(lines):
        match = pattern.match(line.rstrip("\n"))
        if match and match["value"].strip():
            newline = "\n" if line.endswith("\n") else ""
            lines[index] = f"{match['key']}{match['sep']}{_scalar(value)}{match['rest']}{newline}"
            return _endings(_checked("".join(lines), expected), crlf)
    if key not in _data(plain) and _is_block_mapping(plain):
        return _endings(_checked(_insert(lines, key, value), expected), crlf)
    return _endings(yamlio.dump(expected), crlf)


def _insert(lines: list[str], key: str, value: Any) -> str:
    """``lines`` with ``key: value`` inserted before the first top-level key that sorts after it."""
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    entry = _scalar_line(key, value)
    for index, line in enumerate(lines):
        match = _TOP_KEY.match(line)
        if match and match.group(1).strip("'\"") > key:
            start = index
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1  # keep a comment with the entry it describes
            before = "" if start == 0 or not lines[start - 1].strip() else "\n"
            return "".join([*lines[:start], before, entry, "\n", *lines[start:]])
    content = "".join(lines)
    if not content.strip():
        return entry
    return content + ("" if content.endswith("\n\n") else "\n") + entry


def remove_entry(text: str, key: str) -> str:
    """``text`` without top-level ``key`` (unchanged if absent); a blank line left doubled is removed."""
    crlf = "\r\n" in text
    plain = text.replace("\r\n", "\n")
    expected = _data(plain)
    if key not in expected:
        return text
    del expected[key]
    lines = plain.splitlines(keepends=True)
    pattern = _line_pattern(key)
    index = next((i for i, line in enumerate(lines) if pattern.match(line.rstrip("\n"))), None)
    if index is None:
        return _endings(yamlio.dump(expected) if expected else "", crlf)
    del lines[index]
    if 0 < index < len(lines) and not lines[index].strip() and not lines[index - 1].strip():
        del lines[index]
    elif index == 0 and lines and not lines[0].strip():
        del lines[0]
    elif index == len(lines) and lines and not lines[-1].strip():
        del lines[-1]
    return _endings(_checked("".join(lines), expected), crlf)


_TOP_KEY = re.compile(r"^([^\s#:][^:]*):")


def _endings(text: str, crlf: bool) -> str:
    return text.replace("\n", "\r\n") if crlf else text


def _scalar_line(key: str, value: Any) -> str:
    return yamlio.dump({key: value})


def _is_block_mapping(text: str) -> bool:
    stripped = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return not stripped or not stripped[0].lstrip().startswith("{")


def _data(text: str) -> dict[str, Any]:
    data = yamlio.load(text, "edit").data if text.strip() else {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ManifestError([])
    return dict(data)


def _checked(text: str, expected: dict[str, Any]) -> str:
    """The line-edited text if it parses to ``expected``; otherwise a clean rewrite of ``expected``."""
    try:
        if _data(text) == expected:
            return text
    except ManifestError:
        pass
    return yamlio.dump(expected)
