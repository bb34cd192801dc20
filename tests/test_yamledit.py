"""``gitreg.yamledit``: a top-level entry set or removed the way a person would edit the file, so a
promotion's diff is one line; where a line edit cannot express the change (flow style, multi-line
values), the file is rewritten from its data, which is always what the edit means."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitreg import ManifestError
from gitreg.yamledit import remove_entry, set_entry

STAGE = """\
# Production: what the serving cluster runs.
# Owned by @release-approvers (see CODEOWNERS).

churn: 7
fraud: 3  # pinned until the Q4 review

# ranking models
ranker: 12
"""


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    assert len(before.splitlines()) == len(after.splitlines())
    return [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]


# --- set_entry --------------------------------------------------------------------------------------------


def test_set_changes_one_line_and_keeps_the_rest() -> None:
    after = set_entry(STAGE, "churn", 8)
    assert changed_lines(STAGE, after) == [("churn: 7", "churn: 8")]
    assert after == STAGE.replace("churn: 7", "churn: 8")


def test_set_keeps_the_comment_on_the_line() -> None:
    assert set_entry(STAGE, "fraud", 4) == STAGE.replace("fraud: 3  #", "fraud: 4  #")


def test_set_keeps_the_spacing_around_the_colon() -> None:
    assert set_entry("fraud:    3\nchurn : 7\n", "fraud", 10) == "fraud:    10\nchurn : 7\n"
    assert set_entry("fraud:    3\nchurn : 7\n", "churn", 8) == "fraud:    3\nchurn : 8\n"


def test_set_a_new_key_goes_in_name_order_between_blank_lines() -> None:
    """A new entry never sits right next to another one, so that promotions of two different models
    (or two new models) change lines git's merge keeps apart."""
    assert set_entry(STAGE, "search", 1) == STAGE + "\nsearch: 1\n"
    assert set_entry(STAGE, "cat", 1) == STAGE.replace("\nchurn: 7", "\ncat: 1\n\nchurn: 7")
    assert set_entry(STAGE, "quant", 1) == STAGE.replace("# ranking models", "quant: 1\n\n# ranking models")


def test_set_a_new_key_in_a_file_without_a_final_newline() -> None:
    assert set_entry("fraud: 3", "churn", 7) == "churn: 7\n\nfraud: 3\n"
    assert set_entry("fraud: 3", "ranker", 7) == "fraud: 3\n\nranker: 7\n"


@pytest.mark.parametrize(("text", "expected"), [("", "fraud: 1\n"), ("# empty\n", "# empty\n\nfraud: 1\n")])
def test_set_in_an_empty_file(text: str, expected: str) -> None:
    assert set_entry(text, "fraud", 1) == expected


def test_set_touches_only_the_exact_top_level_key() -> None:
    text = "# fraud: 1 (retired)\nfraud-v2: 5\nfraud.v2: 6\nfraudxv2: 7\nfraud: 2\n"
    assert set_entry(text, "fraud", 3) == text.replace("\nfraud: 2", "\nfraud: 3")
    assert set_entry(text, "fraud.v2", 8) == text.replace("fraud.v2: 6", "fraud.v2: 8")
    version = "tags:\n  status: keep\nstatus: active  # lifecycle\n"
    assert (
        set_entry(version, "status", "archived") == "tags:\n  status: keep\nstatus: archived  # lifecycle\n"
    )


@pytest.mark.parametrize("key", ["'fraud'", '"fraud"'])
def test_set_a_quoted_key(key: str) -> None:
    assert set_entry(f"{key}: 1\nchurn: 2\n", "fraud", 2) == f"{key}: 2\nchurn: 2\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [("yes", "'yes'"), ("1.0", "'1.0'"), ("null", "'null'"), ("12", "'12'"), ("key: value", "'key: value'")],
)
def test_set_a_string_that_needs_quotes(value: str, written: str) -> None:
    after = set_entry("status: active\n", "status", value)
    assert after == f"status: {written}\n"
    assert yaml.safe_load(after) == {"status": value}


