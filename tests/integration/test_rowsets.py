"""Row sets fetched in one statement (shared/readmodel/rowsets.py) against real PostgreSQL: every set the services
fetch that way gives exactly the rows, with the same Python types, that its query gives alone, and no query
returns a column whose type JSON would change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from services.contracts.queries import CUSTOMER_FACTS
from services.ledger.queries import FACTS
from shared.readmodel.rowsets import RowSets
from tests.support.readmodel import scratch_schema

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"customer_code": "C-rows", "serial_number": "S-1", "as_of": date(2026, 11, 1)}

# Every column filled, a NULL where the column allows one, and a second customer's rows that must not appear.
LEDGER_ROWS = [
    "INSERT INTO invoice VALUES ('I-1', 'C-rows', '2025-01-02', '2025-01-17', 'annual_fee', 'Éves díj', 100, 27, 127,"
    " 'HUF', 'S-1'), ('I-2', 'C-rows', '2025-02-03', '2025-02-18', 'other', 'Oktatás', 10, 3, 13, 'HUF', NULL),"
    " ('I-9', 'C-other', '2025-01-02', '2025-01-17', 'other', 'x', 1, 0, 1, 'HUF', NULL)",
    "INSERT INTO invoice_cancellation VALUES ('I-2', 'C-rows', '2025-02-10', 'hibás')",
    "INSERT INTO payment VALUES ('P-1', 'C-rows', '2025-01-10', 127, 'bank_transfer', 'I-1'),"
    " ('P-2', 'C-rows', '2025-03-01', 5, 'cash', NULL)",
    "INSERT INTO refund VALUES ('R-1', 'C-rows', '2025-03-05', 5)",
    "INSERT INTO license_code VALUES ('L-1', 'C-rows', 'S-1', '2025-01-01', '2026-12-31', 'RENT-1', 'NET-1'),"
    " ('L-2', 'C-rows', 'S-1', '2026-01-01', '2026-12-31', NULL, 'NET-2')",
]
CONTRACT_ROWS = [
    "INSERT INTO contracts VALUES ('K-1', 'C-rows', '2024-05-06', '2024-06-01')",
    "INSERT INTO contract_item_changes (contract_id, customer_code, kind, effective_on, serial_number, product_code,"
    " product_name, quantity, license_type) VALUES ('K-1', 'C-rows', 'signed', '2024-06-01', 'S-1', 'KONYV',"
    " 'Könyvelő', 2, 'rental'), ('K-1', 'C-rows', 'removed', '2025-06-01', 'S-1', NULL, NULL, NULL, NULL)",
    "INSERT INTO contract_terminations (contract_id, customer_code, terminated_on) VALUES ('K-1', 'C-rows', '2026-06-01')",
    "INSERT INTO customer_detail_changes (customer_code, effective_on, details) VALUES"
    ' (\'C-rows\', \'2024-05-06\', \'{"name": "Minta Kft.", "address": {"city": "Pécs"}, "since": "2024-05-06"}\')',
]
CASES = {"ledger": (FACTS, LEDGER_ROWS), "contracts": (CUSTOMER_FACTS, CONTRACT_ROWS)}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest):
    sets, rows = CASES[request.param]
    with scratch_schema(ROOT / "services" / request.param / "schema.sql") as conn:
        for statement in rows:
            conn.execute(statement)
        yield sets, conn


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
