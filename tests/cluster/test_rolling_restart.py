"""A rolling restart of all three brokers while the public API keeps answering and the projectors keep applying.

The whole system (four services' APIs and projectors, the gateway) runs against the cluster's bootstrap list.
A client loop asks the gateway the customer's six queries without pause and records every answer. One broker at
a time is stopped (SIGTERM: a controlled shutdown that hands its leaderships over first); while it is down a part
of a ledger load is published (acks=all) and the ledger projector must apply all of it; then the broker is
started again and the next one waits until no partition is under-replicated (every ISR full).

The decision this test holds the system to: queries read PostgreSQL, never Kafka, so a rolling restart fails no
query at all (0 answers other than 200). The ledger's read model must equal the rows computed by hand from the
published load. The times are recorded figures (docs/operations.md), never asserted.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from shared.cli.admin import create_topics, delete_topics
from shared.events.publisher import Publisher
from tests.support import ledger, loads
from tests.support.cluster import NODES, Cluster, save_figures
from tests.support.customers import rich_customer
from tests.support.fixtures import login
from tests.support.procs import wait_for
from tests.support.system import System, start_system

pytestmark = pytest.mark.slow
QUERIES = ("balance", "invoices", "support-calls", "quota", "contract-annex", "expected-fee")
EVENTS = 2_400
PACE_S = 0.05


class Asking(threading.Thread):
    """Asks the gateway every query in turn until stopped, one every PACE_S at most (a steady client, not a load
    test: on a small machine an unpaced loop would starve the brokers it is meant to watch); every answer's status
    is kept with the phase it was given in (which broker was down)."""

    def __init__(self, gateway: str, auth: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.gateway, self.auth = gateway, auth
        self.phase = "before"
        self.answers: list[tuple[str, str, int | str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            for path in QUERIES:
                phase = self.phase
                try:
                    answer = session.get(f"{self.gateway}/api/v1/{path}", headers=self.auth, timeout=30)
                    status: int | str = answer.status_code
                    if status == 200 and not answer.headers.get("Content-Type", "").startswith("application/json"):
                        status = f"200 {answer.headers.get('Content-Type')}"
                except requests.RequestException as exc:
                    status = type(exc).__name__
                self.answers.append((phase, path, status))
                self.stopping.wait(PACE_S)
        session.close()

    def count(self, phase: str) -> int:
        return sum(1 for p, _, _ in self.answers if p == phase)

    def failed(self) -> list[tuple[str, str, int | str]]:
        return [a for a in self.answers if a[2] != 200]


@pytest.fixture
def system(whole: Cluster, make_database, run_id, logs) -> Iterator[tuple[System, str]]:
    prefix = f"s{uuid.uuid4().hex[:8]}."
    create_topics(whole.bootstrap, partitions=3, prefix=prefix, replication=3)
    running = start_system(whole.bootstrap, prefix, make_database, logs, run_id, name=f"cluster{uuid.uuid4().hex[:4]}")
    yield running, prefix
    running.shutdown()
    delete_topics(whole.bootstrap, prefix)


def test_a_rolling_restart_of_all_three_brokers_fails_no_query_and_loses_no_event(whole, system):
    cluster: Cluster = whole
    running, prefix = system
    publisher = Publisher(cluster.bootstrap, prefix)

    def publish(topic: str, events: list[dict], wait: bool = True) -> None:
        report = publisher.publish(topic, events)
        assert report.refused == [], report.refused[:3]
        if wait:
            running.wait_caught_up(timeout=120)

    ledger_db = running.env["LEDGER_DATABASE_URL"]
    try:
        customer = rich_customer(publish, name="Gördülő Kft.")
        auth = login(running.gateway, customer["code"], customer["serials"][0])
        asking = Asking(running.gateway, auth)
        asking.start()
        wait_for(lambda: asking.count("before") >= 2 * len(QUERIES), timeout=120)
        assert asking.failed() == [], asking.failed()[:5]

        load = loads.service_load("ledger", EVENTS, seed=95)
        parts = [
            loads.Load("ledger", {t: e[i * len(e) // 3 : (i + 1) * len(e) // 3] for t, e in load.events.items()})
            for i in range(3)
        ]
        base = ledger.progress(ledger_db)
        applied, restarts = base, []
        for node, part in zip(NODES, parts, strict=True):
            started = time.monotonic()
            asking.phase = f"broker {node} stopping"
            cluster.stop(node)
            stopped_s = time.monotonic() - started
            asking.phase = f"broker {node} down"
            assert cluster.running() == [n for n in NODES if n != node]
            # The projectors keep applying: this part is published and applied while the broker is down.
            for topic, events in part.events.items():
                publish(topic, events, wait=False)
            applied += part.count
            wait_for(lambda a=applied: ledger.progress(ledger_db) >= a, timeout=180, interval=0.1)
            applied_s = time.monotonic() - started - stopped_s
            wait_for(lambda n=node: asking.count(f"broker {n} down") >= len(QUERIES), timeout=60)
            asking.phase = f"broker {node} rejoining"
            back = time.monotonic()
            cluster.start(node)
            in_sync_s = cluster.wait_whole()
            restarts.append(
                {
                    "broker": node,
                    "controlled_shutdown_s": round(stopped_s, 1),
                    "part_applied_while_down_s": round(applied_s, 1),
                    "start_until_in_sync_s": round(time.monotonic() - back, 1),
                    "under_replicated_wait_s": round(in_sync_s, 1),
                    "events_while_down": part.count,
                }
            )
        asking.phase = "after"
        wait_for(lambda: asking.count("after") >= len(QUERIES), timeout=60)
    finally:
        if "asking" in locals():
            asking.stopping.set()
            asking.join(timeout=60)
        publisher.close(timeout=30)
    running.wait_caught_up(timeout=120)

    per_phase = Counter(phase for phase, _, _ in asking.answers)
    assert asking.failed() == [], f"{len(asking.failed())} failed queries, e.g. {asking.failed()[:5]}"
    # The ledger's read model: the customer's own rows aside, exactly the rows computed by hand from the load.
    found = {
        table: [row for row in rows if row.get("customer_code") != customer["code"]]
        for table, rows in loads.facts("ledger", ledger_db).items()
    }
    ledger.assert_same(found, load.expected, "ledger after the rolling restart")
    save_figures(
        "rolling_restart",
        {
            "brokers_restarted": len(restarts),
            "restarts": restarts,
            "queries_total": len(asking.answers),
            "queries_failed": len(asking.failed()),
            "queries_per_phase": dict(per_phase),
            "ledger_events_published_during_restart": load.count,
        },
    )
