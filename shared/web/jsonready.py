"""Turning query results into JSON-ready values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

# Leaves that are JSON as they are. Checked by exact type, inline, so the walk makes no call per plain leaf:
# the recursive call per value was a quarter of the ledger API's CPU for a balance answer.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def json_ready(value: Any, zone: ZoneInfo | None = None) -> Any:
    """Dates as 'YYYY-MM-DD', timestamps as RFC 3339 (in `zone` when given), through dicts and lists."""
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _PLAIN else json_ready(item, zone) for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _PLAIN else json_ready(item, zone) for item in value]
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: json_ready(item, zone) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item, zone) for item in value]
    return value
