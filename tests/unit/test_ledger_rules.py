"""Balance rules of query 1: balance, overdue amount, settlement-sheet entries, codes."""

from __future__ import annotations

from datetime import date

from services.ledger.rules import Invoice, LicenseCode, Payment, Refund, statement

AS_OF = date(2026, 3, 15)


def day(iso: str) -> date:
    return date.fromisoformat(iso)


def invoice(number: str, gross: int, issued: str, due: str, cancelled: str | None = None) -> Invoice:
    return Invoice(number, day(issued), day(due), f"Support {number}", gross, day(cancelled) if cancelled else None)


def payment(payment_id: str, amount: int, received: str, reference: str | None = None) -> Payment:
    return Payment(payment_id, day(received), amount, "bank_transfer", reference)


def refund(refund_id: str, amount: int, refunded: str) -> Refund:
    return Refund(refund_id, day(refunded), amount)


def code(serial: str, valid_from: str, valid_until: str, internet: str = "NET", arrival: int = 0) -> LicenseCode:
    return LicenseCode(serial, day(valid_from), day(valid_until), "RENT", internet, arrival)


YEAR_CODE = code("SN1", "2026-01-01", "2026-12-31")


def sheet(invoices=(), payments=(), refunds=(), codes=(), serial="SN1", as_of=AS_OF) -> dict:
    return statement(list(invoices), list(payments), list(refunds), list(codes), serial, as_of)


def lines(result: dict) -> list[tuple]:
    return [
        (e["date"].isoformat(), e["type"], e["document"], e["debit"], e["credit"], e["running_balance"])
        for e in result["entries"]
    ]


def test_partial_payment_leaves_arrears_and_overdue_rest() -> None:
    result = sheet([invoice("I1", 100_000, "2026-01-10", "2026-02-10")], [payment("P1", 30_000, "2026-02-01")])
    assert (result["balance"], result["status"], result["overdue_amount"]) == (70_000, "arrears", 70_000)
    assert result["codes"] is None
    assert result["codes_withheld"] == {"reason": "outstanding_balance", "amount_due": 70_000}


def test_overpayment_then_refund_settles() -> None:
    invoices = [invoice("I1", 50_000, "2026-01-10", "2026-02-10")]
    payments = [payment("P1", 80_000, "2026-01-20")]
    overpaid = sheet(invoices, payments, codes=[YEAR_CODE], as_of=date(2026, 2, 1))
    assert (overpaid["balance"], overpaid["status"], overpaid["overdue_amount"]) == (-30_000, "overpaid", 0)
    settled = sheet(invoices, payments, [refund("R1", 30_000, "2026-02-05")], [YEAR_CODE])
    assert (settled["balance"], settled["status"], settled["overdue_amount"]) == (0, "settled", 0)
    assert lines(settled)[-1] == ("2026-02-05", "refund", "R1", 30_000, 0, 0)
    assert settled["codes"]["internet_code"] == "NET"
    assert settled["codes_withheld"] is None


def test_refunds_beyond_payments_do_not_make_a_negative_fund() -> None:
    invoices = [invoice("I1", 10_000, "2026-01-10", "2026-02-10")]
    result = sheet(invoices, [payment("P1", 5_000, "2026-01-20")], [refund("R1", 8_000, "2026-01-25")])
    assert (result["balance"], result["overdue_amount"]) == (13_000, 10_000)


def test_cancellation_after_as_of_still_counts_without_a_cancellation_line() -> None:
    result = sheet([invoice("I1", 40_000, "2026-01-10", "2026-04-10", cancelled="2026-03-16")])
    assert (result["balance"], result["overdue_amount"]) == (40_000, 0)
    assert lines(result) == [("2026-01-10", "invoice", "I1", 40_000, 0, 40_000)]


def test_cancellation_on_as_of_removes_the_invoice_and_credits_it() -> None:
    result = sheet([invoice("I1", 40_000, "2026-01-10", "2026-02-10", cancelled="2026-03-15")], codes=[YEAR_CODE])
    assert (result["balance"], result["status"], result["overdue_amount"]) == (0, "settled", 0)
    assert lines(result) == [
        ("2026-01-10", "invoice", "I1", 40_000, 0, 40_000),
        ("2026-03-15", "cancellation", "I1", 0, 40_000, 0),
    ]
    assert result["entries"][1]["description"] == "Storno: Support I1"
    assert result["entries"][1]["due_on"] is None


