"""Login brute-force limits, counted in PostgreSQL so they hold across worker processes and replicas.

An attempt is written as a failure *before* the credentials are checked (under a per-key advisory
lock), so parallel guesses cannot slip past the limit; it is withdrawn again when the login succeeds
or could not be checked at all. Limited attempts are not written and never reach the contracts service.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from shared.web.app import POOL_RECONNECT_TIMEOUT_S
from shared.web.problems import ProblemError

log = logging.getLogger("gateway.ratelimit")
SCHEMA = "gateway"
SWEEP_EVERY_S = 300.0

DDL = """
CREATE SCHEMA IF NOT EXISTS gateway;
CREATE TABLE IF NOT EXISTS gateway.login_failures (
    failure_id   bigserial PRIMARY KEY,
    scope        text NOT NULL,
    key          text NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS login_failures_by_key ON gateway.login_failures (scope, key, attempted_at);
CREATE INDEX IF NOT EXISTS login_failures_by_time ON gateway.login_failures (attempted_at);
"""

# Seconds until the limit-th newest failure in the window leaves it (no row: not limited).
WAIT_SQL = """
    SELECT extract(epoch FROM attempted_at + make_interval(mins => %(window)s) - now()) AS wait
      FROM gateway.login_failures
     WHERE scope = %(scope)s AND key = %(key)s AND attempted_at > now() - make_interval(mins => %(window)s)
     ORDER BY attempted_at DESC, failure_id DESC
    OFFSET %(limit)s - 1 LIMIT 1
"""
INSERT_SQL = "INSERT INTO gateway.login_failures (scope, key) VALUES (%(scope)s, %(key)s) RETURNING failure_id"
EXPIRE_KEY_SQL = """
    DELETE FROM gateway.login_failures
     WHERE scope = %(scope)s AND key = %(key)s AND attempted_at <= now() - make_interval(mins => %(window)s)
"""
SWEEP_SQL = """
    DELETE FROM gateway.login_failures
     WHERE scope = ANY(%(scopes)s) AND attempted_at <= now() - make_interval(mins => %(window)s)
"""
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%(lock)s, 0))"


class RateLimited(ProblemError):
    """A 429 problem with the seconds to wait in Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "Too Many Requests",
            "Too many failed login attempts; try again later.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reservation:
    """The failure rows written for one attempt, to withdraw if it does not fail."""

    failure_ids: tuple[int, ...]


class LoginLimiter:
    """Failure counters per customer code and per client address over a sliding window."""

    def __init__(self, pool: ConnectionPool, per_code: int, per_address: int, window_minutes: int) -> None:
        self.pool, self.window = pool, window_minutes
        self.limits = {"code": per_code, "address": per_address}
        self._schema_ready = False
        self._last_sweep = 0.0

    def ensure_schema(self) -> None:
        """Create the table if absent (idempotent, safe for workers starting together)."""
        with self._connection() as conn, conn.transaction():
            conn.execute(LOCK_SQL, {"lock": "gateway.ddl"})
            conn.execute(DDL)
        self._schema_ready = True

    def reserve(self, customer_code: str, address: str) -> Reservation:
        """Count this attempt as a failure, or raise RateLimited when a limit is already reached."""
        if not self._schema_ready:
            self.ensure_schema()
        keys = sorted({("code", customer_code), ("address", address)})
        with self._connection() as conn, conn.transaction():
            for scope, key in keys:
                conn.execute(LOCK_SQL, {"lock": f"{scope}:{key}"})
            wait = max(self._wait(conn, scope, key) for scope, key in keys)
            if wait > 0:
                raise RateLimited(max(1, math.ceil(wait)))
            ids = [self._record(conn, scope, key) for scope, key in keys]
        self._maybe_sweep()
        return Reservation(tuple(ids))

    def withdraw(self, reservation: Reservation) -> None:
        """Remove the attempt's rows: it succeeded, or it could not be checked (best effort)."""
        try:
            with self._connection() as conn:
                conn.execute(
                    "DELETE FROM gateway.login_failures WHERE failure_id = ANY(%(ids)s)",
                    {"ids": list(reservation.failure_ids)},
                )
        except ProblemError:
            log.warning("login attempt not withdrawn; it counts as a failure", extra={"ids": reservation.failure_ids})

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self._connection() as conn:
            conn.execute("SELECT 1")

    def _wait(self, conn: psycopg.Connection[TupleRow], scope: str, key: str) -> float:
        row = conn.execute(
            WAIT_SQL, {"scope": scope, "key": key, "window": self.window, "limit": self.limits[scope]}
        ).fetchone()
        return float(row[0]) if row else 0.0

    def _record(self, conn: psycopg.Connection[TupleRow], scope: str, key: str) -> int:
        conn.execute(EXPIRE_KEY_SQL, {"scope": scope, "key": key, "window": self.window})
        row = conn.execute(INSERT_SQL, {"scope": scope, "key": key}).fetchone()
        assert row is not None, "INSERT ... RETURNING returns its row"
        return int(row[0])

    def _maybe_sweep(self) -> None:
        """Now and then drop expired rows of keys that were never tried again."""
        if time.monotonic() - self._last_sweep < SWEEP_EVERY_S:
            return
        self._last_sweep = time.monotonic()
        with self._connection() as conn:
            conn.execute(SWEEP_SQL, {"window": self.window, "scopes": list(self.limits)})

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[TupleRow]]:
        """A pooled connection; the database being down is a 503, never a login."""
        try:
            with self.pool.connection(timeout=2) as conn:
                yield conn
        except psycopg.Error as exc:
            log.error("gateway database unavailable: %s", exc)
            raise ProblemError(503, "Service Unavailable", "The gateway database is unavailable.") from None


def make_pool(dsn: str, size: int) -> ConnectionPool:
    """The gateway database's connection pool (opened in the background)."""
    # check: a connection broken by a database restart is replaced on checkout, not handed out as a 503
    pool = ConnectionPool(
        dsn,
        min_size=1,
        max_size=size,
        kwargs={"autocommit": True},
        open=False,
        name="gateway",
        check=ConnectionPool.check_connection,
        reconnect_timeout=POOL_RECONNECT_TIMEOUT_S,
    )
    pool.open(wait=False)
    return pool
