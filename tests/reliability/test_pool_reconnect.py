"""The API connection pools after a long PostgreSQL outage: a service's read-model pool and the gateway's pool
serve again within seconds of the database accepting connections, however long it was away.

psycopg_pool retries a lost connection after 1, 2, 4, 8, 16, 32… s, with no cap, until its `reconnect_timeout`.
At the library's default (300 s) a pool that saw a 45 s outage next tried at about 63 s, so it kept refusing
requests for about as long again after PostgreSQL was back. The outage here is longer than 1 + 2 + 4 + 8 + 16 s; both
pools are used all through it, as requests would use them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from gateway.ratelimit import make_pool as make_gateway_pool
from shared.web.app import make_pool as make_service_pool
from tests.support import faults
from tests.support.procs import wait_for

pytestmark = pytest.mark.usefixtures("local_stack")

OUTAGE_S = 40.0
# a generous bound on a loaded machine; the uncapped back-off waits for its attempt at about 63 s here
RECOVERY_BOUND_S = 6.0


class Client:
    """Checks a connection out of one pool again and again (as requests do), noting each outcome's time."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        self.served: list[float] = []
        self.refused: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.pool.connection(timeout=1) as conn:
                    conn.execute("SELECT 1")
                self.served.append(time.monotonic())
            except Exception:  # noqa: BLE001 - any failure while the database is away is a refusal
                self.refused.append(time.monotonic())
            self.stop.wait(0.1)

    def served_since(self, moment: float) -> float | None:
        return next((t for t in self.served if t >= moment), None)


@pytest.fixture
def clients(database_url: str) -> Iterator[dict[str, Client]]:
    service_pool = make_service_pool(database_url, "pool_reconnect", size=4)
    service_pool.open(wait=False)
    pools = {"service": service_pool, "gateway": make_gateway_pool(database_url, 4)}
    running = {name: Client(pool) for name, pool in pools.items()}
    for client in running.values():
        client.thread.start()
    yield running
    for client in running.values():
        client.stop.set()
        client.thread.join(timeout=10)
        client.pool.close()


def test_pools_serve_again_within_seconds_after_a_long_outage(clients, database_url, record):
    started = time.monotonic()
    wait_for(lambda: all(c.served_since(started) for c in clients.values()), timeout=30)
    with faults.postgres_stopped(database_url) as postgres:
        # the stop is complete here; from now on nothing can be served
        wait_for(lambda: time.monotonic() - postgres["stopped_at"] >= OUTAGE_S, timeout=OUTAGE_S + 5, interval=0.5)
    back = time.monotonic()  # PostgreSQL accepts a query again (faults.start_postgres waited for it)
    wait_for(lambda: all(c.served_since(back) for c in clients.values()), timeout=120, interval=0.1)

    recovery = {}
    for name, client in clients.items():
        during = [t for t in client.refused if postgres["stopped_at"] <= t <= back - postgres["restart_s"]]
        served_during = [t for t in client.served if postgres["stopped_at"] + 1 <= t <= back - postgres["restart_s"]]
        assert len(during) >= 5 and not served_during, (name, len(during), len(served_during))
        first = client.served_since(back)
        assert first is not None
        recovery[name] = round(first - back, 1)
    record(outage_s=OUTAGE_S, postgres_restart_s=postgres["restart_s"], recovery_s=recovery)
    assert all(seconds <= RECOVERY_BOUND_S for seconds in recovery.values()), recovery
