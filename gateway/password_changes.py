"""Sessions ended by a password change: a token issued before the customer's latest projected change is refused.

The contracts read model keeps when the portal password last changed (set or removed). The gateway asks
for it when it checks a token, and keeps the answer for a short while per process (default 1 s), so a
burst of queries costs one internal call. When the contracts service cannot answer, the token is accepted
(logged): an outage of one service must not take every query down.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from gateway.clients import ServiceClient, ServiceUnavailable, customer_path

log = logging.getLogger("gateway.sessions")


class PasswordChanges:
    """The customer's password state from the contracts service, cached for `ttl_s` seconds."""

    def __init__(self, contracts: ServiceClient, ttl_s: float) -> None:
        self.contracts, self.ttl_s = contracts, ttl_s
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def state(self, customer_code: str) -> dict[str, Any]:
        """`{has_password, password_changed_at}` now (fresh); ServiceUnavailable when contracts cannot say."""
        answer = self.contracts.request("GET", customer_path(customer_code, "portal-password"))
        if answer.status_code != 200:
            raise ServiceUnavailable("contracts")
        state = answer.json()
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[customer_code] = (time.monotonic(), state)
        return state

    def changed_at(self, customer_code: str) -> float | None:
        """The latest change as a POSIX timestamp (None: never changed, or not known right now)."""
        with self._lock:
            cached = self._cache.get(customer_code)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            state = cached[1]
        else:
            try:
                state = self.state(customer_code)
            except (ServiceUnavailable, ValueError):
                log.warning("password state unknown; token accepted", extra={"customer_code": customer_code})
                with self._lock:  # a slow or absent service is asked again only after the same while
                    self._cache[customer_code] = (time.monotonic(), {})
                return None
        stamp = state.get("password_changed_at")
        return datetime.fromisoformat(stamp).timestamp() if stamp else None

    def ended(self, customer_code: str, issued_at: float) -> bool:
        """Whether a token issued at `issued_at` was issued before the latest password change."""
        changed = self.changed_at(customer_code)
        return changed is not None and issued_at < changed
