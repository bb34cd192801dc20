"""gitreg.yamlio: the one YAML loader (positions, duplicate keys, no aliases, YAML 1.2-style scalars) and
the dumper (key order, block style, indented sequences)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitreg import yamlio
from gitreg.errors import ManifestError, Problem


def refusal(text: str | bytes, path: str = "f.yaml") -> ManifestError:
    """The ManifestError that loading ``text`` raises; fails the test if it loads."""
    with pytest.raises(ManifestError) as info:
        yamlio.load(text, path)
    return info.value


# --- positions -------------------------------------------------------------------------------------------


def test_positions_of_keys_and_sequence_items_are_one_based() -> None:
    text = (
        "apiVersion: gitreg/v1\n"  # 1
        "artifact:\n"  # 2
        "  digest: abc\n"  # 3
        "  size: 10\n"  # 4
        "lineage:\n"  # 5
        "  data:\n"  # 6
        "    - uri: s3://a\n"  # 7
        "      digest: x\n"  # 8
        "    - uri: s3://b\n"  # 9
        "tags: {team: risk, env: prod}\n"  # 10
        "owners: [a, b]\n"  # 11
    )
    doc = yamlio.load(text, "models/m/versions/1.yaml")
    assert doc.path == "models/m/versions/1.yaml"
    assert doc.data == {
        "apiVersion": "gitreg/v1",
        "artifact": {"digest": "abc", "size": 10},
        "lineage": {"data": [{"uri": "s3://a", "digest": "x"}, {"uri": "s3://b"}]},
        "tags": {"team": "risk", "env": "prod"},
        "owners": ["a", "b"],
    }
    assert doc.positions == {
        (): (1, 1),
        ("apiVersion",): (1, 1),
        ("artifact",): (2, 1),
        ("artifact", "digest"): (3, 3),
        ("artifact", "size"): (4, 3),
        ("lineage",): (5, 1),
        ("lineage", "data"): (6, 3),
        ("lineage", "data", 0): (7, 7),
        ("lineage", "data", 0, "uri"): (7, 7),
        ("lineage", "data", 0, "digest"): (8, 7),
        ("lineage", "data", 1): (9, 7),
        ("lineage", "data", 1, "uri"): (9, 7),
        ("tags",): (10, 1),
        ("tags", "team"): (10, 8),
        ("tags", "env"): (10, 20),
        ("owners",): (11, 1),
        ("owners", 0): (11, 10),
        ("owners", 1): (11, 13),
    }


def test_positions_of_a_top_level_sequence() -> None:
    doc = yamlio.load("- a\n-   b\n", "f.yaml")
    assert doc.data == ["a", "b"]
    assert doc.positions == {(): (1, 1), (0,): (1, 3), (1,): (2, 5)}


def test_position_falls_back_to_the_nearest_ancestor() -> None:
    doc = yamlio.load("a: 1\nb:\n  c: 2\n", "f.yaml")
    assert doc.position(["b", "c"]) == (3, 3)
    assert doc.position(("b", "c", "missing", 4)) == (3, 3)
    assert doc.position(["b", "missing"]) == (2, 1)
    assert doc.position(["missing"]) == (1, 1)
    assert doc.position([]) == (1, 1)


def test_position_without_any_recorded_position_is_the_first_line() -> None:
    doc = yamlio.Document("f.yaml", {"a": 1})
    assert doc.position(["a"]) == (1, 1)


def test_bytes_are_accepted_like_text() -> None:
    doc = yamlio.load("name: caf\u00e9\n".encode(), "f.yaml")
    assert doc.data == {"name": "caf\u00e9"}
    assert doc.positions[("name",)] == (1, 1)


# --- duplicate keys --------------------------------------------------------------------------------------


def test_duplicate_key_is_refused_at_the_second_occurrence() -> None:
    exc = refusal("a: 1\nb: 2\na: 3\n")
    assert str(exc) == "f.yaml:3:1: yaml: duplicate key 'a'"
    assert exc.problems == [Problem("f.yaml", 3, 1, "yaml: duplicate key 'a'")]
    assert exc.exit_code == 3


def test_duplicate_key_in_a_nested_mapping_is_refused() -> None:
    exc = refusal("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", "stages/prod.yaml")
    assert str(exc) == "stages/prod.yaml:5:3: yaml: duplicate key 'c'"


def test_duplicate_key_in_a_flow_mapping_is_refused() -> None:
    assert str(refusal("tags: {a: 1, a: 2}\n")) == "f.yaml:1:14: yaml: duplicate key 'a'"


def test_duplicate_key_quoted_differently_is_refused() -> None:
    assert str(refusal("a: 1\n'a': 2\n")) == "f.yaml:2:1: yaml: duplicate key 'a'"


def test_same_key_in_different_mappings_is_fine() -> None:
    doc = yamlio.load("a: {x: 1}\nb: {x: 2}\nc: [{x: 3}, {x: 4}]\n", "f.yaml")
    assert doc.data == {"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 3}, {"x": 4}]}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1: a\n!!int 1: b\n", id="int-1-and-tagged-int-1"),
        pytest.param("true: a\nTrue: b\n", id="true-and-True"),
        pytest.param("~: a\nnull: b\n", id="tilde-and-null"),
    ],
)
def test_duplicate_key_spelled_differently_is_refused(text: str) -> None:
    # The keys are different texts for the same value: accepting them silently keeps only the second.
    exc = refusal(text)
    assert len(exc.problems) == 1
    problem = exc.problems[0]
    assert (problem.line, problem.col) == (2, 1)
    assert problem.message.startswith("yaml: duplicate key ")


# --- anchors, aliases, merge keys, tags --------------------------------------------------------------


def test_alias_is_refused() -> None:
    exc = refusal("a: &x 1\nb: *x\n")
    assert str(exc) == "f.yaml:1:4: yaml: anchors and aliases are not allowed in gitreg files"


def test_alias_of_a_collection_is_refused() -> None:
    exc = refusal("a: 1\nb: &shared [1, 2]\nc: *shared\n")
    assert str(exc) == "f.yaml:2:4: yaml: anchors and aliases are not allowed in gitreg files"


def test_billion_laughs_is_refused_without_expanding() -> None:
    # Nine levels of nine aliases: expanded, this is 9**9 (387 million) strings.
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    text = "\n".join(lines) + "\n"
    exc = refusal(text, "lol.yaml")
    assert exc.problems == [
        Problem("lol.yaml", 1, 4, "yaml: anchors and aliases are not allowed in gitreg files")
    ]


def test_merge_key_is_refused() -> None:
    exc = refusal("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert str(exc) == "f.yaml:3:3: yaml: merge keys (<<) are not allowed in gitreg files"


def test_merge_key_without_alias_is_refused() -> None:
    exc = refusal("other:\n  y: 2\n  <<: {x: 1}\n")
    assert str(exc) == "f.yaml:3:3: yaml: merge keys (<<) are not allowed in gitreg files"


def test_complex_mapping_key_is_refused() -> None:
    exc = refusal("? [1, 2]\n: x\n")
    assert str(exc) == "f.yaml:1:3: yaml: mapping keys must be plain scalars"


def test_python_object_tag_is_refused() -> None:
    exc = refusal("a: !!python/object/apply:os.system [echo hi]\n")
    assert str(exc) == (
        "f.yaml:1:4: yaml: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    )


# --- malformed documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: [1, 2\n", "f.yaml:2:1: yaml: did not find expected ',' or ']'", id="unclosed-flow"),
        pytest.param(
            "a: b: c\n", "f.yaml:1:5: yaml: mapping values are not allowed in this context", id="colon"
        ),
        pytest.param(
            "a: 1\n\tb: 2\n", "f.yaml:2:1: yaml: found a tab character that violates indentation", id="tab"
        ),
        pytest.param("a: 1\n---\nb: 2\n", "f.yaml:2:1: yaml: but found another document", id="two-documents"),
        pytest.param(
            'a: "\\uZZZZ"\n', "f.yaml:1:7: yaml: did not find expected hexdecimal number", id="bad-escape"
        ),
        pytest.param(
            "a:\n  - 1\n  b: 2\n", "f.yaml:3:3: yaml: did not find expected '-' indicator", id="mix"
        ),
    ],
)
def test_malformed_yaml_is_one_problem_with_a_line(text: str, expected: str) -> None:
    exc = refusal(text)
    assert len(exc.problems) == 1
    assert exc.problems[0].line > 0
    assert str(exc) == expected


# --- scalars ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["no", "yes", "on", "off", "y", "n", "No", "YES", "On", "OFF", "Y", "N"])
def test_yaml11_booleans_stay_strings(word: str) -> None:
    assert yamlio.load(f"a: {word}\n", "f.yaml").data == {"a": word}


@pytest.mark.parametrize(
    ("word", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False)],
)
def test_true_and_false_are_booleans(word: str, value: bool) -> None:
    data = yamlio.load(f"a: {word}\n", "f.yaml").data
    assert data == {"a": value}
    assert type(data["a"]) is bool


@pytest.mark.parametrize(
    "stamp", ["2026-11-22", "2026-11-22T10:00:00Z", "2026-11-22 10:00:00", "2026-11-22T10:00:00.5+02:00"]
)
def test_unquoted_timestamps_stay_strings(stamp: str) -> None:
    assert yamlio.load(f"created_at: {stamp}\n", "f.yaml").data == {"created_at": stamp}


def test_numbers_and_null_are_resolved() -> None:
    data = yamlio.load("a: 3\nb: 0.5\nc: -2\nd: ~\ne: null\nf: '3'\ng: 1.5e+3\nh: 0x1f\n", "f.yaml").data
    # Integers are plain decimal: YAML 1.1's hex (and octal, binary, 1_0, +1) stay the text they are.
    assert data == {"a": 3, "b": 0.5, "c": -2, "d": None, "e": None, "f": "3", "g": 1500.0, "h": "0x1f"}
    assert type(data["a"]) is int
    assert type(data["f"]) is str


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-5", 1e-5), ("1.5e3", 1500.0), ("2E4", 20000.0), ("-3e2", -300.0), ("1e+3", 1000.0)],
)
def test_exponent_floats_are_numbers(text: str, value: float) -> None:
    # YAML 1.2's core schema (which the module promises where 1.1 surprises people): a learning rate written
    # ``lr: 1e-5`` is a number, not the string "1e-5" that PyYAML's 1.1 resolver makes of it.
    data = yamlio.load(f"lr: {text}\n", "f.yaml").data
    assert data == {"lr": value}
    assert type(data["lr"]) is float


# --- size and empty documents ----------------------------------------------------------------------------


def test_oversized_document_is_refused_before_parsing() -> None:
    # Invalid YAML past the limit: the size check must come first, so the message is about size.
    text = b"a: [" + b"x" * yamlio.MAX_DOCUMENT_BYTES
    exc = refusal(text, "big.yaml")
    assert str(exc) == "big.yaml:1:1: yaml: file is larger than 8388608 bytes"
    assert yamlio.MAX_DOCUMENT_BYTES == 8 * 1024 * 1024


def test_oversized_text_is_refused() -> None:
    text = "#" + "x" * yamlio.MAX_DOCUMENT_BYTES
    assert str(refusal(text, "big.yaml")) == "big.yaml:1:1: yaml: file is larger than 8388608 bytes"


def test_document_of_exactly_the_limit_is_parsed() -> None:
    text = b"a: " + b"x" * (yamlio.MAX_DOCUMENT_BYTES - 4) + b"\n"
    assert len(text) == yamlio.MAX_DOCUMENT_BYTES
    assert yamlio.load(text, "f.yaml").data == {"a": "x" * (yamlio.MAX_DOCUMENT_BYTES - 4)}


def test_oversized_text_is_measured_in_bytes_not_characters() -> None:
    # Fewer characters than the limit, but more bytes once encoded: "larger than N bytes" must hold.
    text = "a: " + "\u20ac" * (yamlio.MAX_DOCUMENT_BYTES // 3 + 1) + "\n"
    assert len(text) < yamlio.MAX_DOCUMENT_BYTES < len(text.encode())
    assert str(refusal(text, "big.yaml")) == "big.yaml:1:1: yaml: file is larger than 8388608 bytes"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", b""])
def test_empty_document_is_none(text: str | bytes) -> None:
    doc = yamlio.load(text, "f.yaml")
    assert doc.data is None
    assert doc.positions == {(): (1, 1)}
    assert doc.position(["anything"]) == (1, 1)


# --- dump ------------------------------------------------------------------------------------------------


def test_dump_writes_block_style_with_indented_sequences_in_the_given_order() -> None:
    data = {
        "model": "fraud",
        "version": 3,
        "artifact": {"size": 10, "digest": "sha256:ab"},
        "owners": ["@a", "@b"],
        "lineage": {"data": [{"uri": "s3://x", "digest": "d"}]},
        "empty_list": [],
        "empty_map": {},
        "none": None,
        "flag": True,
    }
    assert yamlio.dump(data) == (
        "model: fraud\n"
        "version: 3\n"
        "artifact:\n"
        "  size: 10\n"
        "  digest: sha256:ab\n"
        "owners:\n"
        "  - '@a'\n"
        "  - '@b'\n"
        "lineage:\n"
        "  data:\n"
        "    - uri: s3://x\n"
        "      digest: d\n"
        "empty_list: []\n"
        "empty_map: {}\n"
        "none: null\n"
        "flag: true\n"
    )


def test_dump_keeps_insertion_order_not_alphabetical() -> None:
    keys = ["zeta", "alpha", "mu", "beta"]
    text = yamlio.dump(dict.fromkeys(keys, 1))
    assert [line.split(":")[0] for line in text.splitlines()] == keys
    assert list(yamlio.load(text, "f.yaml").data) == keys


def test_dump_never_writes_anchors_for_shared_objects() -> None:
    shared = [1, 2]
    text = yamlio.dump({"a": shared, "b": shared})
    assert text == "a:\n  - 1\n  - 2\nb:\n  - 1\n  - 2\n"
    assert "&" not in text
    assert "*" not in text


def test_dump_writes_unicode_as_is() -> None:
    text = "mod\u00e8le \u00e9t\u00e9"
    assert yamlio.dump({"description": text}) == f"description: {text}\n"


ROUND_TRIP: dict[str, Any] = {
    "apiVersion": "gitreg/v1",
    "no": "no",
    "yes": "yes",
    "on": "on",
    "true_text": "true",
    "null_text": "null",
    "tilde": "~",
    "date": "2026-11-22",
    "stamp": "2026-11-22T10:00:00Z",
    "number_text": "3",
    "float_text": "0.5",
    "hex_text": "0x1f",
    "empty": "",
    "spaces": "  leading and trailing  ",
    "multiline": "line one\nline two\n",
    "colon": "a: b",
    "hash": "# not a comment",
    "at": "@risk-ml",
    "long": "word " * 60,
    "unicode": "\u00e9\u20ac\U0001f600",
    "int": 3,
    "negative": -7,
    "float": 0.931,
    "big": 10**20,
    "bool": False,
    "null": None,
    "list": [1, "two", None, True, [3, {"x": "y"}]],
    "nested": {"b": {"c": [{"d": 1, "a": 2}]}},
}


def test_dump_round_trips_through_load() -> None:
    text = yamlio.dump(ROUND_TRIP)
    loaded = yamlio.load(text, "f.yaml").data
    assert loaded == ROUND_TRIP
    assert list(loaded) == list(ROUND_TRIP)
    assert list(loaded["nested"]["b"]["c"][0]) == ["d", "a"]


def test_dump_output_reads_the_same_in_a_yaml11_reader() -> None:
    # Other tools (and people) read these files with YAML 1.1 loaders: strings that such a loader would
    # turn into booleans, dates or numbers must be quoted.
    assert yaml.safe_load(yamlio.dump(ROUND_TRIP)) == ROUND_TRIP
