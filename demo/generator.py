"""The demo data set: every topic's events, and the demo logins, from a customer count, a seed and today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from demo.awkward import FIXED_CASES, apply_case
from demo.billing import Invoice, customer_invoices, invoice_facts, number_invoices
from demo.catalog import price_lists
from demo.contracts import customer_facts, price_list_fact
from demo.customers import new_customer
from demo.dates import ONE_DAY, latest_leap_day
from demo.envelope import Fact, assemble
from demo.helpdesk import customer_calls
from demo.licensing import customer_codes
from demo.model import Customer, Timeline
from demo.payments import Ledger, customer_payments, number_payments, payment_facts
from demo.quota import overrun_invoices
from demo.support_calls import Call, call_facts, number_calls
from shared.timeutil import today_budapest

LEAP_DAY_MIN_AGE = timedelta(days=90)


def build_timeline(today: date) -> Timeline:
    """About three years of history up to yesterday, with three price lists."""
    leap_day = latest_leap_day(today - LEAP_DAY_MIN_AGE)
    history_start = min(date(today.year - 2, 1, 1), date(leap_day.year, 1, 1))
    valid_froms = sorted({history_start, date(today.year - 1, 1, 1), date(today.year, 1, 1)})
    return Timeline(today, today - ONE_DAY, history_start, leap_day, price_lists(valid_froms))


def plan_customers(customers: int, seed: int, timeline: Timeline) -> list[Customer]:
    """The customers C1001, C1002, ...: the fixed awkward cases first, then ordinary ones."""
    if customers < len(FIXED_CASES):
        raise ValueError(f"the demo needs at least {len(FIXED_CASES)} customers for its fixed cases")
    return plan_range(0, customers, seed, timeline)


def plan_range(first: int, stop: int, seed: int, timeline: Timeline) -> list[Customer]:
    """Customers number `first` .. `stop`-1 of the demo's sequence (C1001 is number 0)."""
    plans = []
    for index in range(first, stop):
        customer = new_customer(1001 + index, seed)
        apply_case(customer, timeline, index)
        plans.append(customer)
    return plans


def _unchanged(items: list[Any], attribute: str) -> None:
    """The default of `histories`' renumbered hook: the ids stay as numbered."""


def histories(
    plans: list[Customer], timeline: Timeline, renumbered: Callable[[list[Any], str], None] = _unchanged
) -> tuple[dict[str, list[Call]], dict[str, list[Invoice]], dict[str, Ledger]]:
    """Per customer code its support calls, invoices and payment ledger, numbered across `plans`.

    `renumbered(items, id_attribute)` runs after each numbering, before the next step uses the ids (the
    benchmark makes ids unique across its chunks there).
    """
    calls = {customer.code: customer_calls(customer, timeline) for customer in plans}
    all_calls = [call for batch in calls.values() for call in batch]
    number_calls(all_calls)
    renumbered(all_calls, "call_id")
    invoices = {customer.code: bill(customer, timeline, calls[customer.code]) for customer in plans}
    all_invoices = [invoice for batch in invoices.values() for invoice in batch]
    number_invoices(all_invoices)
    renumbered(all_invoices, "invoice_number")
    ledgers = {customer.code: customer_payments(customer, timeline, invoices[customer.code]) for customer in plans}
    payments = [payment for ledger in ledgers.values() for payment in ledger.payments]
    refunds = [refund for ledger in ledgers.values() for refund in ledger.refunds]
    number_payments(payments, refunds)
    renumbered(payments, "payment_id")
    renumbered(refunds, "refund_id")
    return calls, invoices, ledgers


def history_facts(
    plans: list[Customer],
    timeline: Timeline,
    calls: dict[str, list[Call]],
    invoices: dict[str, list[Invoice]],
    ledgers: dict[str, Ledger],
) -> list[Fact]:
    """Every fact of the customers' histories, customer by customer."""
    facts: list[Fact] = []
    for customer in plans:
        facts += customer_facts(customer)
        facts += [fact for call in calls[customer.code] for fact in call_facts(call)]
        facts += [fact for invoice in invoices[customer.code] for fact in invoice_facts(invoice)]
        facts += payment_facts(ledgers[customer.code])
        facts += customer_codes(customer, timeline)
    return facts


def generate(customers: int = 25, seed: int = 42, today: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """Topic -> CloudEvents (dicts) in time order; the same arguments always give the same events."""
    timeline = build_timeline(today or today_budapest())
    plans = plan_customers(customers, seed, timeline)
    facts: list[Fact] = [price_list_fact(price_list) for price_list in timeline.price_lists]
    facts += history_facts(plans, timeline, *histories(plans, timeline))
    return assemble(facts, f"seed={seed}/customers={customers}/today={timeline.today.isoformat()}")


def bill(customer: Customer, timeline: Timeline, calls: list[Call]) -> list[Invoice]:
    """Fee invoices (with cancellations and reissues), then the quota overruns they lead to."""
    fee_invoices = customer_invoices(customer, timeline)
    return fee_invoices + overrun_invoices(customer, timeline, fee_invoices, calls)


def demo_logins(customers: int = 25, seed: int = 42, today: date | None = None) -> list[dict[str, Any]]:
    """One login per fixed case: customer code, a serial in force today, the clear password or None, a note."""
    timeline = build_timeline(today or today_budapest())
    plans = plan_customers(customers, seed, timeline)[: len(FIXED_CASES)]
    return [
        {
            "customer_code": customer.code,
            "serial_number": customer.login_serial(timeline.today),
            "password": customer.password,
            "note": customer.note,
        }
        for customer in plans
    ]
