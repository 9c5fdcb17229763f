"""The settlement sheet of a period (portal-api section 7), pure: section 1's figures cut to `from … to`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.ledger import payment, rules


def settlement_sheet(
    facts: dict[str, list[Any]],
    customer_code: str,
    serial_number: str,
    date_from: date,
    date_to: date,
    vendor: dict[str, Any],
    lang: str = "en",
) -> dict[str, Any]:
    """Opening balance (the day before `from`), the period's lines with their running balance, closing balance,
    and the codes and payment block as of `to`. `facts` are those of the balance as of `to`."""
    invoices, payments, refunds = facts["invoices"], facts["payments"], facts["refunds"]
    closing = rules.balance_due(invoices, payments, refunds, date_to)
    lines = rules.entries(invoices, payments, refunds, date_to, lang)
    shown, withheld = rules.code_disclosure(closing, rules.valid_code(facts["codes"], serial_number, date_to))
    return {
        "customer_code": customer_code,
        "from": date_from,
        "to": date_to,
        "currency": "HUF",
        "opening_balance": rules.balance_due(invoices, payments, refunds, date_from - timedelta(days=1)),
        "entries": [line for line in lines if date_from <= line["date"] <= date_to],
        "closing_balance": closing,
        "overdue_amount": rules.overdue_amount(invoices, payments, refunds, date_to),
        "codes": shown,
        "codes_withheld": withheld,
        "payment": payment.payment_block(closing, customer_code, date_to, vendor),
    }
