"""Minute quota: chargeable work beyond a support year's quota is invoiced monthly (kind quota_overrun)."""

from __future__ import annotations

from datetime import date, timedelta

from demo.billing import Invoice, new_invoice
from demo.dates import add_months
from demo.model import Customer, Timeline
from demo.support_calls import Call
from shared.timeutil import budapest_date

OVERRUN_FEE_PER_MINUTE = 250  # net HUF (15,000 an hour)
OVERRUN_BILLING_DAY = 5


def support_year_fees(invoices: list[Invoice]) -> dict[tuple[date, date], int]:
    """Net annual fee per support year, over the annual invoices never cancelled."""
    fees: dict[tuple[date, date], int] = {}
    for invoice in invoices:
        if invoice.kind == "annual_support_fee" and invoice.cancelled_on is None and invoice.support_year:
            fees[invoice.support_year] = fees.get(invoice.support_year, 0) + invoice.net_amount
    return fees


def chargeable_minutes(calls: list[Call], first: date, last: date) -> int:
    """Chargeable minutes logged on Budapest days from `first` to `last`."""
    return sum(
        spent
        for call in calls
        for performed_at, spent, chargeable in call.work_logs()
        if chargeable and first <= budapest_date(performed_at) <= last
    )


def overrun_invoices(
    customer: Customer, timeline: Timeline, invoices: list[Invoice], calls: list[Call]
) -> list[Invoice]:
    """On the 5th of each month: the minutes over quota not invoiced yet, up to the previous month's end."""
    overruns = []
    for (begin, end), annual_fee in sorted(support_year_fees(invoices).items()):
        quota = timeline.price_list_on(begin).quota_minutes(annual_fee)
        invoiced = 0
        billing_day = add_months(begin.replace(day=OVERRUN_BILLING_DAY), 1)
        while billing_day <= timeline.horizon:
            last = min(end, billing_day.replace(day=1) - timedelta(days=1))
            overrun = chargeable_minutes(calls, begin, last) - quota
            if overrun > invoiced:
                overruns.append(overrun_invoice(customer, billing_day, (begin, end), overrun - invoiced))
                invoiced = overrun
            if last == end:
                break
            billing_day = add_months(billing_day, 1)
    return overruns


def overrun_invoice(customer: Customer, issued_on: date, support_year: tuple[date, date], minutes: int) -> Invoice:
    """A quota_overrun invoice for `minutes` of the support year."""
    description = f"Kvótatúllépés {minutes} perc ({support_year[0].isoformat()} – {support_year[1].isoformat()})"
    net = minutes * OVERRUN_FEE_PER_MINUTE
    extra = {"support_year": support_year, "overrun_minutes": minutes, "clock": (7, 45)}
    return new_invoice(customer, issued_on, "quota_overrun", description, net, **extra)
