"""Calendar helpers for the demo data: anniversaries, billing periods, timestamps, VAT."""

from __future__ import annotations

import calendar
import random
from datetime import UTC, date, datetime, timedelta

ONE_DAY = timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anniversary(starts_on: date, year: int) -> date:
    """The contract anniversary in `year`; 29 February falls on 28 February in other years."""
    if (starts_on.month, starts_on.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return starts_on.replace(year=year)


def support_years(starts_on: date, until: date) -> list[tuple[date, date]]:
    """Support years (first day, last day) of a contract that begin on or before `until`."""
    years, year = [], starts_on.year
    while (begin := anniversary(starts_on, year)) <= until:
        years.append((begin, anniversary(starts_on, year + 1) - ONE_DAY))
        year += 1
    return years


def billing_periods(anchor: date, months: int, until: date) -> list[tuple[date, date]]:
    """Periods of `months` months counted from `anchor` that begin on or before `until`."""
    periods, count = [], 0
    while (begin := add_months(anchor, count * months)) <= until:
        periods.append((begin, add_months(anchor, (count + 1) * months) - ONE_DAY))
        count += 1
    return periods


def latest_leap_day(on_or_before: date) -> date:
    """The latest 29 February on or before the given day."""
    year = on_or_before.year
    while not (calendar.isleap(year) and date(year, 2, 29) <= on_or_before):
        year -= 1
    return date(year, 2, 29)


def moment(day: date, hour: int, minute: int = 0) -> datetime:
    """A UTC timestamp on a day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def rfc3339(at: datetime) -> str:
    """RFC 3339 text of a timestamp, in UTC with a `Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_day(rng: random.Random, first: date, last: date) -> date:
    """A day between `first` and `last` inclusive (`first` when the range is empty)."""
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def workday_on_or_after(day: date) -> date:
    """The day itself, or the Monday after when it falls on a weekend."""
    while day.weekday() >= 5:
        day += ONE_DAY
    return day


def vat_amount(net_amount: int, vat_rate: int) -> int:
    """VAT on a net amount in whole forints, rounded half up."""
    return (net_amount * vat_rate + 50) // 100
