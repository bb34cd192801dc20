"""``gitreg.yamlblock``'s quick line reader (``_read_quick_line``: one regular expression for the commonest
value forms) reads a line exactly as the general line reader does (``_read_line``, itself held to the loader
by tests/test_yamlblock.py), or leaves it to it: held to it on tens of thousands of generated lines, every
tricky character in every place, and the documents made of them to the loader."""

from __future__ import annotations

import random

import pytest
from test_yamlblock import SCALARS, _same

from gitreg import yamlblock, yamlio
from gitreg.errors import ManifestError

#: Characters that change how YAML reads a plain scalar, or that the quick forms take.
ALPHABET = "aAzZfFnNtTyYoOxXeE_09185-./:+~@<>()=;$^?,#'\"\\ !&*|%`[]{}\t"
KEYS = ["a", "digest", "size", "true", "null", "on", "x.y", "_k", "K-1", "e", "n"]
VALUES = [
    *SCALARS,
    "sha256:" + "ab01" * 16,
    "023bb691347f055003f1bab05732d8b1e1645cff",
    "1e3",
    "12e4",
    "12e4b",
    "0x1f",
    "1_0",
    "1.5e+3",
    "0.8100",
    "-0.0",
    "00.5",
    "-" + "9" * 18,
    "9" * 19,
    "https://git.example.com/ml/train",
    "Bench User <bench@example.com>",
    "Version 1 of model-000",
    "a: b",
    "a:",
    "a :b",
    "a::b",
    "a #b",
    "a#b",
    "/x",
    "_x",
    '"quoted"',
    "'single'",
    "'it''s'",
    '"esc\\"aped"',
    '""',
    "''",
]


def _lines(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - reproducible lines, not a secret
    lines = []
    for _ in range(count):
        value = rng.choice(VALUES)
        if rng.random() < 0.7:  # a tricky character inserted, substituted or appended
            at = rng.randrange(len(value) + 1)
            cut = rng.choice([0, 1])
            value = value[:at] + rng.choice(ALPHABET) + value[at + cut :]
        elif rng.random() < 0.5:
            value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8)))
        indent = " " * rng.choice([0, 0, 2, 4])
        colon = rng.choice([": ", ": ", ":  ", ":", ":\t"])
        lines.append(f"{indent}{rng.choice(KEYS)}{colon}{value}{rng.choice(['', '', ' '])}")
    return lines


@pytest.mark.parametrize("seed", range(4))
def test_quick_lines_are_read_as_the_general_reader_reads_them(seed: int) -> None:
    quick = 0
    for line in _lines(seed, 12000):
        read = yamlblock._read_quick_line(line)
        if read is not None:
            quick += 1
            expected = yamlblock._read_line(line)
            assert isinstance(expected, tuple), line
            assert read[:2] == expected[:2] and _same(read[2], expected[2]), line
    assert quick > 800  # the quick forms are reached


@pytest.mark.parametrize("seed", range(2))
def test_documents_of_quick_lines_agree_with_the_loader(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - see above
    lines = [line.lstrip(" ") for line in _lines(seed + 100, 6000)]
    read = 0
    for start in range(0, len(lines), 6):
        text = "\n".join(lines[start : start + rng.randint(1, 6)]) + "\n"
        yamlblock._LINES.clear()  # each line read afresh, by the quick reader where it can
        quick = yamlblock.data(text)
        if quick is None:
            continue
        read += 1
        try:
            full = yamlio.load(text, "f.yaml").data
        except ManifestError:
            pytest.fail(f"the loader refuses what the quick reader read: {text!r}")
        assert _same(quick, full), text
    assert read > 40


@pytest.mark.parametrize(
    "line",
    [
        "  digest: sha256:" + "ab01" * 16,
        "    commit: 023bb691347f055003f1bab05732d8b1e1645cff",
        "size: 1000001",
        "auc: 0.8100",
        'created_at: "2026-01-02T10:00:00Z"',
        "created_at: '2026-01-02T10:00:00Z'",
        "description: Version 1 of model-000",
        "repo: https://git.example.com/ml/train",
        "created_by: Bench User <bench@example.com>",
        "model: model-000",
    ],
)
def test_the_commonest_lines_take_the_quick_way(line: str) -> None:
    assert yamlblock._read_quick_line(line) == yamlblock._read_line(line) != None  # noqa: E711
