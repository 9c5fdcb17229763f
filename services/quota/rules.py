"""Minute-quota rules (portal API query 3): pure functions, no I/O.

Invoices are mappings with `invoice_number`, `kind`, `issued_on`, `net_amount`,
`gross_amount`, `starts_on`, `ends_on`, `overrun_minutes` and `cancelled` (bool).
Invoices count as known now: a cancellation at any time removes one. Only the work
logs are cut at the settlement date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from shared.timeutil import BUDAPEST, budapest_date

ANNUAL_SUPPORT_FEE = "annual_support_fee"
QUOTA_OVERRUN = "quota_overrun"
KEPT_INVOICE_KINDS = (ANNUAL_SUPPORT_FEE, QUOTA_OVERRUN)

Row = Mapping[str, Any]


@dataclass(frozen=True)
class SupportYear:
    """A support year, both days inclusive."""

    starts_on: date
    ends_on: date

    def contains(self, day: date) -> bool:
        """Whether `day` falls within the year."""
        return self.starts_on <= day <= self.ends_on


def counted(invoices: Iterable[Row], kind: str) -> list[Row]:
    """The not-cancelled invoices of one kind."""
    return [inv for inv in invoices if inv["kind"] == kind and not inv["cancelled"]]


def support_year(invoices: Iterable[Row], settlement_date: date) -> SupportYear | None:
    """The support year containing the date, from not-cancelled annual fee invoices.

    Several years may contain the date (overlapping invoices): the latest `starts_on`
    wins, then the latest `ends_on`, so the choice never depends on arrival order.
    """
    years = {SupportYear(inv["starts_on"], inv["ends_on"]) for inv in counted(invoices, ANNUAL_SUPPORT_FEE)}
    containing = [year for year in years if year.contains(settlement_date)]
    return max(containing, key=lambda year: (year.starts_on, year.ends_on), default=None)


def annual_fee(invoices: Iterable[Row], year: SupportYear) -> int:
    """Net sum of the not-cancelled annual fee invoices of exactly this year."""
    return sum(
        inv["net_amount"]
        for inv in counted(invoices, ANNUAL_SUPPORT_FEE)
        if SupportYear(inv["starts_on"], inv["ends_on"]) == year
    )


def price_list_in_force(price_lists: Iterable[Row], day: date) -> Row | None:
    """The price list with the latest `valid_from` on or before `day`."""
    candidates = [pl for pl in price_lists if pl["valid_from"] <= day]
    return max(candidates, key=lambda pl: pl["valid_from"], default=None)


def total_minutes(quota_tiers: Iterable[Row], fee: int) -> int:
    """Minutes of the highest tier whose `min_annual_fee` the fee reaches; 0 if none."""
    reached = [tier for tier in quota_tiers if tier["min_annual_fee"] <= fee]
    best = max(
        reached,
        key=lambda tier: (tier["min_annual_fee"], tier["minutes"]),
        default=None,
    )
    return best["minutes"] if best else 0


def usage_window(year: SupportYear, settlement_date: date) -> tuple[datetime, datetime]:
    """Half-open instant range [start, end) of Budapest days starts_on..settlement_date."""
    start = datetime.combine(year.starts_on, time.min, tzinfo=BUDAPEST)
    end = datetime.combine(settlement_date + timedelta(days=1), time.min, tzinfo=BUDAPEST)
    return start, end


def usage(work_logs: Iterable[Row], year: SupportYear, settlement_date: date) -> list[dict[str, Any]]:
    """Chargeable work in the window, by `performed_at` then `work_id`, with running totals."""
    in_window = [
        log
        for log in work_logs
        if log["chargeable"] and year.starts_on <= budapest_date(log["performed_at"]) <= settlement_date
    ]
    lines, running_total = [], 0
    for log in sorted(in_window, key=lambda log: (log["performed_at"], log["work_id"])):
        running_total += log["minutes"]
        lines.append(
            {
                "performed_at": log["performed_at"],
                "call_id": log["call_id"],
                "subject": log.get("subject"),
                "staff": log["staff"],
                "description": log["description"],
                "minutes": log["minutes"],
                "running_total": running_total,
            }
        )
    return lines


def overrun_invoices(invoices: Iterable[Row], year: SupportYear) -> list[dict[str, Any]]:
    """Not-cancelled overrun invoices of the year (same `starts_on`), by issue date then number."""
    of_year = [inv for inv in counted(invoices, QUOTA_OVERRUN) if inv["starts_on"] == year.starts_on]
    return [
        {
            key: inv[key]
            for key in (
                "invoice_number",
                "issued_on",
                "overrun_minutes",
                "net_amount",
                "gross_amount",
            )
        }
        for inv in sorted(of_year, key=lambda inv: (inv["issued_on"], inv["invoice_number"]))
    ]


def statement(
    year: SupportYear,
    invoices: Iterable[Row],
    price_lists: Iterable[Row],
    work_logs: Iterable[Row],
    settlement_date: date,
) -> dict[str, Any]:
    """The quota statement of a support year as domain values (dates, datetimes, ints)."""
    invoices = list(invoices)
    fee = annual_fee(invoices, year)
    price_list = price_list_in_force(price_lists, year.starts_on)
    total = total_minutes(price_list["quota_tiers"], fee) if price_list else 0
    lines = usage(work_logs, year, settlement_date)
    used = lines[-1]["running_total"] if lines else 0
    return {
        "settlement_date": settlement_date,
        "support_year": {"starts_on": year.starts_on, "ends_on": year.ends_on},
        "annual_fee": fee,
        "total_minutes": total,
        "used_minutes": used,
        "remaining_minutes": max(total - used, 0),
        "overrun_minutes": max(used - total, 0),
        "usage": lines,
        "overrun_invoices": overrun_invoices(invoices, year),
    }
