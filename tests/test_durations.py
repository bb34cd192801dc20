"""gitreg.durations: the one grammar of durations, and the retention periods a registry may write."""

from __future__ import annotations

import pytest

from gitreg.durations import retention_problem, retention_seconds, seconds

DAY = 86400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("45s", 45),
        ("30m", 1800),
        ("12h", 43200),
        ("7d", 7 * DAY),
        ("2w", 14 * DAY),
        (" 3d ", 3 * DAY),
    ],
)
def test_the_grammar(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["", "d", "1.5d", "7 d", "-1d", "7y", "1e3", "٣d", "36501d"])
def test_not_durations(text: str) -> None:
    assert seconds(text) is None


@pytest.mark.parametrize(
    ("text", "expected"), [("0d", 0), ("180d", 180 * DAY), ("26w", 182 * DAY), ("36500d", 36500 * DAY)]
)
def test_retention_periods(text: str, expected: int) -> None:
    assert retention_problem(text) is None
    assert retention_seconds(text) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "6m",
            "'6m' is not a retention period: months and years vary in length (and m would be minutes), so "
            "write days or weeks, such as 180d",
        ),
        (
            "2 years",
            "'2 years' is not a retention period: months and years vary in length (and m would be "
            "minutes), so write days or weeks, such as 730d",
        ),
        (180, "'180' has no unit: write days or weeks, such as 180d"),
        ("180", "'180' has no unit: write days or weeks, such as 180d"),
        ("12h", "'12h' is not a retention period: write days or weeks, such as 180d or 26w"),
        ("5300w", "'5300w' is longer than a century: write at most 36500d"),
        (True, "'True' is not a retention period: write days or weeks, such as 180d or 26w"),
        (None, "'None' is not a retention period: write days or weeks, such as 180d or 26w"),
        (
            "x" * 100,
            "'xxxxxxxxxxxxxxxxxxx...' is not a retention period: write days or weeks, such as 180d or 26w",
        ),
    ],
)
def test_not_retention_periods(value: object, problem: str) -> None:
    assert retention_problem(value) == problem
