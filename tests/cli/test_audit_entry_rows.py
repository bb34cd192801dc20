"""``audit --format json`` writes each entry's row field by field (``history_report._entry_row``), without
building its dicts: the bytes are the old formula's (``json.dumps(redact_data(entry.as_dict()), indent=2)``
indented) for entries of every odd value (non-ASCII, quotes, control characters, lone surrogates,
credentials to redact, None, values of another type than the fields declare), and a report of many rows,
written in chunks, is the old report byte for byte."""

from __future__ import annotations

import json
import random
import tempfile
from typing import Any

import pytest

from cli.test_audit_rows_identical import ODD_VALUES, SECRET_URL, old_audit_row
from gitreg.credentials import redact_data
from gitreg.history_report import _entry_row, _json
from gitreg.ops.history import AuditEntry, StageChange

#: Values of the types each field declares, odd ones first.
TEXTS = [v for v in ODD_VALUES if isinstance(v, str)] + ["m0", "staging", "pass", "abc123" * 7]
NUMBERS = [None, 0, 1, 7, 2**70, -1]
#: Odd flags: anything ``AuditEntry.as_dict`` takes a list of.
ITERABLE = [v for v in ODD_VALUES if isinstance(v, list | tuple | str | dict)]
FLAGS = [[], ["direct-push"], ["direct-push", "unconfirmed", "invalid"], [SECRET_URL], ['é "x" \\']]


def _entry(rng: random.Random, odd: float) -> AuditEntry:
    """An entry of typed values; with chance ``odd`` per field, any value at all (the general way)."""

    def pick(choices: list[Any], odd_ones: list[Any] = ODD_VALUES) -> Any:
        return rng.choice(odd_ones) if rng.random() < odd else rng.choice(choices)

    change = StageChange(
        stage=pick(TEXTS),
        model=pick(TEXTS),
        from_version=pick(NUMBERS),
        to_version=pick(NUMBERS),
        commit=pick(TEXTS),
        date=pick(TEXTS),
        pull_request=pick(NUMBERS),
        author=pick(TEXTS),
        merged_by=pick([None, *TEXTS]),
        direct_push=pick([True, False]),
        subject=pick(TEXTS),
        review=pick(TEXTS),
    )
    return AuditEntry(change, pick([None, *TEXTS]), pick(NUMBERS), pick(TEXTS), pick(FLAGS, ITERABLE))


@pytest.mark.parametrize(("seed", "odd"), [(0, 0.0), (1, 0.0), (2, 0.05), (3, 0.3)])
def test_entry_rows_are_the_old_formula(seed: int, odd: float) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible entries, not a secret
    for _ in range(1500):
        entry = _entry(rng, odd)
        assert _entry_row(entry) == old_audit_row(entry.as_dict()), entry


@pytest.mark.parametrize("count", [0, 1, 255, 256, 257, 700])
def test_a_report_is_the_old_report(count: int) -> None:
    rng = random.Random(count)  # noqa: S311 - see above
    entries = [_entry(rng, 0.02) for _ in range(count)]
    head: dict[str, str | None] = {"ref": "main", "since": None, "until": "2026-01-01"}
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rows:
        parts = _json(iter(entries), rows, head, lambda: "none")
        text = ""
        for part in parts:
            if isinstance(part, str):
                text += part
            else:
                part.seek(0)
                text += part.read()
    report = {**head, "evidence": "none", "changes": [e.as_dict() for e in entries]}
    assert text == json.dumps(redact_data(report), indent=2) + "\n"
