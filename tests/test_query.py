"""The filter language (gitreg.query): what each comparison decides, on typed versions and on records alike,
and the one-line error, naming the column, for each kind of bad filter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gitreg import QueryError, UsageError
from gitreg.manifest import ModelVersion
from gitreg.query import Query
from gitreg.records import VersionRecord
from gitreg.search import Order, parse_since
from gitreg.yamlio import dump

DATA: dict[str, Any] = {
    "apiVersion": "gitreg/v1",
    "kind": "ModelVersion",
    "model": "fraud",
    "version": 3,
    "artifact": {"digest": "sha256:" + "a" * 64, "size": 10, "type": "file", "name": "m.onnx"},
    "framework": {"name": "sklearn", "version": "1.5.2"},
    "metrics": {"auc": 0.93, "f1": 1, "val.auc": 0.5},
    "params": {"max_depth": 8, "solver": "adam", "early_stop": True, "layers": [1, 2]},
    "lineage": {"code": {"commit": "abc"}, "parent": 2},
    "tags": {"team": "risk"},
    "created_at": "2026-11-22T10:00:00Z",
    "created_by": "A <a@example.com>",
}


def versions() -> list[Any]:
    """The same manifest as the typed model and as the record the command line reads."""
    return [ModelVersion.model_validate(DATA), VersionRecord(DATA)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("metrics.auc >= 0.9 and params.max_depth < 10 and framework.name == 'sklearn'", True),
        ("metrics.auc > 0.93", False),
        ("0.9 <= metrics.auc", True),
        ("metrics.f1 == 1.0", True),
        ("version == 3 and lineage.parent == 2 and artifact.size < 1e3", True),
        ("model == \"fraud\" AND status == 'active'", True),
        ("params.solver == 'adam' or metrics.auc < 0", True),
        ("not (params.solver == 'adam')", False),
        ("params.early_stop == true and params.early_stop != false", True),
        ("params.early_stop > false", False),  # booleans: == and != only
        # a missing field or another type: false whatever the operator, != included; not makes it true
        ("tags.owner == 'x'", False),
        ("tags.owner != 'x'", False),
        ("not tags.owner == 'x'", True),
        ("metrics.auc == '0.93'", False),
        ("metrics.auc != '0.93'", False),
        ("params.solver > 1", False),
        ("params.layers == 1", False),
        ("params.max_depth == true", False),  # a bool is not a number
        ("tags.team != 'risk'", False),
        ("lineage.code.repo == 'x' or lineage.code.commit == 'abc'", True),
        ("metrics.`val.auc` == 0.5", True),
        ("created_at >= '2026-11-22'", True),
        ("created_at > '2026-11-22T10:00:00+00:00'", False),
        ("created_at < '2026-11-22T11:00:00+01:00'", False),  # the same instant: not strictly before
        ("created_at <= '2026-11-22T11:00:00+01:00'", True),
        ("signature.inputs == 1", False),
        ("((metrics.auc > 0.5))", True),
        ("description == ''", True),  # a field left out reads as its default, as in the model
    ],
)
def test_comparisons(where: str, expected: bool) -> None:
    query = Query.parse(where)
    assert [query.matches(v) for v in versions()] == [expected, expected]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("", "filter, column 1: the filter is empty"),
        ("metric.auc > 0.9", "filter, column 1: unknown field 'metric.auc' (did you mean 'metrics.auc'?)"),
        ("metrics.auc > 0.9 and framework.nme == 'x'", "filter, column 23: unknown field 'framework.nme'"),
        ("metrics > 1", "filter, column 1: metrics holds named values: name one, such as metrics.auc"),
        ("metrics.auc >", "filter, column 14: expected a field or a value, found the end"),
        ("metrics.auc = 1", "filter, column 13: '=' is not an operator: write =="),
        (
            "metrics.auc 1",
            "filter, column 13: expected ==, !=, <, <=, > or >= after 'metrics.auc', found '1'",
        ),
        ("(metrics.auc > 1", "filter, column 1: this '(' is never closed"),
        ("metrics.auc > 1)", "filter, column 16: ')' closes no '('"),
        ("metrics.auc > 1 tags.a == 'b'", "filter, column 17: unexpected 'tags.a'"),
        ("tags.team == 'risk", "filter, column 14: the string starting here has no closing '"),
        ("metrics.auc > 0.9x", "filter, column 15: '0.9x' is not a number"),
        ("metrics.auc > 1 && tags.a == 'b'", "filter, column 17: unexpected '&'"),
        ("métrique == 1", "filter, column 2: unexpected 'é'"),
        ("tags.équipe == 'x'", "filter, column 6: expected a name after '.'"),
        ("tags.`équipe` == 'x' or tags.`` == 'y'", "filter, column 30: a backquoted name needs a closing `"),
        ("1 == 1", "filter, column 1: compare a field with a value, such as metrics.auc >= 0.9"),
        (
            "created_at > 5",
            "filter, column 14: created_at compares with an ISO 8601 date or timestamp, not 5",
        ),
        ("created_at > 'yesterday'", "filter, column 14: created_at compares with an ISO 8601 date"),
        ("__import__('os') == 1", "filter, column 1: unknown field '__import__'"),
        ("not " * 150 + "metrics.a == 1", "filter, column 401: more than 100 levels of not and parentheses"),
        ("metrics.auc >= 0.9 and\n   params.x <", "filter, column 37: expected a field or a value"),
    ],
)
def test_bad_filters_are_one_line_errors_naming_the_column(where: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        Query.parse(where)
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == 2


def test_a_filter_that_is_not_text_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="a filter is a string, not int"):
        Query.parse(3)  # type: ignore[arg-type]


def test_since_takes_durations_and_dates() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_since("12h", now) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert parse_since("2w", now) == datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T10:00:00+02:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    for bad in ("yesterday", "7 days", "-3d", "", "1" * 30 + "d"):
        with pytest.raises(UsageError, match="is neither a duration nor a date"):
            parse_since(bad, now)


def test_order_sorts_by_a_field_with_missing_values_last() -> None:
    rows = [
        VersionRecord(DATA | {"version": n, "metrics": m})
        for n, m in ((1, {"auc": 0.5}), (2, {}), (3, {"auc": 0.9}), (4, {"auc": 0.7}))
    ]
    up = Order.parse("metrics.auc").sort(rows, lambda r: r)
    down = Order.parse("-metrics.auc").sort(rows, lambda r: r)
    assert [r.version for r in up] == [1, 4, 3, 2]
    assert [r.version for r in down] == [3, 4, 1, 2]
    for bad, message in (
        (
            "metric.auc",
            "cannot sort by 'metric.auc': unknown field 'metric.auc' (did you mean 'metrics.auc'?)",
        ),
        ("metrics.auc desc", "cannot sort by 'metrics.auc desc': name one field"),
        ("", "cannot sort by '': name one field"),
        ("tags.'x", 'cannot sort by "tags.\'x": name one field'),
    ):
        with pytest.raises(UsageError) as caught:
            Order.parse(bad)
        assert str(caught.value).startswith(message)


def test_records_and_models_of_a_written_manifest_agree() -> None:
    """A record read back from YAML answers every filter as the typed model does."""
    from gitreg import yamlio  # noqa: PLC0415

    record = VersionRecord(yamlio.load(dump(DATA).encode(), "x.yaml").data)
    model = ModelVersion.model_validate(DATA)
    for where in ("params.layers == 1", "framework.version == '1.5.2'", "lineage.run.id == 'x'"):
        query = Query.parse(where)
        assert query.matches(record) == query.matches(model)
