"""When a projector counts as stalled: no offset stored for a while although its topics reach further.

The check reads the offsets stored with the read model (all partitions, every member of the group),
so a member that legitimately has no partitions does not renew its consumer while another member
makes progress, and a member whose group got stuck does, whichever member holds the partitions.
"""

from __future__ import annotations

import time
from collections.abc import Callable

STALL_CHECK_TIMEOUT_MS = 5_000  # how long the check waits for the end offsets before giving up on this round


class StallWatch:
    """Progress by the sum of the stored offsets: stalled when it has not moved for `limit_s` while behind."""

    def __init__(self, limit_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_s = limit_s
        self.clock = clock
        self._since = clock()
        self._stored: int | None = None  # the sum at the last mark; None before the first look

    def due(self) -> bool:
        """Time to look again: at once the first time, then `limit_s` after the last mark."""
        return self._stored is None or self.clock() - self._since >= self.limit_s

    def moved(self, stored_total: int) -> bool:
        """Whether the stored offsets moved since the last mark (or were never looked at); if so, a new mark."""
        if stored_total == self._stored:
            return False
        self.mark(stored_total)
        return True

    def mark(self, stored_total: int) -> None:
        """Start the watch again from now (progress seen, nothing waiting, or a new consumer)."""
        self._stored, self._since = stored_total, self.clock()
