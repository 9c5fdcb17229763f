"""Progress of a replay (a rebuild): events applied of the total, rate and time left, logged every few seconds."""

from __future__ import annotations

import logging
import time

from shared.cli.progress import duration

log = logging.getLogger("rebuild")


class ReplayProgress:
    """Called by the projector after every poll with the records it got and what is still behind per partition.

    The total is what was applied so far plus what is behind now (it grows while events keep arriving).
    """

    def __init__(self, schema: str, every: float = 5.0, clock=time.monotonic) -> None:  # noqa: ANN001
        self.schema, self.every, self.clock = schema, every, clock
        self.started = self.last = clock()
        self.done = 0

    def __call__(self, records: int, behind: dict[tuple[str, int], int]) -> dict | None:
        """Count `records`; log (and return) the figures when `every` seconds passed since the last line."""
        self.done += records
        now = self.clock()
        if now - self.last < self.every or not (records or behind):
            return None
        self.last = now
        remaining = sum(behind.values())
        total = self.done + remaining
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = remaining / rate if rate > 0 else None
        figures = {
            "schema": self.schema,
            "applied": self.done,
            "total": total,
            "percent": round(100 * self.done / total, 1) if total else 100.0,
            "per_second": round(rate),
            "seconds_left": round(left) if left is not None else None,
        }
        log.info(
            "rebuild: %s of %s events (%s%%), %s/s, %s left",
            f"{self.done:,}",
            f"{total:,}",
            figures["percent"],
            f"{rate:,.0f}",
            duration(left),
            extra=figures,
        )
        return figures
