"""``gitreg.yamlblock``: the quick reader gives exactly what ``yamlio.load`` gives, or None.

Held to the loader on real registry files and on thousands of mutations of them (every tricky character
inserted or substituted at every place), and on the forms the loader refuses or reads otherwise (duplicate
keys, anchors, aliases, tags, merge keys, YAML 1.1 numbers and booleans), which must come back None so that
the caller reads them with the loader."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from gitreg import yamlblock, yamlio
from gitreg.errors import ManifestError
from testing.synthetic import model_manifest, stage_manifest, version_manifest

SAMPLES = [
    version_manifest("m0", 2, index=0),
    version_manifest("model-001", 1, index=1, lean=True),
    model_manifest("m0", 0, production_metrics={"auc": ">= 0.5"}),
    stage_manifest({"m0": 1, "model-2": 30}),
    "apiVersion: gitreg/v1\nkind: Registry\nstorage:\n  url: 'file:///tmp/x'\n  options: {}\n"
    "stages: []\nrules:\n  max_file_size: 1000\n",
]

#: Characters and snippets that change what YAML reads, inserted and substituted everywhere.
TRICKY = [
    "#", " #", ":", ": ", " ", "  ", "\t", "-", "- ", "?", "? ", ",", "[", "]", "{", "}", '"', "'", "\\",
    "&a ", "*a", "!", "!!str ", "!!int ", "<<", "|", ">", "%", "@", "`", "~", "=", "\n", "\n  ", "\r",
    "0x", "0o", "010", "1_0", "1e3", ".inf", ".nan", "+", "no", "yes", "null", "true", "True", "é", "\ufeff",
    "---", "...", "x: 1\n", "  x: 1\n", "a:", "\n\n", "1:30",
]  # fmt: skip


def _same(a: Any, b: Any) -> bool:
    """Equal data with equal types (True is not 1; 1.0 is not 1; nan is nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _agrees(text: str) -> bool:
    """The quick reader gives None, or what the loader gives (and the loader accepts the text)."""
    quick = yamlblock.data(text)
    if quick is None:
        return True
    try:
        full = yamlio.load(text, "f.yaml").data
    except ManifestError:
        return False
    return _same(quick, full) and _same(yamlblock.data(text.encode()), full)


@pytest.mark.parametrize("sample", SAMPLES)
def test_reads_real_files_as_the_loader_does(sample: str) -> None:
    assert yamlblock.data(sample) is not None or sample.startswith("apiVersion: gitreg/v1\nkind: Registry")
    assert _agrees(sample)


def _places(text: str) -> list[int]:
    """Where each line starts and ends, its indentation ends, and around its colon and value's start."""
    places = {0, len(text)}
    start = 0
    for line in text.split("\n"):
        colon = line.find(":")
        indent = len(line) - len(line.lstrip(" "))
        for offset in (indent, indent + 1, len(line), colon, colon + 1, colon + 2, colon + 3):
            if 0 <= offset <= len(line):
                places.add(start + offset)
        start += len(line) + 1
    return sorted(places)


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_mutations_agree_with_the_loader(index: int) -> None:
    sample = SAMPLES[index]
    read = 0
    for at in _places(sample):
        for snippet in TRICKY:
            for text in (sample[:at] + snippet + sample[at:], sample[:at] + snippet + sample[at + 1 :]):
                assert _agrees(text), repr(text)
                read += yamlblock.data(text) is not None
    assert read > 100  # the mutations reach the quick path, not only the fallback


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a duplicate key: the loader refuses it
        "a:\n  b: 1\n  b: 1\n",
        "a: &x 1\nb: *x\n",  # an anchor and an alias
        "a: !!str 1\n",  # tags
        "a: !!int 0x10\n",
        "a: !custom x\n",
        "<<: {a: 1}\n",  # a merge key
        "true: 1\n",  # a key YAML reads as a boolean
        "null: 1\n",
        "a: b # comment\n",
        "a: |\n  text\n",
        "a: >\n  text\n",
        "a: multi\n  line\n",
        "a:\n- 1\n",
        "a:\n  - 1\n",
        "a: {b: 1}\n",
        "a: [b, ]\n",
        "a: 'it''s'\n",
        'a: "tab\\t"\n',
        "a: caf\u00e9\n",
        "---\na: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\r\n",
        "\ufeffa: 1\n",
        "  a: 1\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: 1\n  b: 2\n",
        "a:\tb\n",
        "",
        "# only a comment\n",
        "a: " + "1" * 19 + "\n",
    ],
)
def test_forms_left_to_the_loader(text: str) -> None:
    assert yamlblock.data(text) is None


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("a: 1\nb: -2\nc: 1.5\nd: 1e3\ne: .inf\nf: true\ng: null\nh: ~\ni: x y\n", None),
        ("a:\nb:\n  c:\n  d: [1, x, 'y', \"z\", true]\ne: []\nf: {}\n", None),
        ("a: https://x.example/p?q=1\nb: Bench User <b@example.com>\nc: x:y\n", None),
        # YAML 1.1 numbers and booleans are the strings gitreg's loader reads (yamlio's docstring)
        (
            "a: 010\nb: 0x10\nc: no\nd: 1:30\ne: +10\nf: 1_0\ng: yes\n",
            {
                k: v
                for k, v in zip("abcdefg", ["010", "0x10", "no", "1:30", "+10", "1_0", "yes"], strict=True)
            },
        ),
        ("a:\n  b:\n    c: 1\n  d: 2\ne: 3\n", {"a": {"b": {"c": 1}, "d": 2}, "e": 3}),
    ],
)
def test_quick_forms(text: str, data: Any) -> None:
    quick = yamlblock.data(text)
    assert quick is not None
    assert _same(quick, yamlio.load(text, "f.yaml").data)
    if data is not None:
        assert quick == data


SCALARS = [
    "true", "True", "TRUE", "tRue", "false", "False", "FALSE", "yes", "no", "on", "off", "null", "Null",
    "NULL", "~", "nul", "0", "-0", "00", "010", "1", "-1", "+1", "12345678901234567890", "1_000", "0x1f",
    "0o17", "1.5", "-1.5", ".5", "1.", "1e3", "1E3", "1e-3", "1.5e+3", "-.inf", ".Inf", ".NAN", ".nan",
    "=", "<<", "2026-01-01", "2026-01-01T10:00:00Z", "1:30", "f0a49bc9d222f607", "sha256:ab", "model-1",
    "e", "n", "t", "y", "-", "+", ".", "0.8300", "1420003",
]  # fmt: skip


@pytest.mark.parametrize("plain", SCALARS)
def test_plain_scalars_resolve_as_the_loader_resolves_them(plain: str) -> None:
    yamlblock._TAGS.clear()
    loader = yamlio._Loader
    assert yamlblock._resolve(plain) == loader.resolve(loader, yaml.ScalarNode, plain, (True, False))
