"""``gitreg audit --format json`` writes each row with json's C encoder a value at a time: the text is the
one ``json.dumps(row, indent=2)`` indented by four spaces gives, for any row an audit entry makes."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from gitreg.cli.history import _json_row
from gitreg.ops.history import AuditEntry, StageChange

CHANGE = StageChange(
    stage="production",
    model="fraud",
    from_version=None,
    to_version=3,
    commit="a" * 40,
    date="2026-01-01T00:00:00+00:00",
    pull_request=12,
    author='Zoë "Z" Ämter <z@example.com>',
    merged_by=None,
    direct_push=True,
    subject="Promote\tfraud@3 \\ to production\n\u2028 \U0001f600",
)


@pytest.mark.parametrize(
    "flags", [[], ["direct-push"], ["direct-push", "unconfirmed", "invalid"]], ids=["none", "one", "three"]
)
@pytest.mark.parametrize("verdict", ["pass", 'fail: stages/production.yaml:1:1: stage-entry: "x"'])
def test_a_row_is_what_json_dumps_indent_2_gives(flags: list[str], verdict: str) -> None:
    row: dict[str, Any] = AuditEntry(CHANGE, "sha256:" + "0" * 64, 2**40, verdict, flags).as_dict()
    assert _json_row(row) == textwrap.indent(json.dumps(row, indent=2), "    ")
    row.update(digest=None, size=None, to_version=None, pull_request=None, review="none")
    assert _json_row(row) == textwrap.indent(json.dumps(row, indent=2), "    ")
    assert _json_row({}) == textwrap.indent(json.dumps({}, indent=2), "    ")
