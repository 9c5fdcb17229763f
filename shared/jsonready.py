"""Turning query results into JSON-ready values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def json_ready(value: Any) -> Any:
    """Dates as 'YYYY-MM-DD' and timestamps as RFC 3339, recursively through dicts and lists."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    return value
