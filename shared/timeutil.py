"""Calendar rules: the business runs on Europe/Budapest dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BUDAPEST = ZoneInfo("Europe/Budapest")


def budapest_date(moment: datetime) -> date:
    """The Budapest calendar date of an aware timestamp."""
    return moment.astimezone(BUDAPEST).date()


def today_budapest(now: datetime | None = None) -> date:
    """Today's date in Budapest (`now` for tests)."""
    return budapest_date(now or datetime.now(UTC))
