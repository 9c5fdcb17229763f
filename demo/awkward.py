"""The awkward cases, each on a fixed customer (C1001, C1002, ...), noted in the demo logins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from argon2.low_level import Type, hash_secret

from demo.catalog import CITIES, PASSWORD_WORDS
from demo.customers import make_contract, new_item, plan_ordinary, street_address
from demo.dates import anniversary
from demo.model import Customer, Timeline


@dataclass(frozen=True)
class AwkwardCase:
    """A fixed customer's special situation and the note shown with its demo login."""

    note: str
    build: Callable[[Customer, Timeline], None]


def portal_password_hash(password: str, salt: bytes) -> str:
    """An argon2id PHC string, reproducible because the salt comes from the seeded generator."""
    raw = hash_secret(password.encode(), salt, time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, type=Type.ID)
    return raw.decode("ascii")


def leap_day_start(customer: Customer, timeline: Timeline) -> None:
    """A contract starting on 29 February; its first annual invoice is cancelled and reissued."""
    specs = [("KETTOS", 2, "purchase"), ("SZAMLAZO", 1, "purchase")]
    make_contract(customer, timeline, timeline.leap_day, specs)
    customer.flags.add("cancel_first_annual")


def overpaid(customer: Customer, timeline: Timeline) -> None:
    """Paid its latest annual invoice twice (once without reference), not refunded yet; moved office."""
    customer.habit = "overpaid"
    starts_on = timeline.history_start + timedelta(days=75)
    make_contract(customer, timeline, starts_on, [("BER", 1, "purchase"), ("KESZLET", 2, "rental")], 3)
    postal_code, city, _ = customer.rng.choice([c for c in CITIES if c[1] != customer.details["city"]])
    new_address = {"postal_code": postal_code, "city": city, "street_address": street_address(customer.rng)}
    customer.details_changes.append((starts_on + timedelta(days=200), new_address))


def arrears(customer: Customer, timeline: Timeline) -> None:
    """Stopped paying about 100 days ago: overdue invoices, so its codes are withheld."""
    customer.habit = "arrears"
    starts_on = timeline.history_start + timedelta(days=110)
    make_contract(customer, timeline, starts_on, [("BER", 2, "rental"), ("KETTOS", 1, "purchase")], 1)


def settled(customer: Customer, timeline: Timeline) -> None:
    """Paid everything (a double payment was refunded): balance 0, its rental code shows."""
    customer.habit = "settled"
    starts_on = timeline.history_start + timedelta(days=150)
    make_contract(customer, timeline, starts_on, [("SZAMLAZO", 1, "rental"), ("EGYSZERES", 1, "purchase")], 1)


def quota_overrun(customer: Customer, timeline: Timeline) -> None:
    """Its support year began ~150 days ago; chargeable work beyond the quota got an overrun invoice."""
    current_year_begin = timeline.today - timedelta(days=150)
    starts_on = anniversary(current_year_begin, current_year_begin.year - 1)
    make_contract(customer, timeline, starts_on, [("KETTOS", 1, "purchase")])
    customer.flags.add("quota_overrun")


def portal_password(customer: Customer, timeline: Timeline) -> None:
    """Has a portal password; the generator prints its clear text."""
    plan_ordinary(customer, timeline)
    customer.password = f"{customer.rng.choice(PASSWORD_WORDS)}-{customer.rng.randint(1000, 9999)}"
    customer.password_hash = portal_password_hash(customer.password, customer.rng.randbytes(16))
    customer.password_set_on = timeline.horizon - timedelta(days=40)


def late_night_call(customer: Customer, timeline: Timeline) -> None:
    """Opened a call at 23:30 UTC, which is already the next day in Budapest; still open."""
    plan_ordinary(customer, timeline)
    customer.flags.add("night_call")


def terminated_contract(customer: Customer, timeline: Timeline) -> None:
    """Two co-termed contracts, the older one terminated; items added, re-counted, removed."""
    first_start = timeline.history_start + timedelta(days=40)
    first = make_contract(customer, timeline, first_start, [("EGYSZERES", 1, "purchase"), ("TARGYI", 1, "purchase")])
    second_start = anniversary(first_start, first_start.year + 1)
    second = make_contract(customer, timeline, second_start, [("KETTOS", 1, "purchase"), ("BER", 2, "rental")], 3)
    end = anniversary(first_start, first_start.year + 2)
    first.terminated_on = end if end <= timeline.horizon - timedelta(days=10) else second_start + timedelta(days=180)
    added_on = second_start + timedelta(days=60)
    added = new_item(customer, timeline.price_list_on(added_on), ("KESZLET", 1, "purchase"), added_on)
    added.signed, added.removed_on = False, second_start + timedelta(days=200)
    second.items.append(added)
    second.items[1].quantity_changes.append((second_start + timedelta(days=120), 4))
    customer.password_hash = portal_password_hash("Regi-jelszo-1", customer.rng.randbytes(16))
    customer.password_set_on = second_start + timedelta(days=30)
    customer.password_removed_on = second_start + timedelta(days=90)


FIXED_CASES = (
    AwkwardCase("contract starting on 29 February (support year ends 28/27 Feb)", leap_day_start),
    AwkwardCase("overpaid: negative balance (double payment, one without reference)", overpaid),
    AwkwardCase("in arrears: overdue amount, codes withheld", arrears),
    AwkwardCase("settled: balance 0, rental and internet codes shown", settled),
    AwkwardCase("quota overrun this support year, with its quota_overrun invoice", quota_overrun),
    AwkwardCase("portal password set: log in with the password shown", portal_password),
    AwkwardCase("support call opened at 23:30 UTC (next day in Budapest), still open", late_night_call),
    AwkwardCase("two contracts, the older one terminated; password set then removed", terminated_contract),
)


def apply_case(customer: Customer, timeline: Timeline, index: int) -> None:
    """Build the customer's fixed case (first customers) or an ordinary random plan."""
    if index < len(FIXED_CASES):
        FIXED_CASES[index].build(customer, timeline)
        customer.note = FIXED_CASES[index].note
    else:
        plan_ordinary(customer, timeline)
        customer.note = "ordinary customer"
