"""The four projectors (contracts, ledger, tickets, quota) together through a broker kill, a PostgreSQL stop, and
a second instance of each killed in its group. Each service has its own topics and load; pass means each read
model equals the rows computed by hand from its published events (tests/support/loads.py), every distinct event
applied once.

Each outage lasts until every projector has logged that it met it (a lost connection to the broker, a retried
database connection): a condition, not a duration.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

import pytest

from shared.cli.admin import create_topics, delete_topics
from tests.reliability.test_every_projector import assert_expected, publish
from tests.reliability.test_projector_crashes import assignment
from tests.support import faults, ledger, loads
from tests.support.procs import terminate, wait_for

pytestmark = [pytest.mark.usefixtures("local_stack"), pytest.mark.slow]
EVENTS = 3_000


@dataclass
class Projection:
    """One service's load, topics, database and running projector processes."""

    service: str
    prefix: str
    load: loads.Load
    first: loads.Load
    second: loads.Load
    dsn: str
    env: dict[str, str]
    procs: list[Popen] = field(default_factory=list)

    def start(self, logs: Path, name: str = "") -> Popen:
        proc = ledger.start_projector(
            self.env, log=logs / f"{self.service}{name}.log", module=loads.module(self.service)
        )
        self.procs.append(proc)
        return proc

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def progress(self) -> int:
        return ledger.progress(self.dsn)


def halves(load: loads.Load) -> tuple[loads.Load, loads.Load]:
    first = loads.Load(load.service, {t: e[: len(e) // 2] for t, e in load.events.items()})
    second = loads.Load(load.service, {t: e[len(e) // 2 :] for t, e in load.events.items()})
    return first, second


@pytest.fixture
def projections(kafka_bootstrap, new_database, request) -> Iterator[list[Projection]]:
    """Per service: its own topics (3 partitions), its load split in halves, a fresh database and group."""
    made = []
    for n, service in enumerate(loads.SERVICES):
        prefix = f"o{uuid.uuid4().hex[:8]}."
        create_topics(kafka_bootstrap, partitions=3, prefix=prefix)
        load = loads.service_load(service, EVENTS, seed=80 + n)
        dsn = new_database(f"out_{service}")
        env = loads.projector_env(service, dsn, prefix, f"out-{uuid.uuid4().hex[:6]}", PROJECTOR_BATCH_SIZE="100")
        made.append(Projection(service, prefix, load, *halves(load), dsn, env))
    yield made
    for projection in made:
        for proc in projection.procs:
            terminate(proc)
        delete_topics(kafka_bootstrap, projection.prefix)


def finish(projections: list[Projection], kafka_bootstrap: str) -> dict[str, int]:
    """Publish every second half, wait until every projector has applied its whole load, stop them (exit 0),
    and compare each read model with its hand-computed rows."""
    for p in projections:
        assert publish(kafka_bootstrap, p.prefix, p.second) == p.second.count
    for p in projections:
        wait_for(lambda p=p: p.progress() >= p.load.count or not p.alive(), timeout=240, interval=0.1)
        assert p.alive(), f"{p.service}: a projector died"
    for p in projections:
        for proc in p.procs:
            terminate(proc)
        assert [proc.returncode for proc in p.procs] == [0] * len(p.procs), p.service  # SIGTERM: a clean exit
        assert_expected(p.service, p.load, p.dsn, "after the outage")
    return {p.service: p.load.count for p in projections}


def test_every_projector_through_a_broker_kill(kafka_bootstrap, projections, logs, record):
    for p in projections:
        assert publish(kafka_bootstrap, p.prefix, p.first) == p.first.count
        p.start(logs)
    wait_for(lambda: all(p.progress() >= p.first.count // 4 for p in projections), timeout=180, interval=0.02)
    with faults.broker_killed(kafka_bootstrap) as broker:
        at_kill = {p.service: p.progress() for p in projections}
        # Down until every projector's Kafka client has lost its connection (it logs so), whatever it was doing.
        wait_for(
            lambda: (
                all(
                    logged(logs / f"{p.service}.log", "Connection lost", "ECONNREFUSED", "Kafka unavailable")
                    for p in projections
                )
                or not all(p.alive() for p in projections)
            ),
            timeout=120,
        )
        down_s = round(time.monotonic() - broker["killed_at"], 1)
        assert all(p.alive() for p in projections), "a projector exited while the broker was down"
    events = finish(projections, kafka_bootstrap)
    faults.collect_dead_sockets()
    record(
        services=list(events),
        events=events,
        committed_at_kill=at_kill,
        broker_down_s=down_s,
        broker_restart_s=broker["restart_s"],
    )


def test_every_projector_through_a_postgres_stop(kafka_bootstrap, database_url, projections, logs, record):
    for p in projections:
        assert publish(kafka_bootstrap, p.prefix, p.first) == p.first.count
        p.start(logs)
    wait_for(lambda: all(p.progress() >= p.first.count // 4 for p in projections), timeout=180, interval=0.02)
    with faults.postgres_stopped(database_url) as postgres:
        # Down until every projector has failed a database round trip and backed off (it logs "retrying in").
        wait_for(
            lambda: (
                all(logged(logs / f"{p.service}.log", "retrying in") for p in projections)
                or not all(p.alive() for p in projections)
            ),
            timeout=120,
        )
        down_s = round(time.monotonic() - postgres["stopped_at"], 1)
        assert all(p.alive() for p in projections), "a projector exited while PostgreSQL was down"
    events = finish(projections, kafka_bootstrap)
    record(services=list(events), events=events, postgres_down_s=down_s, postgres_restart_s=postgres["restart_s"])


def test_two_instances_of_every_projector_one_killed(kafka_bootstrap, projections, logs, record):
    for p in projections:
        assert publish(kafka_bootstrap, p.prefix, p.first) == p.first.count
        p.start(logs, "-a")
        p.start(logs, "-b")
    # Both members of every group hold partitions before one is killed.
    wait_for(
        lambda: all(
            assignment(logs / f"{p.service}-a.log") and assignment(logs / f"{p.service}-b.log") for p in projections
        ),
        timeout=120,
    )
    wait_for(lambda: all(p.progress() >= p.first.count // 3 for p in projections), timeout=180, interval=0.02)
    at_kill = {}
    for p in projections:
        p.procs[1].send_signal(signal.SIGKILL)
        p.procs[1].wait(timeout=10)
        at_kill[p.service] = p.progress()
    for p in projections:
        p.procs = [p.procs[0]]  # the survivor must take the dead member's partitions over
    events = finish(projections, kafka_bootstrap)
    record(services=list(events), events=events, committed_at_kill=at_kill)


def logged(log: Path, *texts: str) -> bool:
    """True once a projector's log holds one of `texts`."""
    if not log.exists():
        return False
    content = log.read_text(errors="replace")
    return any(text in content for text in texts)
