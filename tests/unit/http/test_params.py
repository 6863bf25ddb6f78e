"""``newsroom.http.params.parse_query`` with the list parameters (``LIST_PARAMS``): the defaults,
the values ``limit``, ``cursor``, ``topic`` and ``date`` accept, one error at
``["query", <name>]`` per bad or repeated parameter, all of them collected into one 400
``InvalidParameters``, and unknown parameters ignored."""

from typing import Any

import pytest

from newsroom.http.params import LIST_PARAMS, parse_query
from newsroom.http.problems import InvalidParameters
from newsroom.read_api.pagination import Position, encode_cursor

# A position whose cursor the ``cursor`` parameter accepts.
ALL = Position("feed", "2025-10-22T09:30:00Z", "russia-china-ai-partnership-putin-sberbank")


def test_parse_query_defaults() -> None:
    expected = {"limit": 10, "cursor": None, "topic": None, "date": None}
    assert parse_query(LIST_PARAMS, None) == expected
    assert parse_query(LIST_PARAMS, {}) == expected


def test_parse_query_values() -> None:
    cursor = encode_cursor(ALL)
    query = {
        "limit": ["50"],
        "cursor": [cursor],
        "topic": ["machine-learning"],
        "date": ["2025-10-22"],
    }
    assert parse_query(LIST_PARAMS, query) == {
        "limit": 50,
        "cursor": cursor,
        "topic": "machine-learning",
        "date": "2025-10-22",
    }
    assert parse_query(LIST_PARAMS, {"limit": ["1"]})["limit"] == 1
    assert parse_query(LIST_PARAMS, {"limit": ["007"]})["limit"] == 7


def errors_of(query: dict[str, list[str]]) -> list[dict[str, Any]]:
    with pytest.raises(InvalidParameters) as caught:
        parse_query(LIST_PARAMS, query)
    assert caught.value.status == 400
    assert caught.value.errors is not None
    return caught.value.errors


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("limit", "0"), ("limit", "51"), ("limit", "-1"), ("limit", ""), ("limit", "ten"),
        ("limit", "1.5"), ("limit", "1e1"), ("limit", " 5"), ("limit", "+5"),
        ("limit", "9999999999"), ("limit", "\uff15"), ("limit", "\u0665"),
        ("cursor", ""), ("cursor", "abc+def"), ("cursor", "abc=="), ("cursor", "a" * 401),
        ("topic", ""), ("topic", "AI"), ("topic", "machine learning"), ("topic", "ai-"),
        ("topic", "a" * 97), ("topic", "ai\n"),
    ],
)  # fmt: skip
def test_parse_query_error(name: str, raw: str) -> None:
    errors = errors_of({name: [raw]})
    assert len(errors) == 1
    assert errors[0]["loc"] == ["query", name]
    assert isinstance(errors[0]["msg"], str) and errors[0]["msg"]


def test_parse_query_collects_every_error() -> None:
    errors = errors_of({"limit": ["0"], "cursor": ["%%%"], "topic": ["AI"]})
    assert [e["loc"] for e in errors] == [
        ["query", "limit"],
        ["query", "cursor"],
        ["query", "topic"],
    ]


@pytest.mark.parametrize("name", ["limit", "cursor", "topic"])
def test_repeated_parameter_is_an_error(name: str) -> None:
    value = {"limit": "5", "cursor": encode_cursor(ALL), "topic": "ai"}[name]
    errors = errors_of({name: [value, value]})
    assert errors == [{"loc": ["query", name], "msg": "must be given at most once"}]


def test_unknown_parameters_are_ignored() -> None:
    query = {"limit": ["5"], "utm_source": ["newsletter"], "_": ["1761141909"], "Limit": ["x"]}
    assert parse_query(LIST_PARAMS, query) == {
        "limit": 5,
        "cursor": None,
        "topic": None,
        "date": None,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2025-02-30", "must be a calendar date"),
        ("2025-13-01", "must be a calendar date"),
        ("2025-1-01", "must be a date, YYYY-MM-DD"),
        ("20251022", "must be a date, YYYY-MM-DD"),
        ("2025-10-22T00:00:00Z", "must be a date, YYYY-MM-DD"),
        ("\uff12\uff10\uff12\uff15-10-22", "must be a date, YYYY-MM-DD"),  # fullwidth digits
    ],
)
def test_a_date_that_is_not_a_calendar_day_is_refused_by_name(raw: str, message: str) -> None:
    assert errors_of({"date": [raw]}) == [{"loc": ["query", "date"], "msg": message}]
