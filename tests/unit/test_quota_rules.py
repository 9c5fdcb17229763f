"""Minute-quota rules (portal API query 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.quota import rules
from services.quota.rules import SupportYear
from shared.timeutil import BUDAPEST

YEAR = SupportYear(date(2026, 3, 1), date(2027, 2, 28))
TIERS = [
    {"min_annual_fee": 0, "minutes": 60},
    {"min_annual_fee": 200_000, "minutes": 300},
    {"min_annual_fee": 100_000, "minutes": 120},
]


def annual(number: str, net: int, year: SupportYear = YEAR, cancelled: bool = False) -> dict:
    """An annual support fee invoice row."""
    return {
        "invoice_number": number,
        "kind": "annual_support_fee",
        "issued_on": year.starts_on,
        "net_amount": net,
        "gross_amount": net * 127 // 100,
        "starts_on": year.starts_on,
        "ends_on": year.ends_on,
        "overrun_minutes": None,
        "cancelled": cancelled,
    }


def overrun(
    number: str,
    issued_on: date,
    minutes: int,
    starts_on: date = YEAR.starts_on,
    cancelled: bool = False,
) -> dict:
    """A quota overrun invoice row."""
    return {
        "invoice_number": number,
        "kind": "quota_overrun",
        "issued_on": issued_on,
        "net_amount": minutes * 100,
        "gross_amount": minutes * 127,
        "starts_on": starts_on,
        "ends_on": YEAR.ends_on,
        "overrun_minutes": minutes,
        "cancelled": cancelled,
    }


def work(work_id: str, performed_at: datetime, minutes: int, chargeable: bool = True) -> dict:
    """A work log row joined with its call's subject."""
    return {
        "work_id": work_id,
        "call_id": "CALL-1",
        "subject": "Printer",
        "staff": "Anna",
        "description": "fixed",
        "performed_at": performed_at,
        "minutes": minutes,
        "chargeable": chargeable,
    }


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A Budapest local moment."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BUDAPEST)


@pytest.mark.parametrize(
    ("fee", "minutes"),
    [
        (0, 60),
        (99_999, 60),
        (100_000, 120),
        (199_999, 120),
        (200_000, 300),
        (5_000_000, 300),
    ],
)
def test_total_minutes_takes_highest_tier_reached(fee: int, minutes: int) -> None:
    assert rules.total_minutes(TIERS, fee) == minutes


def test_total_minutes_is_zero_below_every_tier() -> None:
    assert rules.total_minutes([{"min_annual_fee": 50_000, "minutes": 90}], 49_999) == 0
    assert rules.total_minutes([], 1_000_000) == 0


def test_support_year_contains_the_date_on_both_ends() -> None:
    invoices = [annual("A1", 100_000)]
    assert rules.support_year(invoices, date(2026, 3, 1)) == YEAR
    assert rules.support_year(invoices, date(2027, 2, 28)) == YEAR
    assert rules.support_year(invoices, date(2026, 2, 28)) is None
    assert rules.support_year(invoices, date(2027, 3, 1)) is None


def test_several_annual_invoices_of_one_year_add_up() -> None:
    other_year = SupportYear(date(2025, 3, 1), date(2026, 2, 28))
    invoices = [
        annual("A1", 100_000),
        annual("A2", 60_000),
        annual("A0", 999_000, other_year),
    ]
    assert rules.annual_fee(invoices, YEAR) == 160_000


def test_cancelled_annual_invoice_does_not_count() -> None:
    invoices = [annual("A1", 150_000), annual("A2", 60_000, cancelled=True)]
    assert rules.annual_fee(invoices, YEAR) == 150_000
    assert rules.support_year([annual("A3", 150_000, cancelled=True)], date(2026, 6, 1)) is None


def test_overlapping_years_take_the_latest_start() -> None:
    early = SupportYear(date(2026, 1, 1), date(2026, 12, 31))
    invoices = [annual("A1", 100_000, early), annual("A2", 50_000)]
    assert rules.support_year(invoices, date(2026, 6, 1)) == YEAR
    assert rules.support_year(invoices, date(2026, 2, 1)) == early


@pytest.mark.parametrize(
    ("starts_on", "valid_from"),
    [
        (date(2026, 2, 28), date(2025, 1, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
        (date(2027, 1, 1), date(2026, 3, 1)),
    ],
)
def test_price_list_in_force_on_starts_on(starts_on: date, valid_from: date) -> None:
    price_lists = [{"valid_from": d, "quota_tiers": []} for d in (date(2026, 3, 1), date(2025, 1, 1))]
    assert rules.price_list_in_force(price_lists, starts_on)["valid_from"] == valid_from


def test_no_price_list_before_the_first() -> None:
    assert rules.price_list_in_force([{"valid_from": date(2026, 3, 2), "quota_tiers": []}], date(2026, 3, 1)) is None


def test_usage_cuts_at_year_start_and_settlement_date() -> None:
    logs = [
        work("W0", at(date(2026, 2, 28), 23, 59), 5),
        work("W1", at(date(2026, 3, 1), 0, 0), 10),
        work("W2", at(date(2026, 9, 30), 23, 59), 20),
        work("W3", at(date(2026, 10, 1), 0, 0), 40),
    ]
    lines = rules.usage(logs, YEAR, date(2026, 9, 30))
    assert [(line["performed_at"], line["running_total"]) for line in lines] == [
        (at(date(2026, 3, 1), 0, 0), 10),
        (at(date(2026, 9, 30), 23, 59), 30),
    ]


def test_usage_on_the_last_day_of_the_year() -> None:
    logs = [
        work("W1", at(YEAR.ends_on, 12), 15),
        work("W2", at(date(2027, 3, 1), 0, 1), 30),
    ]
    lines = rules.usage(logs, YEAR, YEAR.ends_on)
    assert [line["minutes"] for line in lines] == [15]


def test_usage_uses_the_budapest_date() -> None:
    late_utc = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)  # 1 October 01:30 in Budapest
    early_utc = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)  # 1 March 00:30 in Budapest
    lines = rules.usage([work("W1", late_utc, 10), work("W2", early_utc, 7)], YEAR, date(2026, 9, 30))
    assert [line["minutes"] for line in lines] == [7]
    assert [line["minutes"] for line in rules.usage([work("W1", late_utc, 10)], YEAR, date(2026, 10, 1))] == [10]


