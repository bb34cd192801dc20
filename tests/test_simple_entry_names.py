"""``stage_history.simple_entry`` looks for credentials in a plain line's name alone, once per name: each
credential pattern finds something in ``name: N`` exactly when it finds something in ``name`` (the ": "
and the digits after a name are never part of a match), so the answer is the one a search of the whole
line gives. Held here to that search for every pattern, on names made to match it and on ordinary ones."""

from __future__ import annotations

import pytest

from gitreg import stage_history
from gitreg.credentials import CREDENTIAL_PATTERNS
from gitreg.filesystem import is_name

#: Names that hold something credential-like (in the characters a plain line's name may have), and ones
#: that come close.
NAMES = [
    "aws_secret_access_key" + "a" * 40,
    "aws-secret-access-key" + "b" * 40,
    "awssecretaccesskey" + "0" * 40,
    "aws_secret_access_key",
    "aws_secret_access_key" + "a" * 39,
    "ghp_" + "a" * 36,
    "gho_" + "1" * 40,
    "ghp_" + "a" * 35,
    "github_pat_" + "a" * 22,
    "glpat-" + "a" * 20,
    "glpat-" + "a" * 19,
    "xoxb-" + "a" * 10,
    "xoxp-0123456789",
    "a.ghp_" + "a" * 36,
    "model-420",
    "fraud",
    "m0",
    "x" * 64,
]
DIGITS = ["1", "7", "10", "123456789", "9" * 18, "1" + "0" * 17]


def _searched_in_the_whole_line(line: str) -> tuple[str, int] | None:
    """``simple_entry`` as it was: every credential pattern searched in the whole line."""
    match = stage_history._SIMPLE_LINE.fullmatch(line)
    if match is None or match.group(1) in stage_history._NOT_STRINGS or not is_name(match.group(1)):
        return None
    if any(pattern.search(line) for _what, pattern in CREDENTIAL_PATTERNS):
        return None
    return match.group(1), int(match.group(2))


@pytest.mark.parametrize("name", NAMES)
def test_a_credential_in_a_name_is_found_as_in_the_whole_line(name: str) -> None:
    for digits in DIGITS:
        line = f"{name}: {digits}"
        for _what, pattern in CREDENTIAL_PATTERNS:
            assert (pattern.search(line) is None) == (pattern.search(name) is None), (pattern, line)
        assert stage_history.simple_entry(line) == _searched_in_the_whole_line(line), line


def test_names_that_hold_a_credential_are_not_plain() -> None:
    held = [name for name in NAMES if any(p.search(name) for _what, p in CREDENTIAL_PATTERNS)]
    assert len(held) >= 8  # the names above do reach the patterns
    for name in held:
        if is_name(name):
            assert stage_history.simple_entry(f"{name}: 1") is None
    assert stage_history.simple_entry("model-420: 3") == ("model-420", 3)
