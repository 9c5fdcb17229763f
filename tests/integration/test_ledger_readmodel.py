"""Ledger read model against real PostgreSQL: handlers store facts, `balance` answers query 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from services.ledger import queries
from services.ledger.projection import PROJECTION
from tests.support.events import handed_over
from tests.support.readmodel import scratch_schema

SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "ledger" / "schema.sql"


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    with scratch_schema(SCHEMA_SQL) as connection:
        yield connection


@pytest.fixture
def customer() -> str:
    return f"C-{uuid4().hex[:8]}"


def apply(conn: psycopg.Connection, customer: str, type_: str, **data: object) -> None:
    """Run the handler of one event as the projector would, in its own transaction."""
    event = handed_over(type_, {"customer_code": customer, **data})
    with conn.transaction(), conn.cursor() as cur:
        PROJECTION.apply_batch(cur, [event])


def issue(conn: psycopg.Connection, customer: str, number: str, gross: int, issued: date, due: date) -> None:
    net = gross * 100 // 127
    invoice = {"invoice_number": number, "issued_on": issued, "due_on": due, "kind": "other"}
    amounts = {"net_amount": net, "vat_amount": gross - net, "gross_amount": gross, "currency": "HUF"}
    apply(conn, customer, "invoice.issued", description=f"Support fee {number}", **invoice, **amounts)


def pay(conn: psycopg.Connection, customer: str, payment_id: str, amount: int, received: date, **ref) -> None:
    payment = {"payment_id": payment_id, "received_on": received, "amount": amount}
    apply(conn, customer, "payment.received", method="bank_transfer", **payment, **ref)


def codes(conn: psycopg.Connection, customer: str, serial: str, valid_from: date, internet: str) -> None:
    valid = {"valid_from": valid_from, "valid_until": date(2026, 12, 31)}
    apply(
        conn, customer, "license.codes_issued", serial_number=serial, rental_code=None, internet_code=internet, **valid
    )


def entry(day: str, kind: str, document: str, description: str, due_on, debit: int, credit: int, running: int):
    """One expected settlement-sheet line, as JSON."""
    keys = ("date", "type", "document", "description", "due_on", "debit", "credit", "running_balance")
    return dict(zip(keys, (day, kind, document, description, due_on, debit, credit, running), strict=True))


def test_topics_and_handlers_cover_the_contract() -> None:
    assert PROJECTION.topics == ("invoices", "payments", "license-codes")
    assert sorted(PROJECTION.handlers) == [
        "invoice.cancelled",
        "invoice.issued",
        "license.codes_issued",
        "payment.received",
        "payment.refunded",
    ]


def test_full_statement_with_cancellation_arriving_before_its_invoice(conn, customer) -> None:
    number, storno = f"{customer}-1", f"{customer}-2"
    p1, p2, r1 = f"{customer}-P1", f"{customer}-P2", f"{customer}-R1"
    apply(conn, customer, "invoice.cancelled", invoice_number=storno, cancelled_on=date(2026, 2, 20))
    issue(conn, customer, number, 127_000, date(2026, 1, 5), date(2026, 2, 4))
    issue(conn, customer, storno, 63_500, date(2026, 2, 10), date(2026, 3, 12))
    pay(conn, customer, p1, 100_000, date(2026, 1, 20), reference=number)
    pay(conn, customer, p2, 50_000, date(2026, 3, 1))
    apply(conn, customer, "payment.refunded", refund_id=r1, refunded_on=date(2026, 3, 5), amount=20_000)
    codes(conn, customer, "SN-1", date(2026, 1, 1), "NET-1")

    result = queries.balance(conn, customer, "SN-1", date(2026, 3, 15))

    assert json.loads(json.dumps(result)) == result
    assert result == {
        "customer_code": customer,
        "as_of": "2026-03-15",
        "currency": "HUF",
        "balance": -3_000,
        "status": "overpaid",
        "overdue_amount": 0,
        "entries": [
            entry("2026-01-05", "invoice", number, f"Support fee {number}", "2026-02-04", 127_000, 0, 127_000),
            entry("2026-01-20", "payment", p1, f"Bank transfer, ref. {number}", None, 0, 100_000, 27_000),
            entry("2026-02-10", "invoice", storno, f"Support fee {storno}", "2026-03-12", 63_500, 0, 90_500),
            entry("2026-02-20", "cancellation", storno, f"Storno: Support fee {storno}", None, 0, 63_500, 27_000),
            entry("2026-03-01", "payment", p2, "Bank transfer", None, 0, 50_000, -23_000),
            entry("2026-03-05", "refund", r1, "Refund", None, 20_000, 0, -3_000),
        ],
        "codes": {
            "serial_number": "SN-1",
            "rental_code": None,
            "internet_code": "NET-1",
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        },
        "codes_withheld": None,
        "payment": None,
    }


def test_as_of_before_facts_sees_arrears_and_withholds_codes(conn, customer) -> None:
    issue(conn, customer, f"{customer}-1", 127_000, date(2026, 1, 5), date(2026, 2, 4))
    pay(conn, customer, f"{customer}-P1", 100_000, date(2026, 1, 20))
    codes(conn, customer, "SN-1", date(2026, 1, 1), "NET-1")

    result = queries.balance(conn, customer, "SN-1", date(2026, 2, 5))

    assert (result["balance"], result["status"], result["overdue_amount"]) == (27_000, "arrears", 27_000)
    assert (result["codes"], result["codes_withheld"]) == (
        None,
        {"reason": "outstanding_balance", "amount_due": 27_000},
    )


def test_cancellation_after_as_of_still_counts(conn, customer) -> None:
    number = f"{customer}-1"
    issue(conn, customer, number, 10_000, date(2026, 1, 5), date(2026, 2, 4))
    apply(conn, customer, "invoice.cancelled", invoice_number=number, cancelled_on=date(2026, 3, 1), reason="typo")

    before = queries.balance(conn, customer, "SN-1", date(2026, 2, 28))
    after = queries.balance(conn, customer, "SN-1", date(2026, 3, 1))

    assert (before["balance"], before["overdue_amount"], len(before["entries"])) == (10_000, 10_000, 1)
    assert (after["balance"], after["overdue_amount"], len(after["entries"])) == (0, 0, 2)
    assert after["codes_withheld"] == {"reason": "no_codes_issued"}


def test_payment_naming_another_customers_invoice_reduces_the_payers_balance(conn, customer) -> None:
    other = f"C-{uuid4().hex[:8]}"
    issue(conn, other, f"{other}-1", 5_000, date(2026, 1, 5), date(2026, 2, 4))
    pay(conn, customer, f"{customer}-PX", 5_000, date(2026, 1, 10), reference=f"{other}-1")

    assert queries.balance(conn, customer, "SN-1", date(2026, 3, 1))["balance"] == -5_000
    assert queries.balance(conn, other, "SN-1", date(2026, 3, 1))["balance"] == 5_000


def test_codes_latest_valid_from_then_later_arrival_for_the_asked_serial(conn, customer) -> None:
    codes(conn, customer, "SN-1", date(2026, 1, 1), "OLD")
    codes(conn, customer, "SN-1", date(2026, 3, 1), "FIRST")
    codes(conn, customer, "SN-1", date(2026, 3, 1), "SECOND")
    codes(conn, customer, "SN-2", date(2026, 3, 10), "OTHER-SERIAL")

    assert queries.balance(conn, customer, "SN-1", date(2026, 3, 15))["codes"]["internet_code"] == "SECOND"
    assert queries.balance(conn, customer, "SN-1", date(2026, 2, 1))["codes"]["internet_code"] == "OLD"
    assert queries.balance(conn, customer, "SN-3", date(2026, 3, 15))["codes_withheld"] == {"reason": "no_codes_issued"}


def test_reissued_invoice_number_replaces_the_earlier_fact(conn, customer) -> None:
    number = f"{customer}-1"
    issue(conn, customer, number, 10_000, date(2026, 1, 5), date(2026, 2, 4))
    issue(conn, customer, number, 12_000, date(2026, 1, 5), date(2026, 2, 4))

    result = queries.balance(conn, customer, "SN-1", date(2026, 3, 1))

    assert (result["balance"], len(result["entries"])) == (12_000, 1)
