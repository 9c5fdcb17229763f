"""Sessions ended by a password change: a token issued before the customer's latest projected change is refused.

The contracts read model keeps when the portal password last changed (set or removed). Each gateway process
keeps a snapshot of the changes of the last token lifetime (older ones can only end tokens that have expired
anyway), refreshed when older than `ttl_s` seconds (default 1 s) with one internal call for all customers, while
the other threads go on with the snapshot they have: a query costs a dictionary lookup, not a call per
customer (docs/performance.md, change 13), and a change is seen within `ttl_s` plus one call's time. When the contracts
service cannot answer, the last snapshot stays in use (logged) and is asked for again after the same while:
an outage of one service must not take every query down.

`state` (whether a customer has a password now, for the password actions) asks the service each time.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from gateway.clients import ServiceClient, ServiceUnavailable, customer_path

log = logging.getLogger("gateway.sessions")
CLOCK_MARGIN_S = 300.0  # changes this much older than the oldest live token are still kept


class PasswordChanges:
    """Latest password change per customer, from a snapshot refreshed at most every `ttl_s` seconds."""

    def __init__(self, contracts: ServiceClient, ttl_s: float, token_ttl_s: float) -> None:
        self.contracts, self.ttl_s, self.token_ttl_s = contracts, ttl_s, token_ttl_s
        self._changes: dict[str, float] = {}
        self._fetched = float("-inf")  # monotonic time of the last refresh (tried)
        self._lock = threading.Lock()

    def state(self, customer_code: str) -> dict[str, Any]:
        """`{has_password, password_changed_at}` now (fresh); ServiceUnavailable when contracts cannot say."""
        answer = self.contracts.request("GET", customer_path(customer_code, "portal-password"))
        if answer.status_code != 200:
            raise ServiceUnavailable("contracts")
        return answer.json()

    def _refresh(self) -> None:
        """Replace the snapshot with the changes of the last token lifetime (kept as it was on failure)."""
        since = datetime.fromtimestamp(time.time() - self.token_ttl_s - CLOCK_MARGIN_S, UTC)
        try:
            answer = self.contracts.request(
                "GET", "/internal/v1/portal-password-changes", params={"since": since.isoformat()}
            )
            changes = answer.json()["changes"] if answer.status_code == 200 else None
            fresh = {c["customer_code"]: datetime.fromisoformat(c["changed_at"]).timestamp() for c in changes or []}
        except (ServiceUnavailable, ValueError, KeyError, TypeError):
            changes = None
        if changes is None:
            log.warning("password changes unknown; the last snapshot stays in use")
            return
        self._changes = fresh

    def changed_at(self, customer_code: str) -> float | None:
        """The latest change in the last token lifetime as a POSIX timestamp (None: none known)."""
        if time.monotonic() - self._fetched >= self.ttl_s:
            # One thread refreshes. The others go on with the snapshot they have (older than `ttl_s` by at most
            # the call's time): waiting for it would stall every query of the process each time contracts is
            # slow to answer. Before the first snapshot, all wait.
            if self._lock.acquire(blocking=self._fetched == float("-inf")):
                try:
                    if time.monotonic() - self._fetched >= self.ttl_s:
                        self._refresh()
                        self._fetched = time.monotonic()
                finally:
                    self._lock.release()
        return self._changes.get(customer_code)

    def ended(self, customer_code: str, issued_at: float) -> bool:
        """Whether a token issued at `issued_at` was issued before the latest password change."""
        changed = self.changed_at(customer_code)
        return changed is not None and issued_at < changed
