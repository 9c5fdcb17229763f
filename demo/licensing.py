"""Licensing: rental and internet codes per serial number and period."""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.dates import billing_periods, moment, support_years
from demo.envelope import Fact
from demo.model import Contract, Customer, Item, Timeline

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ISSUE_DAYS_AHEAD = 3


def code(rng: random.Random, prefix: str) -> str:
    """A code like NET-7KQ2-M9XD-4TPA."""
    groups = ("".join(rng.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join((prefix, *groups))


def licence_periods(contract: Contract, item: Item, until: date) -> list[tuple[date, date]]:
    """Purchased programs: support years (from the item's start); rented ones: their rental periods."""
    start = contract.item_start(item)
    if item.license_type == "rental":
        return billing_periods(start, contract.rental_months, until)
    years = support_years(contract.starts_on, until)
    return [(max(begin, start), end) for begin, end in years if end >= start]


def customer_codes(customer: Customer, timeline: Timeline) -> list[Fact]:
    """Codes issued a few days before each period, while the item and its contract are in force."""
    facts = []
    for contract in customer.contracts:
        for item in contract.items:
            start = contract.item_start(item)
            for valid_from, valid_until in licence_periods(contract, item, timeline.horizon + timedelta(days=30)):
                issued_on = max(valid_from - timedelta(days=ISSUE_DAYS_AHEAD), start, contract.signed_on)
                if issued_on > timeline.horizon or not (contract.in_force(valid_from) and item.in_force(valid_from)):
                    continue
                facts.append(codes_issued(customer, item, valid_from, valid_until, issued_on))
    return facts


def codes_issued(customer: Customer, item: Item, valid_from: date, valid_until: date, issued_on: date) -> Fact:
    """A `license.codes_issued` fact; purchased programs get no rental code."""
    rental_code = code(customer.rng, "RC") if item.license_type == "rental" else None
    data = {
        "customer_code": customer.code,
        "serial_number": item.serial_number,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
        "rental_code": rental_code,
        "internet_code": code(customer.rng, "NET"),
    }
    return Fact("license-codes", "license.codes_issued", moment(issued_on, 6, 0), customer.code, data)
