"""The invoice list (portal-api section 6), pure: each invoice's status from the balance's own allocation."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.ledger.rules import Invoice, Payment, Refund, allocation
from shared.api.ledger import INVOICE_STATUS_FILTERS as STATUS_FILTERS
from shared.api.ledger import INVOICE_STATUSES

__all__ = ["INVOICE_STATUSES", "STATUS_FILTERS", "invoice_status"]


def invoice_status(invoice: Invoice, open_amount: int, as_of: date) -> str:
    """`paid` when nothing is open, else `overdue` past its due date, else `open`."""
    if open_amount == 0:
        return "paid"
    return "overdue" if invoice.due_on < as_of else "open"


def invoice_rows(
    invoices: list[Invoice], payments: list[Payment], refunds: list[Refund], as_of: date
) -> list[dict[str, Any]]:
    """Every invoice issued on or before `as_of` with what it received, newest `issued_on` first."""
    paid = allocation(invoices, payments, refunds, as_of)
    rows: list[dict[str, Any]] = []
    for invoice in (i for i in invoices if i.issued_on <= as_of):
        cancelled = invoice.invoice_number not in paid
        received = 0 if cancelled else paid[invoice.invoice_number]
        open_amount = 0 if cancelled else invoice.gross_amount - received
        status = "cancelled" if cancelled else invoice_status(invoice, open_amount, as_of)
        rows.append(
            {
                "invoice_number": invoice.invoice_number,
                "issued_on": invoice.issued_on,
                "due_on": invoice.due_on,
                "kind": invoice.kind,
                "description": invoice.description,
                "net_amount": invoice.net_amount,
                "vat_amount": invoice.vat_amount,
                "gross_amount": invoice.gross_amount,
                "cancelled_on": invoice.cancelled_on if cancelled else None,
                "paid_amount": received,
                "open_amount": open_amount,
                "status": status,
            }
        )
    # newest first, ties by invoice number: two stable sorts
    rows.sort(key=lambda row: row["invoice_number"])
    rows.sort(key=lambda row: row["issued_on"], reverse=True)
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Open and overdue amounts over every invoice (the overdue one is the balance's `overdue_amount`)."""
    return {
        "open_amount": sum(max(r["open_amount"], 0) for r in rows if r["status"] in ("open", "overdue")),
        "overdue_amount": sum(max(r["open_amount"], 0) for r in rows if r["status"] == "overdue"),
    }


def invoice_list(
    invoices: list[Invoice],
    payments: list[Payment],
    refunds: list[Refund],
    as_of: date,
    status: str = "all",
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """Section 6: the filtered invoices and the totals over all of them."""
    rows = invoice_rows(invoices, payments, refunds, as_of)
    shown = [
        r
        for r in rows
        if (status == "all" or r["status"] == status)
        and (date_from is None or r["issued_on"] >= date_from)
        and (date_to is None or r["issued_on"] <= date_to)
    ]
    return {"invoices": shown, "totals": totals(rows)}
