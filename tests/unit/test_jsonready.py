"""json_ready: dates and timestamps become strings anywhere in dicts and lists; everything else is kept."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from shared.web.jsonready import json_ready


class Row(dict):
    """A dict subclass (as row factories may give)."""


class Rows(list):
    """A list subclass."""


def test_dates_and_timestamps_become_iso_strings_at_any_depth():
    stamp = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    value = {
        "on": date(2024, 2, 29),
        "at": stamp,
        "lines": [{"due": date(2026, 1, 31), "amount": 12345}, [stamp, None]],
    }
    assert json_ready(value) == {
        "on": "2024-02-29",
        "at": "2026-11-26T23:30:00+00:00",
        "lines": [{"due": "2026-01-31", "amount": 12345}, ["2026-11-26T23:30:00+00:00", None]],
    }


def test_timestamps_in_a_zone_when_one_is_given():
    stamp = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert json_ready({"at": stamp}, ZoneInfo("Europe/Budapest")) == {"at": "2026-11-27T00:30:00+01:00"}
    assert json_ready(datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=2)))) == "2026-07-01T00:00:00+02:00"


def test_plain_values_and_subclasses():
    value = Row(flag=True, n=0, x=-1.5, s="é", none=None, items=Rows([date(2026, 1, 1), Row(d=date(2026, 1, 2))]))
    assert json_ready(value) == {
        "flag": True,
        "n": 0,
        "x": -1.5,
        "s": "é",
        "none": None,
        "items": ["2026-01-01", {"d": "2026-01-02"}],
    }
    assert json_ready(value)["flag"] is True
    assert json_ready((date(2026, 1, 1),)) == (date(2026, 1, 1),)  # tuples are not walked (never in answers)
