"""Balance rules of the customer ledger (pure, no I/O): balance, overdue amount, sheet, codes.

Descriptions on the settlement sheet are composed in the interface language (services/ledger/wording.py):
invoice lines carry the invoice's own description; a cancellation is "Storno: <description>" ("Sztornó: …");
a payment is its method followed by the reference when the payer named one; a refund is "Refund".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from services.ledger import wording

ENTRY_ORDER = {"invoice": 0, "cancellation": 1, "payment": 2, "refund": 3}


@dataclass(frozen=True)
class Invoice:
    """An issued invoice and, when one is known, the date of its cancellation."""

    invoice_number: str
    issued_on: date
    due_on: date
    description: str
    gross_amount: int
    cancelled_on: date | None = None
    kind: str = "other"
    net_amount: int = 0
    vat_amount: int = 0


@dataclass(frozen=True)
class Payment:
    """Money received from the customer."""

    payment_id: str
    received_on: date
    amount: int
    method: str
    reference: str | None = None


@dataclass(frozen=True)
class Refund:
    """An overpayment paid back to the customer."""

    refund_id: str
    refunded_on: date
    amount: int


@dataclass(frozen=True)
class LicenseCode:
    """Codes issued for one serial number; `arrival` breaks ties of equal `valid_from`."""

    serial_number: str
    valid_from: date
    valid_until: date
    rental_code: str | None
    internet_code: str
    arrival: int = 0


def is_counted(invoice: Invoice, as_of: date) -> bool:
    """Whether the invoice is issued on or before `as_of` and not cancelled by then."""
    cancelled = invoice.cancelled_on is not None and invoice.cancelled_on <= as_of
    return invoice.issued_on <= as_of and not cancelled


def balance_due(invoices: list[Invoice], payments: list[Payment], refunds: list[Refund], as_of: date) -> int:
    """Counted invoices minus payments plus refunds up to `as_of`; positive: the customer owes."""
    invoiced = sum(i.gross_amount for i in invoices if is_counted(i, as_of))
    return invoiced - net_paid(payments, refunds, as_of)


def net_paid(payments: list[Payment], refunds: list[Refund], as_of: date) -> int:
    """Payments received minus refunds paid on or before `as_of` (may be negative)."""
    received = sum(p.amount for p in payments if p.received_on <= as_of)
    return received - sum(r.amount for r in refunds if r.refunded_on <= as_of)


def balance_status(balance: int) -> str:
    """`arrears` when the customer owes, `settled` at zero, `overpaid` below zero."""
    return "arrears" if balance > 0 else "settled" if balance == 0 else "overpaid"


def allocation(invoices: list[Invoice], payments: list[Payment], refunds: list[Refund], as_of: date) -> dict[str, int]:
    """What each counted invoice received: the net paid (at least 0) spent oldest `due_on` first
    (ties: `issued_on`, then `invoice_number`); the invoices list and the overdue amount both use it."""
    fund = max(net_paid(payments, refunds, as_of), 0)
    counted = sorted(
        (i for i in invoices if is_counted(i, as_of)),
        key=lambda i: (i.due_on, i.issued_on, i.invoice_number),
    )
    paid = {}
    for invoice in counted:
        paid[invoice.invoice_number] = min(fund, max(invoice.gross_amount, 0))
        fund -= paid[invoice.invoice_number]
    return paid


def overdue_amount(invoices: list[Invoice], payments: list[Payment], refunds: list[Refund], as_of: date) -> int:
    """Unpaid part of invoices due before `as_of`, paying off the oldest `due_on` first."""
    paid = allocation(invoices, payments, refunds, as_of)
    return sum(
        max(i.gross_amount - paid[i.invoice_number], 0)
        for i in invoices
        if i.invoice_number in paid and i.due_on < as_of
    )


def payment_description(payment: Payment, lang: str = "en") -> str:
    """The method, and the invoice number the payer named, if any."""
    return wording.payment_description(payment.method, payment.reference, lang)


def _line(day: date, kind: str, document: str, description: str, debit: int, credit: int) -> dict[str, Any]:
    return {
        "date": day,
        "type": kind,
        "document": document,
        "description": description,
        "due_on": None,
        "debit": debit,
        "credit": credit,
    }


def invoice_lines(invoices: list[Invoice], as_of: date, lang: str = "en") -> list[dict[str, Any]]:
    """Invoice lines, and cancellation lines for those cancelled on or before `as_of`."""
    lines = []
    for i in (i for i in invoices if i.issued_on <= as_of):
        line = _line(i.issued_on, "invoice", i.invoice_number, i.description, i.gross_amount, 0)
        lines.append(line | {"due_on": i.due_on})
        if i.cancelled_on is not None and i.cancelled_on <= as_of:
            storno = wording.cancellation_description(i.description, lang)
            lines.append(_line(i.cancelled_on, "cancellation", i.invoice_number, storno, 0, i.gross_amount))
    return lines


def money_lines(payments: list[Payment], refunds: list[Refund], as_of: date, lang: str = "en") -> list[dict[str, Any]]:
    """Payment and refund lines up to `as_of`."""
    paid = [
        _line(p.received_on, "payment", p.payment_id, payment_description(p, lang), 0, p.amount)
        for p in payments
        if p.received_on <= as_of
    ]
    refunded = [
        _line(r.refunded_on, "refund", r.refund_id, wording.refund_description(lang), r.amount, 0)
        for r in refunds
        if r.refunded_on <= as_of
    ]
    return paid + refunded


def entries(
    invoices: list[Invoice], payments: list[Payment], refunds: list[Refund], as_of: date, lang: str = "en"
) -> list[dict[str, Any]]:
    """Settlement-sheet lines in date order with their running balance."""
    lines = invoice_lines(invoices, as_of, lang) + money_lines(payments, refunds, as_of, lang)
    lines.sort(key=lambda line: (line["date"], ENTRY_ORDER[line["type"]], line["document"]))
    running = 0
    for line in lines:
        running += line["debit"] - line["credit"]
        line["running_balance"] = running
    return lines


def valid_code(codes: list[LicenseCode], serial_number: str, as_of: date) -> LicenseCode | None:
    """The serial's codes valid on `as_of` with the latest `valid_from` (later arrival wins ties)."""
    valid = [c for c in codes if c.serial_number == serial_number and c.valid_from <= as_of <= c.valid_until]
    return max(valid, key=lambda c: (c.valid_from, c.arrival), default=None)


def code_disclosure(balance: int, code: LicenseCode | None) -> tuple[dict | None, dict | None]:
    """`(codes, codes_withheld)`: codes only when nothing is owed; an outstanding balance first."""
    if balance > 0:
        return None, {"reason": "outstanding_balance", "amount_due": balance}
    if code is None:
        return None, {"reason": "no_codes_issued"}
    shown = {field: value for field, value in asdict(code).items() if field != "arrival"}
    return shown, None


def statement(
    invoices: list[Invoice],
    payments: list[Payment],
    refunds: list[Refund],
    codes: list[LicenseCode],
    serial_number: str,
    as_of: date,
    lang: str = "en",
) -> dict[str, Any]:
    """Balance, status, overdue amount, sheet entries and codes of one customer as of a date."""
    balance = balance_due(invoices, payments, refunds, as_of)
    shown, withheld = code_disclosure(balance, valid_code(codes, serial_number, as_of))
    return {
        "balance": balance,
        "status": balance_status(balance),
        "overdue_amount": overdue_amount(invoices, payments, refunds, as_of),
        "entries": entries(invoices, payments, refunds, as_of, lang),
        "codes": shown,
        "codes_withheld": withheld,
    }