def test_invoice_issued_after_as_of_is_not_counted_or_listed() -> None:
    result = sheet([invoice("I1", 40_000, "2026-03-16", "2026-04-16")])
    assert (result["balance"], result["entries"]) == (0, [])


def test_two_invoices_due_the_same_day_are_paid_by_issue_date_then_number() -> None:
    invoices = [
        invoice("I3", 30_000, "2026-01-05", "2026-02-01"),
        invoice("I2", 20_000, "2026-01-05", "2026-02-01"),
        invoice("I1", 10_000, "2026-01-06", "2026-02-01"),
        invoice("I0", 50_000, "2026-01-20", "2026-04-01"),
    ]
    # 25 000 pays I2 (20 000) and 5 000 of I3; I1 stays unpaid; I0 is not yet due.
    result = sheet(invoices, [payment("P1", 25_000, "2026-01-31")])
    assert (result["balance"], result["overdue_amount"]) == (85_000, 35_000)


def test_payments_go_to_the_oldest_due_first_not_the_named_invoice() -> None:
    invoices = [
        invoice("OLD", 10_000, "2026-01-01", "2026-01-31"),
        invoice("NEW", 10_000, "2026-02-01", "2026-03-31"),
    ]
    result = sheet(invoices, [payment("P1", 10_000, "2026-02-05", reference="NEW")])
    assert (result["balance"], result["overdue_amount"]) == (10_000, 0)


def test_invoice_due_on_as_of_is_not_overdue() -> None:
    invoices = [
        invoice("I1", 10_000, "2026-02-15", "2026-03-15"),
        invoice("I2", 7_000, "2026-02-01", "2026-03-14"),
    ]
    result = sheet(invoices)
    assert (result["balance"], result["overdue_amount"]) == (17_000, 7_000)


def test_facts_after_as_of_are_ignored() -> None:
    invoices = [invoice("I1", 10_000, "2026-01-01", "2026-01-31")]
    result = sheet(invoices, [payment("P1", 10_000, "2026-03-16")], [refund("R1", 1_000, "2026-03-20")])
    assert (result["balance"], result["overdue_amount"], len(result["entries"])) == (10_000, 10_000, 1)


def test_codes_are_valid_on_their_first_and_last_day_only() -> None:
    codes = [code("SN1", "2026-01-01", "2026-12-31")]
    first = sheet(codes=codes, as_of=date(2026, 1, 1))["codes"]
    assert first == {
        "serial_number": "SN1",
        "rental_code": "RENT",
        "internet_code": "NET",
        "valid_from": date(2026, 1, 1),
        "valid_until": date(2026, 12, 31),
    }
    assert sheet(codes=codes, as_of=date(2026, 12, 31))["codes"] == first
    day_after = sheet(codes=codes, as_of=date(2027, 1, 1))
    assert (day_after["codes"], day_after["codes_withheld"]) == (None, {"reason": "no_codes_issued"})
    day_before = sheet(codes=codes, as_of=date(2025, 12, 31))
    assert (day_before["codes"], day_before["codes_withheld"]) == (None, {"reason": "no_codes_issued"})


def test_codes_of_another_serial_of_the_customer_are_not_shown() -> None:
    result = sheet(codes=[code("SN2", "2026-01-01", "2026-12-31")], serial="SN1")
    assert (result["codes"], result["codes_withheld"]) == (None, {"reason": "no_codes_issued"})


def test_latest_valid_from_wins_and_later_arrival_breaks_ties() -> None:
    codes = [
        code("SN1", "2026-01-01", "2026-12-31", "OLD", arrival=1),
        code("SN1", "2026-03-01", "2026-12-31", "FIRST", arrival=5),
        code("SN1", "2026-03-01", "2026-12-31", "SECOND", arrival=7),
        code("SN1", "2026-03-20", "2026-12-31", "FUTURE", arrival=9),
    ]
    assert sheet(codes=codes)["codes"]["internet_code"] == "SECOND"
    assert sheet(codes=codes, as_of=date(2026, 2, 1))["codes"]["internet_code"] == "OLD"


