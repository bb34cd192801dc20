"""``gitreg.yamlblock``'s layouts: a document of a layout read before is read by one match and one call,
and gives exactly what the line reader (``_read``) gives it, or is left to the line reader.

Each layout is learnt from a real registry file, then held to the line reader and the loader on every
mutation of that file (every tricky character inserted or substituted at every place) and on every kind of
value put in each of its slots; the number of layouts kept is bounded, whatever a history holds."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from test_yamlblock import SAMPLES, TRICKY, _agrees, _places, _same

from gitreg import yamlblock
from testing.synthetic import version_manifest

#: Values of every form for a slot: quick and general ones, ones the loader reads as other than a string,
#: and ones neither reader takes (the loader's to read or refuse).
VALUES = [
    "x", "file", "true", "True", "yes", "no", "null", "~", "1", "-1", "0", "-0", "007", "1_000", "0x1F",
    "0o17", "1e3", "1.5", "-1.5", ".5", "1.", ".inf", "-.inf", ".nan", "1" * 18, "1" * 19, "a b", "a: b",
    "a:b", "a #b", "a#b", "'q'", '"q"', "'it''s'", '"a\\tb"', "[a, b]", "[]", "{}", "{a: 1}", "-", "- a",
    "-a", "?", "? a", "&a x", "*a", "!x y", "|", ">", "@x", "`x", "%x", "x ", "x  ", " x",
    "sha256:" + "0" * 64,
    "https://host/x", "Name <a@b.c>", '"2026-01-01T00:00:00Z"', "2026-01-01", "a,b", "a, b", "[a, [b]]",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_layouts_yet() -> Iterator[None]:
    """Each test starts and ends with no layout learnt (others must not depend on what it learnt)."""
    yamlblock._SHAPES.__init__()  # type: ignore[misc]
    yield
    yamlblock._SHAPES.__init__()  # type: ignore[misc]


def _reads_as_the_lines_do(text: str) -> bool:
    """``data`` gives what the line reader gives (both None, or the same data of the same types)."""
    fast = yamlblock.data(text)
    slow = yamlblock._read(text) if text.isascii() else None
    return (fast is None and slow is None) or (fast is not None and slow is not None and _same(fast, slow))


def test_a_document_of_a_layout_read_before_is_read_by_its_layout() -> None:
    """Manifests the same code wrote, whatever their values (a commit id may start with a digit, a letter
    YAML resolves, or another), are read by the first one's layout."""
    first, *others = [version_manifest(f"model-{n:03d}", 1, index=n) for n in range(40)]
    assert yamlblock.data(first) is not None
    assert len(yamlblock._SHAPES.recent) == 1  # learnt
    pattern, _build = yamlblock._SHAPES.recent[0]
    commits = {text.split("commit: ")[1][0] for text in others}
    assert len(commits) > 5  # ids starting with many characters: quick plain scalars and others
    for text in others:
        assert pattern.fullmatch(text) is not None  # read by it, not a line at a time
        assert _same(yamlblock.data(text), yamlblock._read(text))
        assert _agrees(text)
    assert len(yamlblock._SHAPES.known) == 1


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_mutations_of_a_learnt_layout_read_as_the_lines_do(index: int) -> None:
    sample = SAMPLES[index]
    yamlblock.data(sample)
    if not yamlblock._SHAPES.recent:
        pytest.skip("this sample has a comment or a blank line: no layout is learnt from it")
    learnt = yamlblock._SHAPES.recent[0]
    by_layout = 0
    for at in _places(sample):
        for snippet in TRICKY:
            for text in (sample[:at] + snippet + sample[at:], sample[:at] + snippet + sample[at + 1 :]):
                yamlblock._SHAPES.recent[:] = [learnt]  # the sample's layout, not one a mutation taught
                read_by_it = learnt[0].fullmatch(text) is not None
                assert _reads_as_the_lines_do(text), repr(text)
                if read_by_it:  # (the others are the line reader's: tests/test_yamlblock.py)
                    by_layout += 1
                    yamlblock._SHAPES.recent[:] = [learnt]
                    assert _agrees(text), repr(text)
    assert by_layout > 20  # mutations that only change a value are read by the layout


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_every_kind_of_value_in_every_slot_reads_as_the_lines_do(index: int) -> None:
    sample = SAMPLES[index]
    lines = sample.split("\n")
    slots = [n for n, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
    yamlblock.data(sample)
    learnt = yamlblock._SHAPES.recent[:1]
    by_layout = 0
    for n in slots:
        head = lines[n].split(": ", 1)[0]
        for value in VALUES:
            text = "\n".join([*lines[:n], f"{head}: {value}", *lines[n + 1 :]])
            yamlblock._SHAPES.recent[:] = learnt  # the sample's layout, not one a value taught
            by_layout += any(p.fullmatch(text) for p, _b in learnt)
            assert _reads_as_the_lines_do(text), repr(text)
            assert _agrees(text), repr(text)
    if learnt:
        assert by_layout > len(slots)  # each slot took some values through the layout


def test_keys_are_matched_as_they_are_written() -> None:
    """A key's characters are literal: ``a.b`` is not a pattern that ``aXb`` matches."""
    yamlblock.data("a.b: 1\nc-d:\n  e_f: x\n")
    assert yamlblock._SHAPES.recent
    for text in ("aXb: 1\nc-d:\n  e_f: x\n", "a.b: 1\ncXd:\n  e_f: x\n", "a.b: 1\nc-d:\n  eXf: x\n"):
        assert _same(yamlblock.data(text), yamlblock._read(text))
        assert _agrees(text)


def test_the_layouts_kept_are_bounded() -> None:
    for n in range(yamlblock._MAX_SHAPES * 3):
        text = f"k{n}: 1\n"
        assert yamlblock.data(text) == {f"k{n}": 1}
    assert len(yamlblock._SHAPES.known) == yamlblock._MAX_SHAPES
    assert len(yamlblock._SHAPES.recent) <= yamlblock._RECENT_SHAPES
    for n in range(yamlblock._MAX_MISSES * 2):  # documents of no layout: tried a bounded number of times
        assert yamlblock.data(f"# {n}\nk: 1\n") == {"k": 1}
    assert yamlblock._SHAPES.misses == yamlblock._MAX_MISSES


#: A document of a learnt layout whose every value each slot's two patterns match (a quick plain string is
#: also any text) and whose last line fails: a pattern that tried each line's value again the other way
#: would try 2 ** 39 ways before it failed.
CRAFTED = """
from gitreg import yamlblock
keys = [f"k{n}" for n in range(40)]
assert yamlblock.data("".join(f"{k}: word\\n" for k in keys)) is not None
text = "".join(f"{k}: word\\n" for k in keys[:-1]) + keys[-1] + ": word\\n  x: 1\\n"
for _ in range(20):
    assert yamlblock.data(text) is None
"""


def test_a_crafted_document_of_a_learnt_layout_does_not_hang() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRAFTED], capture_output=True, text=True, timeout=60, check=False
    )  # a hang fails the test
    assert (done.returncode, done.stderr) == (0, "")


def test_each_slots_groups_are_counted() -> None:
    for form, (pattern, _value) in yamlblock._SLOT.items():
        assert re.compile(pattern).groups == yamlblock._GROUPS[form]
