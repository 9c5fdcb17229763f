"""The validated event handed to projection handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """A CloudEvent after validation: `data` holds loaded values (dates, datetimes, ints)."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str
    data: dict[str, Any]
    topic: str = ""
    partition: int = -1
    offset: int = -1
