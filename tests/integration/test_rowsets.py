"""Row sets fetched in one statement (shared/readmodel/rowsets.py) against real PostgreSQL: every set the services
fetch that way gives exactly the rows, with the same Python types, that its query gives alone, and no query
returns a column whose type JSON would change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from services.contracts.queries import CUSTOMER_FACTS
from shared.readmodel.rowsets import RowSets
from tests.support.readmodel import scratch_schema

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"customer_code": "C-rows", "as_of": date(2026, 11, 1)}

# Every column filled, a NULL where the column allows one, and a second customer's rows that must not appear.
CONTRACT_ROWS = [
    "INSERT INTO contracts VALUES ('K-1', 'C-rows', '2024-05-06', '2024-06-01'),"
    " ('K-9', 'C-other', '2024-05-06', '2024-06-01')",
    "INSERT INTO contract_item_changes (contract_id, customer_code, kind, effective_on, serial_number, product_code,"
    " product_name, quantity, license_type) VALUES ('K-1', 'C-rows', 'signed', '2024-06-01', 'S-1', 'KONYV',"
    " 'Könyvelő', 2, 'rental'), ('K-1', 'C-rows', 'removed', '2025-06-01', 'S-1', NULL, NULL, NULL, NULL)",
    "INSERT INTO contract_terminations (contract_id, customer_code, terminated_on) VALUES ('K-1', 'C-rows', '2026-06-01')",
    "INSERT INTO customer_detail_changes (customer_code, effective_on, details) VALUES"
    ' (\'C-rows\', \'2024-05-06\', \'{"name": "Minta Kft.", "address": {"city": "Pécs"}, "since": "2024-05-06"}\')',
]


@pytest.fixture
def case():
    """The contracts' row sets and a scratch read model holding CONTRACT_ROWS."""
    with scratch_schema(ROOT / "services" / "contracts" / "schema.sql") as conn:
        for statement in CONTRACT_ROWS:
            conn.execute(statement)
        yield CUSTOMER_FACTS, conn


def test_one_statement_gives_the_rows_and_types_of_each_query_alone(case) -> None:
    sets, conn = case
    fetched = sets.fetch(conn, PARAMS)
    assert list(fetched) == list(sets.queries)
    for name, query in sets.queries.items():
        expected = conn.cursor(row_factory=psycopg.rows.dict_row).execute(query, PARAMS).fetchall()
        assert expected, f"{name}: the test data must give every set rows"
        got = fetched[name]
        assert sorted(map(repr, got)) == sorted(map(repr, expected)), name  # repr: values and their types


def test_no_query_returns_a_column_json_would_change(case) -> None:
    sets, conn = case
    oid = {name: conn.adapters.types[name].oid for name in ("text", "int2", "int4", "int8", "bool", "json", "jsonb")}
    date_oid = conn.adapters.types["date"].oid
    for name, query in sets.queries.items():
        cur = conn.execute(query, PARAMS)
        assert cur.description is not None
        for column in cur.description:
            if column.type_code == date_oid:
                assert column.name in sets.dates, f"{name}.{column.name} is a date not named in `dates`"
            else:
                assert column.type_code in oid.values(), f"{name}.{column.name}: type {column.type_code}"


def test_sets_without_rows_are_empty_lists(case) -> None:
    sets, conn = case
    assert sets.fetch(conn, {**PARAMS, "customer_code": "C-none"}) == {name: [] for name in sets.queries}


def test_a_set_name_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="identifier"):
        RowSets({"bad name": "SELECT 1"}, dates=())