def test_outstanding_balance_is_named_before_missing_codes() -> None:
    result = sheet([invoice("I1", 1, "2026-01-10", "2026-04-10")])
    assert result["codes"] is None
    assert result["codes_withheld"] == {"reason": "outstanding_balance", "amount_due": 1}


def test_codes_shown_when_overpaid() -> None:
    result = sheet(payments=[payment("P1", 5_000, "2026-01-10")], codes=[YEAR_CODE])
    assert (result["balance"], result["codes"]["internet_code"], result["codes_withheld"]) == (-5_000, "NET", None)


def test_entries_of_one_day_order_by_type_then_document() -> None:
    on = "2026-02-01"
    invoices = [invoice("I9", 10, on, "2026-03-01"), invoice("I2", 20, on, "2026-03-01")]
    invoices.append(invoice("I5", 5, "2026-01-15", "2026-02-15", cancelled=on))
    result = sheet(invoices, [payment("P2", 1, on), payment("P1", 2, on)], [refund("R1", 3, on)])
    assert [f"{e['date']} {e['type']} {e['document']}" for e in result["entries"]] == [
        "2026-01-15 invoice I5", "2026-02-01 invoice I2", "2026-02-01 invoice I9", "2026-02-01 cancellation I5",
        "2026-02-01 payment P1", "2026-02-01 payment P2", "2026-02-01 refund R1",
    ]  # fmt: skip


def test_running_balance_follows_debits_and_credits_and_ends_at_balance() -> None:
    result = sheet(
        [
            invoice("I1", 100_000, "2026-01-05", "2026-02-05"),
            invoice("I2", 60_000, "2026-02-10", "2026-03-10", cancelled="2026-02-20"),
        ],
        [payment("P1", 70_000, "2026-01-20", reference="I1"), payment("P2", 50_000, "2026-03-01")],
        [refund("R1", 5_000, "2026-03-05")],
    )
    assert lines(result) == [
        ("2026-01-05", "invoice", "I1", 100_000, 0, 100_000),
        ("2026-01-20", "payment", "P1", 0, 70_000, 30_000),
        ("2026-02-10", "invoice", "I2", 60_000, 0, 90_000),
        ("2026-02-20", "cancellation", "I2", 0, 60_000, 30_000),
        ("2026-03-01", "payment", "P2", 0, 50_000, -20_000),
        ("2026-03-05", "refund", "R1", 5_000, 0, -15_000),
    ]
    assert result["balance"] == result["entries"][-1]["running_balance"] == -15_000


def test_entry_fields_and_descriptions() -> None:
    result = sheet(
        [invoice("I1", 100, "2026-01-05", "2026-02-05")],
        [payment("P1", 40, "2026-01-06", reference="I1"), Payment("P2", date(2026, 1, 7), 10, "cash")],
        [refund("R1", 5, "2026-01-08")],
    )
    assert result["entries"][0] == {
        "date": date(2026, 1, 5),
        "type": "invoice",
        "document": "I1",
        "description": "Support I1",
        "due_on": date(2026, 2, 5),
        "debit": 100,
        "credit": 0,
        "running_balance": 100,
    }
    described = [(e["description"], e["due_on"]) for e in result["entries"][1:]]
    assert described == [("Bank transfer, ref. I1", None), ("Cash", None), ("Refund", None)]


def test_no_facts_is_settled_with_no_codes_issued() -> None:
    result = sheet()
    assert result == {
        "balance": 0,
        "status": "settled",
        "overdue_amount": 0,
        "entries": [],
        "codes": None,
        "codes_withheld": {"reason": "no_codes_issued"},
    }


def test_amounts_stay_integers() -> None:
    result = sheet([invoice("I1", 12_701, "2026-01-05", "2026-02-05")], [payment("P1", 3, "2026-01-06")])
    values = [result["balance"], result["overdue_amount"]] + [e["running_balance"] for e in result["entries"]]
    assert all(type(value) is int for value in values)
