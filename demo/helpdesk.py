"""Helpdesk: support calls with assignments, status changes, work logs, closings and reopenings."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from demo.catalog import (
    CALL_SUBJECTS,
    CATEGORY_WEIGHTS,
    CHANNEL_WEIGHTS,
    REOPEN_REASONS,
    RESOLUTIONS,
    STAFF,
    WORK_DESCRIPTIONS,
)
from demo.dates import moment, random_day, support_years, workday_on_or_after
from demo.model import Customer, Timeline
from demo.support_calls import ASSIGNED, CLOSED, REOPENED, STATUS, WORK, Call

WORK_MINUTES = (5, 10, 15, 20, 30, 45, 60, 90, 120)
WORK_MINUTE_WEIGHTS = (3, 4, 5, 4, 4, 3, 2, 1, 1)
OVERRUN_BEYOND_QUOTA = 90  # minutes the fixed quota-overrun customer works beyond its quota
NIGHT_CALL_SUBJECT = "Éjszakai mentés hibaüzenettel leállt"


def minutes(count: int) -> timedelta:
    """A duration in minutes."""
    return timedelta(minutes=count)


def customer_calls(customer: Customer, timeline: Timeline) -> list[Call]:
    """A few calls a year since the first contract, a recent open one now and then, and fixed cases."""
    rng = customer.rng
    first = min(contract.starts_on for contract in customer.contracts) + timedelta(days=7)
    end = moment(timeline.horizon, 23, 59)
    count = 1 + rng.randint(1, 3) * max((timeline.horizon - first).days, 0) // 365
    calls = [random_call(customer, rng, opening(rng, first, timeline.horizon), end, False) for _ in range(count)]
    if customer.number % 4 == 0:
        recent = timeline.horizon - timedelta(days=10)
        calls.append(random_call(customer, rng, opening(rng, recent, timeline.horizon), end, True))
    if "quota_overrun" in customer.flags:
        calls += overrun_calls(customer, timeline)
    if "night_call" in customer.flags:
        calls.append(night_call(customer, timeline))
    return calls


def opening(rng: random.Random, first: date, last: date) -> datetime:
    """An opening time in business hours on a workday between two days."""
    day = min(workday_on_or_after(random_day(rng, first, last)), last)
    return moment(day, rng.randint(6, 15), rng.randrange(0, 60, 5))


def random_call(customer: Customer, rng: random.Random, opened_at: datetime, end: datetime, keep_open: bool) -> Call:
    """A call about a random topic; its steps stop at `end` (later ones have not happened yet)."""
    category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    serials = customer.serials_on(opened_at.date())
    serial = rng.choice(serials) if serials and rng.randrange(100) < 85 else None
    call = Call(customer.code, opened_at, category, channel, rng.choice(CALL_SUBJECTS[category]), serial)
    call.steps = [step for step in lifecycle(call, rng, keep_open) if step[1] <= end]
    return call


def lifecycle(call: Call, rng: random.Random, keep_open: bool) -> list[tuple[str, datetime, dict]]:
    """Assignment, work, perhaps a wait for the customer, closing, perhaps a reopening."""
    assignee = rng.choice(STAFF)
    at = call.opened_at + minutes(rng.randint(5, 90))
    steps: list[tuple[str, datetime, dict]] = [(ASSIGNED, at, {"assignee": assignee})]
    at += minutes(rng.randint(5, 60))
    steps.append((STATUS, at, {"status": "in_progress"}))
    for _ in range(rng.randint(1, 3)):
        at = log_work(steps, call, rng, at + minutes(rng.randint(20, 1440)), assignee)
        if rng.randrange(100) < 15:
            steps.append((STATUS, at + minutes(1), {"status": "waiting_for_customer", "note": "Várjuk a választ"}))
            at += timedelta(hours=rng.randint(4, 72))
            steps.append((STATUS, at, {"status": "in_progress", "note": "Az ügyfél válaszolt"}))
    if keep_open:
        return steps
    at += minutes(rng.randint(10, 240))
    steps.append((CLOSED, at, {"resolution": rng.choice(RESOLUTIONS)}))
    if rng.randrange(100) < 12:
        at += timedelta(days=rng.randint(1, 5))
        steps.append((REOPENED, at, {"reason": rng.choice(REOPEN_REASONS)}))
        at = log_work(steps, call, rng, at + minutes(rng.randint(30, 600)), assignee)
        steps.append((CLOSED, at + minutes(5), {"resolution": rng.choice(RESOLUTIONS)}))
    return steps


def log_work(steps: list, call: Call, rng: random.Random, at: datetime, staff: str) -> datetime:
    """Append one work log starting at `at`; returns when the work ended."""
    spent = rng.choices(WORK_MINUTES, weights=WORK_MINUTE_WEIGHTS)[0]
    chargeable = is_chargeable(call.category, rng)
    data = {"staff": staff, "minutes": spent, "description": rng.choice(WORK_DESCRIPTIONS), "chargeable": chargeable}
    steps.append((WORK, at, data))
    return at + minutes(spent)


def is_chargeable(category: str, rng: random.Random) -> bool:
    """Bug fixes are free, development is charged, advice usually counts against the quota."""
    share = {"bug_report": 0, "development_request": 100, "other": 50}.get(category, 60)
    return rng.randrange(100) < share


def scripted_call(customer: Customer, opened_at: datetime, subject: str, work: list[int], chargeable: bool) -> Call:
    """A call with a fixed script: assigned, in progress, the given work logs, closed if chargeable."""
    category, channel = ("consultation", "remote") if chargeable else ("bug_report", "portal")
    serial = customer.login_serial(opened_at.date())
    call = Call(customer.code, opened_at, category, channel, subject, serial)
    if chargeable:
        at = opened_at + minutes(20)
    else:  # reported at night through the portal: picked up the next working morning
        at = moment(workday_on_or_after(opened_at.date() + timedelta(days=1)), 7, 10)
    call.steps = [(ASSIGNED, at, {"assignee": STAFF[0]}), (STATUS, at + minutes(10), {"status": "in_progress"})]
    at += minutes(20)
    for spent in work:
        data = {"staff": STAFF[0], "minutes": spent, "description": WORK_DESCRIPTIONS[5], "chargeable": chargeable}
        call.steps.append((WORK, at, data))
        at += minutes(spent + 30)
    if chargeable:
        call.steps.append((CLOSED, at, {"resolution": RESOLUTIONS[4]}))
    else:
        call.steps.append((STATUS, at, {"status": "waiting_for_customer", "note": "Naplófájlt kértünk"}))
    return call


def overrun_calls(customer: Customer, timeline: Timeline) -> list[Call]:
    """Consultations early in the current support year, chargeable minutes beyond its quota."""
    contract = customer.contracts[0]
    begin, _ = support_years(contract.starts_on, timeline.horizon)[-1]
    price_list = timeline.price_list_on(begin)
    purchased = [item for item in contract.items_on(begin) if item.license_type == "purchase"]
    annual_fee = sum(price_list.annual_fee(item.product_code, item.quantity_on(begin)) for item in purchased)
    due = price_list.quota_minutes(annual_fee) + OVERRUN_BEYOND_QUOTA
    chunks = [120] * (due // 120) + ([due % 120] if due % 120 else [])
    calls = []
    for number, start in enumerate(range(0, len(chunks), 2)):
        opened_at = moment(workday_on_or_after(begin + timedelta(days=15 + 12 * number)), 8, 0)
        calls.append(
            scripted_call(customer, opened_at, CALL_SUBJECTS["consultation"][0], chunks[start : start + 2], True)
        )
    return calls


def night_call(customer: Customer, timeline: Timeline) -> Call:
    """A portal call opened at 23:30 UTC, i.e. after midnight in Budapest; waiting for the customer."""
    opened_at = moment(timeline.horizon - timedelta(days=9), 23, 30)
    return scripted_call(customer, opened_at, NIGHT_CALL_SUBJECT, [20], False)