def test_usage_window_is_budapest_midnights() -> None:
    start, end = rules.usage_window(YEAR, date(2026, 9, 30))
    assert start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)


def test_usage_excludes_non_chargeable_work_and_orders_ties_by_work_id() -> None:
    moment = at(date(2026, 4, 1))
    logs = [
        work("W9", moment, 30),
        work("W1", moment, 20),
        work("W5", at(date(2026, 3, 15)), 50, chargeable=False),
    ]
    lines = rules.usage(logs, YEAR, date(2026, 4, 1))
    assert [(line["minutes"], line["running_total"]) for line in lines] == [
        (20, 20),
        (30, 50),
    ]


def test_usage_line_shape() -> None:
    log = {**work("W1", at(date(2026, 4, 1)), 25), "subject": None}
    assert rules.usage([log], YEAR, date(2026, 4, 1)) == [
        {
            "performed_at": at(date(2026, 4, 1)),
            "call_id": "CALL-1",
            "subject": None,
            "staff": "Anna",
            "description": "fixed",
            "minutes": 25,
            "running_total": 25,
        }
    ]


def test_overrun_invoices_of_the_year_by_issue_date_then_number() -> None:
    invoices = [
        overrun("Q3", date(2026, 12, 1), 30),
        overrun("Q2", date(2026, 9, 1), 20),
        overrun("Q1", date(2026, 9, 1), 10),
        overrun("Q4", date(2026, 10, 1), 40, cancelled=True),
        overrun("Q0", date(2025, 12, 1), 50, starts_on=date(2025, 3, 1)),
        annual("A1", 100_000),
    ]
    assert rules.overrun_invoices(invoices, YEAR) == [
        {
            "invoice_number": "Q1",
            "issued_on": date(2026, 9, 1),
            "overrun_minutes": 10,
            "net_amount": 1000,
            "gross_amount": 1270,
        },
        {
            "invoice_number": "Q2",
            "issued_on": date(2026, 9, 1),
            "overrun_minutes": 20,
            "net_amount": 2000,
            "gross_amount": 2540,
        },
        {
            "invoice_number": "Q3",
            "issued_on": date(2026, 12, 1),
            "overrun_minutes": 30,
            "net_amount": 3000,
            "gross_amount": 3810,
        },
    ]


def test_statement_with_overrun() -> None:
    invoices = [
        annual("A1", 80_000),
        annual("A2", 20_000),
        overrun("Q1", date(2026, 9, 1), 10),
    ]
    price_lists = [{"valid_from": date(2026, 1, 1), "quota_tiers": TIERS}]
    logs = [work("W1", at(date(2026, 4, 1)), 100), work("W2", at(date(2026, 5, 1)), 50)]
    result = rules.statement(YEAR, invoices, price_lists, logs, date(2026, 9, 30))
    assert {
        key: result[key]
        for key in (
            "annual_fee",
            "total_minutes",
            "used_minutes",
            "remaining_minutes",
            "overrun_minutes",
        )
    } == {
        "annual_fee": 100_000,
        "total_minutes": 120,
        "used_minutes": 150,
        "remaining_minutes": 0,
        "overrun_minutes": 30,
    }
    assert [inv["invoice_number"] for inv in result["overrun_invoices"]] == ["Q1"]


def test_statement_with_minutes_left_and_no_price_list() -> None:
    logs = [work("W1", at(date(2026, 4, 1)), 45)]
    with_list = rules.statement(
        YEAR,
        [annual("A1", 100_000)],
        [{"valid_from": date(2026, 3, 1), "quota_tiers": TIERS}],
        logs,
        date(2026, 4, 1),
    )
    without = rules.statement(YEAR, [annual("A1", 100_000)], [], logs, date(2026, 4, 1))
    assert (
        with_list["total_minutes"],
        with_list["remaining_minutes"],
        with_list["overrun_minutes"],
    ) == (120, 75, 0)
    assert (
        without["total_minutes"],
        without["remaining_minutes"],
        without["overrun_minutes"],
    ) == (0, 0, 45)
    assert with_list["support_year"] == {
        "starts_on": YEAR.starts_on,
        "ends_on": YEAR.ends_on,
    }
