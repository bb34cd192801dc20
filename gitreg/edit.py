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
    """``text`` with top-level ``key`` set to ``value`` (appended at the end if absent)."""
    expected = _data(text)
    expected[key] = value
    lines = text.splitlines(keepends=True)
    pattern = _line_pattern(key)
    for index, line in enumerate(lines):
        match = pattern.match(line.rstrip("\n"))
        if match and match["value"].strip():
            newline = "\n" if line.endswith("\n") else ""
            lines[index] = f"{match['key']}{match['sep']}{_scalar(value)}{match['rest']}{newline}"
            return _checked("".join(lines), expected)
    if key not in _data(text) and _is_block_mapping(text):
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return _checked(f"{prefix}{_scalar_line(key, value)}", expected)
    return yamlio.dump(expected)


def remove_entry(text: str, key: str) -> str:
    """``text`` without top-level ``key`` (unchanged if absent)."""
    expected = _data(text)
    if key not in expected:
        return text
    del expected[key]
    lines = text.splitlines(keepends=True)
    pattern = _line_pattern(key)
    kept = [line for line in lines if not pattern.match(line.rstrip("\n"))]
    if len(kept) == len(lines) - 1:
        return _checked("".join(kept), expected)
    return yamlio.dump(expected) if expected else ""


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
