"""Query strings parsed before (shared/web/argmemo.py): kept per schema, query string and day, handed out as new
dicts, failures and odd values never kept, and the gateway's and the services' parsers use it."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from marshmallow import Schema, fields

from gateway.openapi import ProblemParser
from shared.api.ledger import BalanceArgs
from shared.web import app as service_app
from shared.web.argmemo import ParsedQueries
from shared.web.problems import ProblemError


class Loads:
    """A parse function that counts its calls and returns what it is given."""

    def __init__(self, result: object = None, error: Exception | None = None) -> None:
        self.calls, self.result, self.error = 0, result, error

    def __call__(self) -> dict:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return dict(self.result or {"as_of": date(2026, 12, 1), "lang": "hu"})


class Day:
    def __init__(self) -> None:
        self.today = date(2026, 12, 1)

    def __call__(self) -> date:
        return self.today


def test_a_query_string_is_loaded_once_and_handed_out_as_a_new_dict() -> None:
    memo, load, schema = ParsedQueries(today=Day()), Loads(), object()
    first = memo.load(schema, b"as_of=2026-12-01", load)
    first["lang"] = "changed by a view"
    second = memo.load(schema, b"as_of=2026-12-01", load)
    assert second == {"as_of": date(2026, 12, 1), "lang": "hu"} and second is not first
    assert load.calls == 1


def test_each_schema_query_string_and_day_is_loaded_on_its_own() -> None:
    day = Day()
    memo, load, one, other = ParsedQueries(today=day), Loads(), object(), object()
    memo.load(one, b"a=1", load)
    memo.load(other, b"a=1", load)
    memo.load(one, b"a=2", load)
    day.today = date(2026, 12, 2)  # "today" defaults move at midnight in Budapest
    memo.load(one, b"a=1", load)
    assert load.calls == 4
    memo.load(one, b"a=1", load)
    assert load.calls == 4


def test_a_failure_is_never_kept() -> None:
    memo, schema = ParsedQueries(today=Day()), object()
    load = Loads(error=ProblemError(400, "Invalid request"))
    for _ in range(3):
        with pytest.raises(ProblemError):
            memo.load(schema, b"as_of=bad", load)
    assert load.calls == 3


def test_long_query_strings_and_mutable_values_are_not_kept() -> None:
    memo, schema = ParsedQueries(longest=10, today=Day()), object()
    long = Loads()
    memo.load(schema, b"q=" + b"x" * 9, long)
    memo.load(schema, b"q=" + b"x" * 9, long)
    assert long.calls == 2
    listed = Loads(result={"ids": [1, 2]})
    memo.load(schema, b"ids=1&ids=2", listed)
    assert memo.load(schema, b"ids=1&ids=2", listed) == {"ids": [1, 2]}
    assert listed.calls == 2


def test_at_most_size_entries_the_oldest_out_first() -> None:
    memo, load, schema = ParsedQueries(size=2, today=Day()), Loads(), object()
    for query in (b"a", b"b", b"c"):
        memo.load(schema, query, load)
    assert load.calls == 3
    memo.load(schema, b"c", load)
    memo.load(schema, b"b", load)
    assert load.calls == 3
    memo.load(schema, b"a", load)  # dropped when c came
    assert load.calls == 4


class Query(Schema):
    as_of = fields.Date(required=True)


def test_the_services_parse_query_answers_from_the_memo_and_still_refuses_bad_values(monkeypatch) -> None:
    memo = ParsedQueries(today=Day())
    monkeypatch.setattr(service_app, "QUERIES", memo)
    schema, app = Query(), Flask(__name__)
    with app.test_request_context("/x?as_of=2026-12-01"):
        assert service_app.parse_query(schema) == {"as_of": date(2026, 12, 1)}
    with app.test_request_context("/x?as_of=2026-12-01"):
        monkeypatch.setattr(schema, "load", lambda *a, **k: pytest.fail("loaded again"))
        assert service_app.parse_query(schema) == {"as_of": date(2026, 12, 1)}
    monkeypatch.undo()
    for _ in range(2):
        with app.test_request_context("/x?as_of=2026-13-01"), pytest.raises(ProblemError) as refused:
            service_app.parse_query(schema)
        assert refused.value.status == 400 and "as_of" in (refused.value.errors or {})


def test_the_gateways_parser_answers_from_the_memo_and_still_refuses_bad_values(monkeypatch) -> None:
    memo = ParsedQueries(today=Day())
    monkeypatch.setattr("gateway.openapi.QUERIES", memo)
    parser, schema, app = ProblemParser(), BalanceArgs(), Flask(__name__)
    calls = []
    monkeypatch.setattr(schema, "load", lambda *a, **k: calls.append(1) or Schema.load(schema, *a, **k))
    for _ in range(3):
        with app.test_request_context("/api/v1/balance?as_of=2026-11-30&lang=hu"):
            assert parser.parse(schema, location="query") == {"as_of": date(2026, 11, 30), "lang": "hu"}
    assert len(calls) == 1
    for _ in range(2):
        with app.test_request_context("/api/v1/balance?as_of=30.11.2026"), pytest.raises(ProblemError) as refused:
            parser.parse(schema, location="query")
        assert refused.value.status == 400 and "as_of" in (refused.value.errors or {})
    assert len(calls) == 3
