"""Invoice list, settlement sheet, payment block and HCT payload of the ledger (pure rules)."""

from __future__ import annotations

from datetime import date

import pytest

from services.ledger import invoicing, payment, sheet, wording
from services.ledger.rules import overdue_amount
from shared.api.ledger import period_error
from shared.config import vendor_settings
from tests.unit.test_ledger_rules import YEAR_CODE, invoice, refund
from tests.unit.test_ledger_rules import payment as paid

AS_OF = date(2026, 3, 15)
VENDOR = vendor_settings()


def test_invoice_statuses_follow_the_balance_allocation() -> None:
    invoices = [
        invoice("I1", 100_000, "2026-01-05", "2026-02-04"),
        invoice("I2", 50_000, "2026-01-20", "2026-02-19"),
        invoice("I3", 30_000, "2026-03-01", "2026-03-31"),
        invoice("I4", 20_000, "2026-02-01", "2026-03-03", cancelled="2026-02-10"),
    ]
    payments, refunds = [paid("P1", 130_000, "2026-02-01")], [refund("R1", 10_000, "2026-02-15")]
    result = invoicing.invoice_list(invoices, payments, refunds, AS_OF)
    by_number = {r["invoice_number"]: (r["status"], r["paid_amount"], r["open_amount"]) for r in result["invoices"]}
    assert by_number == {
        "I1": ("paid", 100_000, 0),
        "I2": ("overdue", 20_000, 30_000),
        "I3": ("open", 0, 30_000),
        "I4": ("cancelled", 0, 0),
    }
    assert [r["invoice_number"] for r in result["invoices"]] == ["I3", "I4", "I2", "I1"]
    assert result["totals"] == {"open_amount": 60_000, "overdue_amount": 30_000}
    assert result["totals"]["overdue_amount"] == overdue_amount(invoices, payments, refunds, AS_OF)
    only_overdue = invoicing.invoice_list(invoices, payments, refunds, AS_OF, status="overdue")
    assert [r["invoice_number"] for r in only_overdue["invoices"]] == ["I2"]
    january = invoicing.invoice_list(
        invoices, payments, refunds, AS_OF, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31)
    )
    assert [r["invoice_number"] for r in january["invoices"]] == ["I2", "I1"]
    assert january["totals"] == result["totals"]


def test_a_cancellation_after_as_of_is_not_seen_yet() -> None:
    invoices = [invoice("I1", 10_000, "2026-01-05", "2026-02-04", cancelled="2026-04-01")]
    row = invoicing.invoice_list(invoices, [], [], AS_OF)["invoices"][0]
    assert (row["status"], row["cancelled_on"], row["open_amount"]) == ("overdue", None, 10_000)


def test_hungarian_iban_and_account_number() -> None:
    assert payment.hungarian_iban("11773016-11111018") == "HU42117730161111101800000000"
    assert payment.full_account_number("11773016-11111018") == "11773016-11111018-00000000"
    with pytest.raises(ValueError, match="check digits"):
        payment.hungarian_iban("11773017-11111018")


def test_hct_payload_has_the_17_elements_in_order() -> None:
    block = payment.payment_block(128_600, "C1003", date(2026, 11, 29), VENDOR)
    assert block is not None
    lines = block["qr"].split("\n")
    assert len(lines) == 18 and lines[-1] == ""  # 17 elements, each ended by LF
    assert lines[:8] == [
        "HCT",
        "001",
        "1",
        "OTPVHUHBXXX",
        VENDOR["beneficiary"],
        block["iban"],
        "HUF128600",
        "20261229235959+1",
    ]
    assert lines[9] == "C1003" and lines[8] == "" and set(lines[10:17]) == {""}
    assert (block["amount"], block["reference"], block["account_number"]) == (
        128_600,
        "C1003",
        "11773016-11111018-00000000",
    )
    summer = payment.payment_block(1, "C1", date(2026, 6, 1), VENDOR)
    assert summer is not None and summer["qr"].split("\n")[7] == "20260701235959+2"
    assert payment.payment_block(0, "C1", AS_OF, VENDOR) is None
    assert payment.payment_block(1, "C1", date.max, VENDOR)["qr"].split("\n")[7].startswith("99991231")


def test_settlement_sheet_cuts_the_period_and_keeps_running_balances() -> None:
    invoices = [invoice("I1", 100_000, "2026-01-05", "2026-02-04"), invoice("I2", 50_000, "2026-02-20", "2026-03-22")]
    facts = {"invoices": invoices, "payments": [paid("P1", 60_000, "2026-02-01")], "refunds": [], "codes": [YEAR_CODE]}
    result = sheet.settlement_sheet(facts, "C1", "SN1", date(2026, 2, 1), date(2026, 2, 28), VENDOR, "hu")
    assert (result["opening_balance"], result["closing_balance"]) == (100_000, 90_000)
    assert [(e["document"], e["description"], e["running_balance"]) for e in result["entries"]] == [
        ("P1", "Banki átutalás", 40_000),
        ("I2", "Support I2", 90_000),
    ]
    assert result["payment"]["amount"] == 90_000 and result["codes"] is None


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        (date(2026, 1, 1), date(2025, 12, 31), False),
        (date(2021, 1, 1), date(2025, 12, 31), True),
        (date(2021, 1, 1), date(2026, 1, 1), False),
        (date(2024, 2, 29), date(2029, 2, 27), True),
        (date.min, date(1, 1, 2), False),
    ],
)
def test_sheet_periods(start: date, end: date, ok: bool) -> None:
    assert (period_error(start, end) is None) == ok


def test_descriptions_follow_the_language() -> None:
    assert wording.payment_description("bank_transfer", "SZ-1", "hu") == "Banki átutalás, közlemény: SZ-1"
    assert wording.cancellation_description("Éves díj", "hu") == "Sztornó: Éves díj"
    assert wording.refund_description("en") == "Refund"
