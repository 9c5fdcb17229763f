"""When a projector counts as stalled: a partition's stored offset has not moved since the last look, although
the broker already held more of that partition at the last look.

The look reads the offsets stored with the read model (every partition, whichever member applies it), so a
member that legitimately has no partitions does not renew its consumer while the others make progress, and a
member whose group got stuck does, whichever member holds the stuck partitions. Comparing with the end
offsets seen at the previous look leaves out events published since: they have not waited long yet.

A look Kafka does not answer counts too: a kafka-python 3 client can stay stuck after a broker went away (a
metadata request whose answer never comes), and then it neither fetches nor answers a look. Looks that went
unanswered for `limit_s` say the consumer should be made again; while the broker is really down, the new
consumer waits for it, backing off, as a projector started during an outage does. When looks stay unanswered
with the new consumer too (a partition without a leader for long), the wait before the next renewal doubles,
up to UNANSWERED_MAX_FACTOR times `limit_s`, so members do not keep rebalancing their group; an answered look
brings it back to `limit_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Position = tuple[str, int]  # (catalog topic, partition)
STALL_CHECK_TIMEOUT_MS = 5_000  # how long a look waits for the end offsets before giving up on this round
UNANSWERED_MAX_FACTOR = 8  # unanswered looks make the consumer again after limit_s, then 2, 4, 8 times as long


class StallWatch:
    """Looks at most every `limit_s`; stalled partitions are those that waited a whole interval without progress."""

    def __init__(self, limit_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_s = limit_s
        self.clock = clock
        self._since = clock()
        self._last: tuple[dict[Position, int], dict[Position, int]] | None = None  # stored and end offsets
        self._unanswered_since: float | None = None  # the first of the looks Kafka has not answered since
        self._unanswered_limit = limit_s  # how long looks may go unanswered before the consumer is made again

    def due(self) -> bool:
        """Time to look: at once when there is nothing to compare with, then `limit_s` after the last look."""
        return self._last is None or self.clock() - self._since >= self.limit_s

    def look(self, stored: dict[Position, int], ends: dict[Position, int]) -> list[Position]:
        """The partitions stalled since the last look (none at the first); this look becomes the last one."""
        stalled: list[Position] = []
        if self._last is not None:
            stored_then, ends_then = self._last
            stalled = sorted(
                p
                for p, end in ends_then.items()
                if stored.get(p, 0) == stored_then.get(p, 0) and stored.get(p, 0) < end
            )
        self._last, self._since, self._unanswered_since = (dict(stored), dict(ends)), self.clock(), None
        self._unanswered_limit = self.limit_s
        return stalled

    def unanswered(self) -> bool:
        """A look Kafka did not answer; True once looks have gone unanswered for `limit_s` (then for twice as long
        as the last time, until a look is answered). The next look is due at once (nothing to compare with)."""
        now = self.clock()
        if self._unanswered_since is None:
            self._unanswered_since = now
        self._last = None
        if now - self._unanswered_since < self._unanswered_limit:
            return False
        self._unanswered_since = None
        self._unanswered_limit = min(self._unanswered_limit * 2, self.limit_s * UNANSWERED_MAX_FACTOR)
        return True

    def reset(self) -> None:
        """Forget the last look and the unanswered ones (while waiting on purpose, after a new consumer); the wait
        before an unanswered renewal stays as it is until a look is answered."""
        self._last = self._unanswered_since = None
