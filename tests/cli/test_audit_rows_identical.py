"""``audit --format json`` and ``history --json`` write rows with one call of json's C encoder per run of
scalars, and redact only a row whose text holds ``://``: the bytes are the old formulas' for any row, odd
values included (non-ASCII, quotes, control characters, credentials in a subject or a verdict, None, empty
lists, floats, nested values), and for a real history with a credential in a commit message."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gitreg.credentials import redact_data
from gitreg.formatting import finite
from gitreg.gitrepo import GitRepo
from gitreg.history_report import _json_list, _json_row, _redacted_row
from gitreg.ops.history import audit, stage_history
from testing import git, run

SECRET_URL = "https://alice:hunter2@git.example.com/org/registry.git"  # noqa: S105 - a fake one, to redact

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**70,
    "",
    "plain",
    'quotes " and \\ backslash',
    "tab\tnew\nline\r\x00\x1f\x7f",
    "Zoë Ämter 日本 \u2028\u2029 \U0001f600",
    "\ud800 lone surrogate",
    f"Merge pull request #3 from {SECRET_URL}",
    "see https://example.com/path?token=abc&x=1 and ftp://u:p@h/",
    "no url :// here",
    "fail: stages/production.yaml:1:1: stage-entry: '{x}' is not a model",
    [],
    ["direct-push"],
    ["direct-push", "unconfirmed", "invalid"],
    [SECRET_URL, None, 3, "é"],
    1.5,
    float("nan"),
    float("inf"),
    {},
    {"a": 1},
    [[1]],
    [{"a": SECRET_URL}],
    (1, 2),
]


def old_audit_row(row: dict[str, Any]) -> str:
    """What audit wrote for a row before: redacted, then ``json.dumps(indent=2)`` indented four spaces."""
    return textwrap.indent(json.dumps(redact_data(row), indent=2), "    ")


def old_history(rows: list[dict[str, Any]]) -> str:
    """What ``history --json`` printed before (``output.print_json``), without its newline."""
    return json.dumps(finite(redact_data(rows)), indent=2, sort_keys=False, allow_nan=False)


def rows(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible rows, not a secret
    keys = ["stage", "model", "author", "subject", "flags", "verdict", "size", "é", 'k"q']
    made = []
    for _ in range(count):
        row = {key: rng.choice(ODD_VALUES) for key in rng.sample(keys, rng.randint(0, len(keys)))}
        made.append(row)
    return made


@pytest.mark.parametrize("seed", range(4))
def test_rows_are_the_old_formulas(seed: int) -> None:
    for row in rows(seed, 400):
        assert _redacted_row(row) == old_audit_row(row), row
        assert _json_row(row) == textwrap.indent(json.dumps(row, indent=2), "    "), row
        assert _json_list([row]) == old_history([row]), row


@pytest.mark.parametrize("seed", range(4))
def test_lists_are_the_old_formula(seed: int) -> None:
    made = rows(seed + 10, 30)
    plain = [r for r in made if not any(type(v) in (float, dict, tuple) for v in r.values())]
    assert _json_list(plain) == old_history(plain)
    assert _json_list([]) == old_history([]) == "[]"
    for odd in ({"x": [float("inf")]}, {"x": float("nan")}, {"x": (1, 2)}):  # print_json's null and list
        assert _json_list([*plain, odd]) == old_history([*plain, odd])


def test_the_commands_print_what_they_printed(registry: Path, tmp_path: Path) -> None:
    """A real history whose commit messages and author hold odd text and a credential: the bytes audit and
    history print are the old formulas' over the library's entries."""
    art = tmp_path / "model.bin"
    art.write_bytes(b"weights")
    assert run("register", "fraud", art, cwd=registry).exit_code == 0
    for number, subject in enumerate(['Zoë "fixes" \\ it 日本', f"Merge pull request #2 from {SECRET_URL}"]):
        (registry / "stages" / "staging.yaml").write_text(
            f"fraud: 1\nrisk{number}: 1\n" if number else "fraud: 1\n"
        )
        git(registry, "add", "stages/staging.yaml")
        git(registry, "-c", f"user.name=Ann {SECRET_URL}", "commit", "--quiet", "-m", subject)
    repo = GitRepo.open(registry)
    entries = [e.as_dict() for e in audit(repo, "main")]
    assert any(SECRET_URL in e["subject"] for e in entries)  # there is something to redact
    report = {"ref": "main", "since": None, "until": None, "evidence": "none", "changes": entries}
    done = run("audit", "--format", "json", cwd=registry)
    assert done.exit_code == 0, done.stderr
    assert done.stdout == json.dumps(redact_data(report), indent=2) + "\n"
    assert "hunter2" not in done.stdout
    changes = [c.as_dict() for c in stage_history(repo, "main", "fraud")]
    done = run("history", "fraud", "--json", cwd=registry)
    assert done.exit_code == 0, done.stderr
    assert done.stdout == old_history(changes) + "\n"
    assert "hunter2" not in done.stdout