@pytest.mark.parametrize("model", ["yes", "1.0", "007", "null"])
def test_model_names_yaml_would_read_as_something_else_are_quoted(model: str) -> None:
    """Model names may be ``yes`` or ``1.0``; unquoted, YAML would read a boolean or a float key."""
    added = set_entry("fraud: 1\n", model, 3)
    entry = f"'{model}': 3\n"
    assert added == (f"fraud: 1\n\n{entry}" if model > "fraud" else f"{entry}\nfraud: 1\n")
    assert yaml.safe_load(added) == {"fraud": 1, model: 3}
    assert set_entry(added, model, 4) == added.replace(": 3", ": 4")
    assert remove_entry(added, model) == "fraud: 1\n"


def test_set_in_flow_style_rewrites_the_file() -> None:
    assert set_entry("{fraud: 1, churn: 2}\n", "fraud", 3) == "fraud: 3\nchurn: 2\n"
    assert set_entry("{fraud: 1, churn: 2}\n", "ranker", 3) == "fraud: 1\nchurn: 2\nranker: 3\n"
    assert set_entry("# staging\n{}\n", "fraud", 1) == "fraud: 1\n"


def test_set_over_a_multi_line_value_rewrites_the_file() -> None:
    text = "description: >\n  Card-not-present\n  fraud scoring\nstatus: active\n"
    assert set_entry(text, "description", "Fraud scoring") == "description: Fraud scoring\nstatus: active\n"


def test_set_a_key_with_an_empty_value() -> None:
    assert set_entry("fraud:\nchurn: 2\n", "fraud", 1) == "fraud: 1\nchurn: 2\n"


def test_set_keeps_windows_line_endings() -> None:
    assert set_entry("fraud: 1\r\nchurn: 2\r\n", "fraud", 2) == "fraud: 2\r\nchurn: 2\r\n"


def test_set_keeps_a_document_start_marker() -> None:
    assert set_entry("---\nfraud: 1\n", "fraud", 2) == "---\nfraud: 2\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fraud: 1\nfraud: 2\n", "edit:2:1: yaml: duplicate key 'fraud'"),
        ("fraud: [1\n", "edit:2:1: yaml: did not find expected ',' or ']'"),
    ],
)
def test_set_in_a_file_that_does_not_parse(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as exc:
        set_entry(text, "fraud", 3)
    assert str(exc.value) == message


# --- remove_entry -----------------------------------------------------------------------------------------


def test_remove_drops_one_line_and_keeps_the_rest() -> None:
    assert remove_entry(STAGE, "fraud") == STAGE.replace("fraud: 3  # pinned until the Q4 review\n", "")
    assert remove_entry(STAGE, "ranker") == STAGE.replace("ranker: 12\n", "")


def test_remove_an_absent_key_changes_nothing() -> None:
    assert remove_entry(STAGE, "search") == STAGE
    assert remove_entry("", "search") == ""


def test_remove_the_last_entry_keeps_the_comments() -> None:
    assert remove_entry("# staging\nfraud: 1\n", "fraud") == "# staging\n"
    assert remove_entry("fraud: 1\n", "fraud") == ""


def test_remove_a_quoted_key() -> None:
    assert remove_entry("'fraud': 1\nchurn: 2\n", "fraud") == "churn: 2\n"


def test_remove_touches_only_the_exact_key() -> None:
    assert remove_entry("fraud: 1\nfraud-v2: 2\n", "fraud") == "fraud-v2: 2\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{fraud: 1, churn: 2}\n", "churn: 2\n"),
        ("{fraud: 1}\n", ""),
        ("fraud:\n  note: nested\nchurn: 2\n", "churn: 2\n"),
    ],
)
def test_remove_where_a_line_edit_cannot_rewrites_the_file(text: str, expected: str) -> None:
    assert remove_entry(text, "fraud") == expected


def test_every_edit_means_what_it_says() -> None:
    """Whatever form the file has, the result parses to the data with the one change."""
    texts = [STAGE, "{fraud: 1, churn: 2}\n", "'fraud': 1\n", "fraud:\n", "fraud: 1\n...\n", ""]
    for text in texts:
        data: dict[str, Any] = yaml.safe_load(text) or {}
        for key in ("fraud", "churn", "new"):
            assert yaml.safe_load(set_entry(text, key, 9)) == {**data, key: 9}
            expected = {k: v for k, v in data.items() if k != key}
            assert (yaml.safe_load(remove_entry(text, key)) or {}) == expected
