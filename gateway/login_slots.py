"""Login admission: a gateway process starts at most as many credential checks as can be verified soon.

Each login costs one argon2id verification in the contracts service (about 150 ms of one core, by design).
Without a bound, a burst of logins queues behind the verifications until the gateway's read timeout fires
and answers 503. With it, a login waits at most `LOGIN_QUEUE_WAIT_S` for one of `LOGIN_CHECKS_AT_ONCE` slots
and otherwise gets a quick 429 with `Retry-After`: nothing was checked, so it is no failed attempt.
"""

from __future__ import annotations

import threading

from shared.web.problems import ProblemError

RETRY_AFTER_S = 1  # a verification takes well under a second; the client may come back at once after it


class LoginsBusy(ProblemError):
    """A 429 problem: every credential check slot of this process is taken."""

    def __init__(self) -> None:
        super().__init__(
            429,
            "Too Many Requests",
            "Too many logins are being checked at the moment; try again in a second.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


class LoginSlots:
    """A bounded number of credential checks at once per process; a login waits for one only briefly."""

    def __init__(self, slots: int, wait_s: float) -> None:
        self.slots, self.wait_s = slots, wait_s
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._taken = 0

    @property
    def taken(self) -> int:
        """Slots held right now."""
        return self._taken

    def acquire(self) -> None:
        """Take a slot, waiting at most `wait_s`; LoginsBusy if none became free."""
        if not self._free.acquire(timeout=self.wait_s):
            raise LoginsBusy()
        with self._lock:
            self._taken += 1

    def release(self) -> None:
        """Give a slot back."""
        with self._lock:
            self._taken -= 1
        self._free.release()
