"""Row sets fetched in one statement (shared/readmodel/rowsets.py) against real PostgreSQL: every set the services
fetch that way gives exactly the rows, with the same Python types, that its query gives alone, and no query
returns a column whose type JSON would change; the ledger's facts in one UNION ALL are those of each query alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest

from services.contracts.queries import CUSTOMER_FACTS
from services.ledger.queries import FACT_SLOTS
from services.ledger.queries import FACTS as LEDGER_FACTS
from shared.readmodel.rowsets import RowSets, TypedUnion
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


def holding(service: str, rows: list[str]) -> Iterator[psycopg.Connection]:
    """A scratch read model of `service` holding `rows`."""
    with scratch_schema(ROOT / "services" / service / "schema.sql") as conn:
        for statement in rows:
            conn.execute(statement)
        yield conn


@pytest.fixture
def case():
    """The contracts' row sets and a scratch read model holding CONTRACT_ROWS."""
    for conn in holding("contracts", CONTRACT_ROWS):
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


# The ledger's facts (TypedUnion): every table a fact query reads, a NULL where a column allows one, a cancelled
# invoice, rows after `as_of`, another serial number's codes and another customer's rows, none of which may appear.
LEDGER_KINDS = LEDGER_FACTS.kinds
LEDGER_PARAMS = {"customer_code": "C-rows", "serial_number": "S-1", "as_of": date(2026, 11, 1)}
LEDGER_ROWS = [
    "INSERT INTO invoice (invoice_number, customer_code, issued_on, due_on, kind, description, net_amount,"
    " vat_amount, gross_amount, currency, serial_number) VALUES"
    " ('SZ-1', 'C-rows', '2026-01-05', '2026-01-20', 'annual_fee', 'Éves díj', 100000, 27000, 127000, 'HUF', 'S-1'),"
    " ('SZ-2', 'C-rows', '2026-02-05', '2026-02-20', 'overrun', 'Túllépés', 1000, 270, 1270, 'HUF', NULL),"
    " ('SZ-3', 'C-rows', '2026-12-05', '2026-12-20', 'other', 'Later', 1, 0, 1, 'HUF', NULL),"
    " ('SZ-9', 'C-other', '2026-01-05', '2026-01-20', 'other', 'Other', 5, 0, 5, 'HUF', NULL)",
    "INSERT INTO invoice_cancellation (invoice_number, customer_code, cancelled_on, reason) VALUES"
    " ('SZ-2', 'C-rows', '2026-03-01', 'hiba')",
    "INSERT INTO payment (payment_id, customer_code, received_on, amount, method, reference) VALUES"
    " ('P-1', 'C-rows', '2026-01-10', 127000, 'transfer', 'SZ-1'), ('P-2', 'C-rows', '2026-02-10', 500, 'cash', NULL),"
    " ('P-3', 'C-rows', '2026-11-02', 7, 'cash', NULL), ('P-9', 'C-other', '2026-01-10', 5, 'cash', NULL)",
    "INSERT INTO refund (refund_id, customer_code, refunded_on, amount) VALUES"
    " ('R-1', 'C-rows', '2026-02-15', 500), ('R-9', 'C-other', '2026-02-15', 5)",
    "INSERT INTO license_code (event_id, customer_code, serial_number, valid_from, valid_until, rental_code,"
    " internet_code) VALUES ('E-1', 'C-rows', 'S-1', '2026-01-01', '2026-12-31', 'RC-1', 'IC-1'),"
    " ('E-2', 'C-rows', 'S-1', '2026-06-01', '2026-12-31', NULL, 'IC-2'),"
    " ('E-3', 'C-rows', 'S-2', '2026-01-01', '2026-12-31', 'RC-3', 'IC-3'),"
    " ('E-9', 'C-other', 'S-1', '2026-01-01', '2026-12-31', 'RC-9', 'IC-9')",
]


@pytest.fixture
def ledger():
    """A scratch ledger read model holding LEDGER_ROWS."""
    yield from holding("ledger", LEDGER_ROWS)


def test_the_ledgers_union_gives_the_facts_of_each_query_alone(ledger) -> None:
    fetched = LEDGER_FACTS.fetch(ledger, LEDGER_PARAMS)
    assert list(fetched) == ["invoices", "payments", "refunds", "codes"]
    for name, (query, kind, _) in LEDGER_KINDS.items():
        rows = ledger.cursor(row_factory=psycopg.rows.dict_row).execute(query, LEDGER_PARAMS).fetchall()
        assert rows, f"{name}: the test data must give every query rows"
        expected = [kind(**row) for row in rows]
        assert sorted(map(repr, fetched[name])) == sorted(map(repr, expected)), name  # repr: values and types
    assert {invoice.invoice_number for invoice in fetched["invoices"]} == {"SZ-1", "SZ-2"}
    assert [code.rental_code for code in sorted(fetched["codes"], key=lambda code: code.valid_from)] == ["RC-1", None]


def test_the_ledgers_union_without_rows_is_empty_lists(ledger) -> None:
    assert LEDGER_FACTS.fetch(ledger, {**LEDGER_PARAMS, "customer_code": "C-none"}) == {
        "invoices": [],
        "payments": [],
        "refunds": [],
        "codes": [],
    }


def test_a_slot_of_the_wrong_type_is_refused_by_postgresql(ledger) -> None:
    # the payment's amount (bigint) put in a date slot: the union cannot be planned
    kinds = {**LEDGER_KINDS, "payments": (LEDGER_KINDS["payments"][0], LEDGER_KINDS["payments"][1], (0, 1, 5, 3, 6))}
    with pytest.raises(psycopg.errors.DatatypeMismatch):
        TypedUnion(FACT_SLOTS, kinds).fetch(ledger, LEDGER_PARAMS)


@pytest.mark.parametrize("places", [(0, 1, 4), (0, 1, 4, 3, 3), (0, 1, 4, 3, 9)])
def test_each_field_needs_a_slot_of_its_own(places) -> None:
    kinds = {"payments": (LEDGER_KINDS["payments"][0], LEDGER_KINDS["payments"][1], places)}
    with pytest.raises(ValueError, match="payments: one distinct slot of 9 for each of the 5 fields"):
        TypedUnion(FACT_SLOTS, kinds)


@dataclass(frozen=True)
class OnlyId:
    refund_id: str


def test_a_kind_of_one_field_is_made_from_that_field(ledger) -> None:
    query = "SELECT refund_id FROM refund WHERE customer_code = %(customer_code)s"
    union = TypedUnion(("text",), {"ids": (query, OnlyId, (0,))})
    assert union.fetch(ledger, LEDGER_PARAMS) == {"ids": [OnlyId("R-1")]}
