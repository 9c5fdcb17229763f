"""The one retry helper: run an action until it succeeds, backing off exponentially with jitter.

Every loop of the project that waits for something that is away (the database, the broker, a topic, a
service) goes through `retry` or `Backoff`, so they all back off the same way and stop the same way.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("retry")


class GiveUp(Exception):
    """Raised by `Backoff.wait` once its deadline has passed."""


@dataclass
class Backoff:
    """Delays that double from `first_s` up to `max_s`, each drawn in [delay/2, delay] (jitter).

    With `deadline_s`, `wait` raises GiveUp once that much time has passed since the first wait.
    """

    first_s: float = 0.2
    max_s: float = 10.0
    deadline_s: float | None = None
    _delay: float = field(default=0.0, init=False)
    _started: float | None = field(default=None, init=False)

    def next_delay(self) -> float:
        """The next delay to wait, with jitter."""
        self._delay = self.first_s if self._delay == 0 else min(self._delay * 2, self.max_s)
        return random.uniform(self._delay / 2, self._delay)  # noqa: S311 - jitter, not security

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Sleep the next delay (shortened to the deadline); the delay slept."""
        now = time.monotonic()
        if self._started is None:
            self._started = now
        delay = self.next_delay()
        if self.deadline_s is not None:
            left = self._started + self.deadline_s - now
            if left <= 0:
                raise GiveUp(f"gave up after {self.deadline_s:g} s")
            delay = min(delay, left)
        sleep(delay)
        return delay

    def reset(self) -> None:
        """Start again from the first delay (after a success)."""
        self._delay = 0.0
        self._started = None


def retry(
    action: Callable[[], T],
    *,
    on: type[BaseException] | tuple[type[BaseException], ...],
    what: str,
    stopping: Callable[[], bool] = lambda: False,
    backoff: Backoff | None = None,
    logger: logging.Logger = log,
) -> T:
    """Run `action` until it returns, retrying on the `on` exceptions with backoff.

    The last exception is raised as it is once `stopping()` is true, or when the backoff's deadline passed.
    """
    backoff = backoff or Backoff()
    while True:
        try:
            return action()
        except on as exc:
            if stopping():
                raise
            try:
                backoff.wait(functools.partial(_log_and_sleep, logger, what, exc))
            except GiveUp:
                raise exc from None


def _log_and_sleep(logger: logging.Logger, what: str, exc: BaseException, seconds: float) -> None:
    logger.warning("%s unavailable (%s); retrying in %.1fs", what, exc, seconds)
    time.sleep(seconds)
