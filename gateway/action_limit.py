"""The limit on customer actions (default 20 an hour per customer), in the login limiter's PostgreSQL table.

Counted the same way as failed logins (gateway/ratelimit.py: rows per scope and key, a per-key advisory
lock, so it holds across processes), under scopes of its own: `action` (one row per accepted action)
and `action-key` (the Idempotency-Keys seen in the window: a retry of an accepted action is no new one).
An action that is refused later (404, 409, Kafka down) has its rows withdrawn.
"""

from __future__ import annotations

import math

from psycopg_pool import ConnectionPool

from gateway.ratelimit import LOCK_SQL, LoginLimiter, Reservation
from shared.web.problems import ProblemError

SEEN_SQL = """
    SELECT 1 FROM gateway.login_failures
     WHERE scope = 'action-key' AND key = %(key)s AND attempted_at > now() - make_interval(mins => %(window)s)
     LIMIT 1
"""


class ActionsLimited(ProblemError):
    """A 429 problem with the seconds to wait in Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "Too Many Requests",
            "Too many actions in the last hour; try again later.",
            headers={"Retry-After": str(retry_after)},
        )


class ActionLimiter(LoginLimiter):
    """Accepted actions per customer code over a sliding window."""

    def __init__(self, pool: ConnectionPool, per_customer: int, window_minutes: int) -> None:
        super().__init__(pool, per_code=per_customer, per_address=per_customer, window_minutes=window_minutes)
        self.limits = {"action": per_customer, "action-key": 1}

    def taken(self, customer_code: str, key: str) -> bool:
        """True when an action with this key was accepted in the window (a retry of it)."""
        if not self._schema_ready:
            self.ensure_schema()
        with self._connection() as conn:
            return bool(conn.execute(SEEN_SQL, {"key": f"{customer_code}\x1f{key}", "window": self.window}).fetchone())

    def reserve_action(self, customer_code: str, key: str) -> Reservation:
        """Count this action, or raise ActionsLimited; a key already counted in the window counts nothing."""
        if not self._schema_ready:
            self.ensure_schema()
        key_row = f"{customer_code}\x1f{key}"
        with self._connection() as conn, conn.transaction():
            conn.execute(LOCK_SQL, {"lock": f"action:{customer_code}"})
            if conn.execute(SEEN_SQL, {"key": key_row, "window": self.window}).fetchone():
                return Reservation(())
            wait = self._wait(conn, "action", customer_code)
            if wait > 0:
                raise ActionsLimited(max(1, math.ceil(wait)))
            ids = (self._record(conn, "action", customer_code), self._record(conn, "action-key", key_row))
        self._maybe_sweep()
        return Reservation(ids)
