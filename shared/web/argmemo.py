"""Query strings parsed before: a schema loads the same query string to the same arguments all day.

A query's arguments depend on the query string and the schema alone, but for defaults of "today" in
Europe/Budapest: so what a schema loaded from a query string is kept under (schema, query string, Budapest day)
and handed out again as a new dict. Loading it again took marshmallow (and, at the gateway, webargs) a
noticeable part of a query's CPU (docs/performance.md, change 28). Only successes are kept: a query string that
fails is refused by a full load every time. Long query strings, and arguments holding anything but plain
immutable values, are not kept. At most `size` entries, the oldest dropped first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from shared.bounded import Bounded
from shared.timeutil import today_budapest

PLAIN = (str, int, float, bool, date, type(None))  # `datetime` is a `date`; all immutable


class ParsedQueries:
    """(schema, query string, day) -> the arguments the schema loaded from it."""

    def __init__(self, size: int = 4096, longest: int = 1024, today: Callable[[], date] = today_budapest) -> None:
        self.longest, self.today = longest, today
        self._kept: Bounded[tuple[object, bytes, date], dict[str, Any]] = Bounded(size)

    def load(self, schema: object, query: bytes, parse: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The arguments of `query`: kept ones copied, else `parse()` (whose errors pass through, not kept)."""
        if len(query) > self.longest:
            return parse()
        key = (schema, query, self.today())  # the schema itself: kept alive, never mistaken for another
        kept = self._kept.get(key)
        if kept is not None:
            return dict(kept)
        args = parse()
        if all(isinstance(value, PLAIN) for value in args.values()):
            self._kept.put(key, dict(args))
        return args
