"""The Kafka broker killed (kill -9) and PostgreSQL stopped hard (pg_ctl -m immediate) under load.

Two projectors consume the same topics meanwhile: the ledger's real projector, and the counting test
projection, whose handlers are deliberately not idempotent (a payment applied twice doubles a total).
Pass: both keep running through the fault, catch up after it, every acknowledged event is applied
exactly once (counting totals = sums by hand), and the ledger equals its hand oracle and a clean rebuild.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.events.publisher import Publisher
from tests.support import faults, ledger
from tests.support.procs import projector_env, rows, send_raw, stacks_of, terminate, wait_for

pytestmark = [pytest.mark.usefixtures("local_stack"), pytest.mark.slow]
EVENTS = 20_000


class Consumers:
    """A ledger projector and a counting projector on fresh databases, running until stopped."""

    def __init__(self, bootstrap: str, prefix: str, new_database, logs: Path, hold_at: int = 0) -> None:  # noqa: ANN001
        """`hold_at`: the ledger projector holds inside the batch that would reach it (PROJECTOR_HOLD_AT) until
        `release()`."""
        self.ledger_dsn, self.counting_dsn, self.logs = new_database("ledger"), new_database("count"), logs
        tag = uuid.uuid4().hex[:6]
        self.ledger_env = ledger.ledger_env(
            self.ledger_dsn, prefix, f"ledger-{tag}", PROJECTOR_BATCH_SIZE="200", PROJECTOR_HOLD_AT=str(hold_at)
        )
        self.counting_env = projector_env(
            self.counting_dsn, prefix, f"count-{tag}", PROJECTOR_BATCH_SIZE="200", LOG_LEVEL="INFO"
        )
        self.procs = [
            ledger.start_projector(self.ledger_env, log=logs / "ledger.log"),
            ledger.start_projector(self.counting_env, log=logs / "counting.log", module="tests.support.counting"),
        ]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def wait_held(self) -> int:
        """Until the ledger projector holds inside a batch (its log says so); the offsets stored then."""
        wait_for(lambda: logged(self.logs / "ledger.log", ledger.HOLDING) or not self.alive(), timeout=120)
        assert self.alive(), f"a projector died: {self.tails()}"
        return ledger.progress(self.ledger_dsn)

    def release(self) -> None:
        """Let the held ledger projector commit its batch and go on."""
        self.procs[0].send_signal(signal.SIGUSR1)

    def wait_caught_up(self, load: ledger.Load, timeout: float = 240) -> None:
        """Until both have consumed every message of the load (the topics hold nothing else)."""
        payments = len(load.events["payments"])
        try:
            wait_for(
                lambda: (
                    ledger.progress(self.ledger_dsn) >= load.count
                    and ledger.progress(self.counting_dsn) >= payments
                    or not self.alive()
                ),
                timeout=timeout,
            )
        except AssertionError:
            raise AssertionError(
                f"not caught up within {timeout:g} s: ledger {ledger.progress(self.ledger_dsn)} of {load.count}, "
                f"counting {ledger.progress(self.counting_dsn)} of {payments}\n{self.tails()}\n"
                f"ledger threads:\n{stacks_of(self.procs[0], self.logs / 'ledger.log')}\n"
                f"counting threads:\n{stacks_of(self.procs[1], self.logs / 'counting.log')}"
            ) from None
        assert self.alive(), f"a projector died: {self.tails()}"

    def stop(self) -> list[int]:
        """SIGTERM both; their exit codes."""
        for proc in self.procs:
            terminate(proc)
        return [p.returncode for p in self.procs]

    def tails(self) -> str:
        return "\n".join(f.read_text(errors="replace")[-2000:] for f in self.logs.glob("*.log"))


def check_applied_once(
    load: ledger.Load,
    consumers: Consumers,
    bootstrap: str,
    prefix: str,
    new_database,  # noqa: ANN001
    logs: Path,
) -> dict:
    """Counting totals = payments by hand; ledger = hand oracle = clean rebuild. Returns figures."""
    totals = {
        r["customer_code"]: (r["total"], r["events"])
        for r in rows(consumers.counting_dsn, "SELECT customer_code, total, events FROM paid")
    }
    assert totals == load.payments_by_customer()
    found = ledger.snapshot(consumers.ledger_dsn)
    ledger.assert_same(ledger.as_expected(load, consumers.ledger_dsn), ledger.expected_rows(load))
    assert len(found["applied_events"]) == len(load.ids)
    clean_dsn = new_database("clean")
    ledger.run_until_caught_up(
        ledger.ledger_env(clean_dsn, prefix, f"clean-{uuid.uuid4().hex[:6]}"), log=logs / "clean.log"
    )
    clean = ledger.snapshot(clean_dsn)
    ledger.assert_same(found, clean)
    return {"applied": len(found["applied_events"]), "payments_applied": sum(n for _, n in totals.values())}


def test_broker_killed_during_consumption(kafka_bootstrap, fresh_topics, new_database, logs, record):
    load = ledger.make_load(EVENTS, customers=300, seed=31)
    first, second = load.split()
    assert ledger.publish_load(kafka_bootstrap, fresh_topics, first) == first.count
    consumers = Consumers(kafka_bootstrap, fresh_topics, new_database, logs, hold_at=first.count // 4)
    try:
        # The ledger projector holds inside the batch that reaches a quarter of the first half: the broker is
        # killed while it is consuming, however fast it would otherwise have finished.
        at_kill = consumers.wait_held()
        with faults.broker_killed(kafka_bootstrap) as broker:
            consumers.release()
            # A projector started during the outage must wait for the broker, not exit.
            late_dsn = new_database("late")
            consumers.procs.append(
                ledger.start_projector(
                    ledger.ledger_env(late_dsn, fresh_topics, f"late-{uuid.uuid4().hex[:6]}"), log=logs / "late.log"
                )
            )
            # The broker stays down until the late projector has met the outage and backs off: a condition,
            # not a duration.
            wait_for(lambda: logged(logs / "late.log", "Kafka unavailable") or not consumers.alive(), timeout=120)
            down_s = round(time.monotonic() - broker["killed_at"], 1)
            assert consumers.alive(), consumers.tails()
        # The second half reaches the topics only through the restarted broker: consumption must resume.
        assert ledger.publish_load(kafka_bootstrap, fresh_topics, second) == second.count
        restarted = time.monotonic()
        consumers.wait_caught_up(load)
        wait_for(lambda: ledger.progress(late_dsn) >= load.count or not consumers.alive(), timeout=240)
        resumed_s = time.monotonic() - restarted
    finally:
        codes = consumers.stop()
        faults.collect_dead_sockets()
    assert codes == [0, 0, 0], consumers.tails()
    assert at_kill < first.count
    figures = check_applied_once(load, consumers, kafka_bootstrap, fresh_topics, new_database, logs)
    ledger.assert_same(ledger.snapshot(late_dsn), ledger.snapshot(consumers.ledger_dsn), "started during the outage")
    record(
        events=load.count,
        consumed_at_kill=at_kill,
        broker_down_s=down_s,
        broker_restart_s=broker["restart_s"],
        second_half_applied_within_s=round(resumed_s, 1),
        **figures,
    )


def publish_until_acknowledged(
    bootstrap: str,
    prefix: str,
    load: ledger.Load,
    stats: dict,
    chunk: int = 250,
    after_chunk: Callable[[int], None] | None = None,
    before_chunk: Callable[[], None] | None = None,
) -> int:
    """An internal system publishing: every chunk is sent (acks=all, the producer retrying) until the broker
    acknowledges it; a chunk whose send failed is sent again whole, with the same ids. `after_chunk(acknowledged)`
    runs in the publishing thread after each acknowledged chunk, `before_chunk()` before each send: the hooks
    that force a fault at a counted point."""
    publisher = Publisher(bootstrap, prefix)
    try:
        # Payments first: both projectors (the counting one reads only payments) have work from the first chunk.
        for topic in sorted(load.events, key=lambda t: t != "payments"):
            events = load.events[topic]
            for start in range(0, len(events), chunk):
                if before_chunk:
                    before_chunk()
                stats["acknowledged"] += _send_chunk(publisher, topic, events[start : start + chunk], stats)
                if after_chunk:
                    after_chunk(stats["acknowledged"])
    finally:
        publisher.close()
    return stats["acknowledged"]


def _send_chunk(publisher: Publisher, topic: str, events: list[dict], stats: dict) -> int:
    deadline = time.monotonic() + 300
    while True:
        try:
            report = publisher.publish(topic, events)
            assert report.refused == []
            return report.sent
        except Exception as exc:  # noqa: BLE001 - not acknowledged: the same chunk goes again
            stats["failed_sends"] += 1
            stats["errors"].add(type(exc).__name__)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # back-off before the same chunk goes again (not a wait for an event)


def test_broker_killed_during_publishing(kafka_bootstrap, fresh_topics, new_database, logs, record):
    """The broker is killed by the publisher itself, right after the chunk that brings the acknowledged count
    to a fifth of the load (payments, published first; once both projectors have committed something); it is
    started again only when the next chunk is on its way to the dead broker."""
    load = ledger.make_load(EVENTS, customers=300, seed=32)
    consumers = Consumers(kafka_bootstrap, fresh_topics, new_database, logs)
    stats: dict = {"acknowledged": 0, "failed_sends": 0, "errors": set()}
    kill_after = load.count // 5
    assert kill_after < len(load.events["payments"])
    killed, sending_while_down = threading.Event(), threading.Event()

    def after_chunk(acknowledged: int) -> None:
        if killed.is_set() or acknowledged < kill_after:
            return
        wait_for(
            lambda: ledger.progress(consumers.ledger_dsn) > 0 and ledger.progress(consumers.counting_dsn) > 0,
            timeout=120,
            interval=0.05,
        )
        stats["acknowledged_at_kill"] = acknowledged
        faults.kill_kafka()
        killed.set()

    def before_chunk() -> None:
        if killed.is_set():
            sending_while_down.set()

    publishing = ledger.Background(
        publish_until_acknowledged, kafka_bootstrap, fresh_topics, load, stats, 250, after_chunk, before_chunk
    )
    broker: dict = {}
    try:
        publishing.start()
        try:
            if not killed.wait(timeout=300):
                publishing.join(timeout=1)  # re-raises the publisher's error, if it had one
                raise AssertionError("the broker was never killed")
            assert sending_while_down.wait(timeout=60), "no chunk was sent while the broker was down"
            assert consumers.alive(), consumers.tails()
        finally:
            if killed.is_set():
                started = time.monotonic()
                faults.start_kafka(kafka_bootstrap)
                broker["restart_s"] = round(time.monotonic() - started, 1)
        acknowledged = publishing.join(timeout=400)
        consumers.wait_caught_up(load)
    finally:
        codes = consumers.stop()
        faults.collect_dead_sockets()
    at_kill = stats["acknowledged_at_kill"]
    assert codes == [0, 0], consumers.tails()
    assert acknowledged == load.count and kill_after <= at_kill < kill_after + 250
    figures = check_applied_once(load, consumers, kafka_bootstrap, fresh_topics, new_database, logs)
    offsets = ledger.snapshot(consumers.ledger_dsn)["projector_offsets"]
    record(
        events=load.count,
        acknowledged_at_kill=at_kill,
        broker_restart_s=broker["restart_s"],
        failed_sends=stats["failed_sends"],
        errors=sorted(stats["errors"]),
        messages_on_topics=sum(r["next_offset"] for r in offsets),
        **figures,
    )


def test_postgres_stopped_during_consumption(kafka_bootstrap, database_url, fresh_topics, new_database, logs, record):
    load = ledger.make_load(EVENTS, customers=300, seed=41)
    assert ledger.publish_load(kafka_bootstrap, fresh_topics, load) == load.count
    consumers = Consumers(kafka_bootstrap, fresh_topics, new_database, logs)
    try:
        wait_for(lambda: ledger.progress(consumers.ledger_dsn) >= load.count // 3, timeout=120, interval=0.05)
        with faults.postgres_stopped(database_url) as postgres:
            # Down until the ledger projector has backed off three times and the counting one at least once.
            wait_for(
                lambda: (
                    (len(retry_delays(logs / "ledger.log")) >= 3 and retry_delays(logs / "counting.log"))
                    or not consumers.alive()
                ),
                timeout=120,
            )
            down_s = round(time.monotonic() - postgres["stopped_at"], 1)
            assert consumers.alive(), consumers.tails()
        restarted = time.monotonic()
        consumers.wait_caught_up(load)
        resumed_s = time.monotonic() - restarted
    finally:
        codes = consumers.stop()
    assert codes == [0, 0], consumers.tails()
    delays = retry_delays(logs / "ledger.log")
    assert len(delays) >= 3 and delays[:3] == sorted(delays[:3]) and delays[0] < delays[2], delays
    figures = check_applied_once(load, consumers, kafka_bootstrap, fresh_topics, new_database, logs)
    record(
        events=load.count,
        postgres_down_s=down_s,
        postgres_restart_s=postgres["restart_s"],
        ledger_retry_delays_s=delays,
        counting_retries=len(retry_delays(logs / "counting.log")),
        caught_up_after_restart_s=round(resumed_s, 1),
        **figures,
    )


def test_a_projector_stopped_while_postgres_is_down_exits_0(
    kafka_bootstrap, database_url, fresh_topics, new_database, logs
):
    """SIGTERM while the database is away (the projector in its back-off): a clean stop, exit 0, nothing lost."""
    dsn = new_database("stopped")
    proc = ledger.start_projector(
        ledger.ledger_env(dsn, fresh_topics, f"stopped-{uuid.uuid4().hex[:6]}"), log=logs / "stopped.log"
    )
    try:
        wait_for(lambda: logged(logs / "stopped.log", "assigned [") or proc.poll() is not None, timeout=120)
        assert proc.poll() is None, (logs / "stopped.log").read_text(errors="replace")[-2000:]
        with faults.postgres_stopped(database_url):
            # idle, it reads the read-model pointer on every empty poll: the outage shows as a back-off
            wait_for(
                lambda: logged(logs / "stopped.log", "database unavailable") or proc.poll() is not None, timeout=120
            )
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
    finally:
        terminate(proc)
    tail = (logs / "stopped.log").read_text(errors="replace")[-2000:]
    assert code == 0, tail
    assert logged(logs / "stopped.log", "stopped while the database was unavailable"), tail


def logged(log: Path, text: str) -> bool:
    """True once a projector's log holds `text`."""
    return log.exists() and text in log.read_text(errors="replace")


def retry_delays(log: Path) -> list[float]:
    """The back-off delays a projector logged while the database was away, in order."""
    delays = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            message = json.loads(line)["msg"]
        except (ValueError, KeyError):
            continue
        if "retrying in " in message:
            delays.append(float(message.rsplit("retrying in ", 1)[1].rstrip("s")))
    return delays


def test_dead_letters_wait_for_the_broker_and_none_is_lost(kafka_bootstrap, fresh_topics, new_database, logs, record):
    """Poison at the end of the payments partitions, fetched with everything else before the broker dies (the
    whole load fits in the first fetch, and the projector works through it 50 events per batch). The broker is
    killed after the first committed batch and started again only once the projector has failed to send the
    dead letters (its log says so); then every poison message is in `rejected_events` and once in `.dlq`."""
    from tests.reliability.test_poison_messages import dead_letters

    load = ledger.make_load(3_000, customers=60, seed=35)
    assert ledger.publish_load(kafka_bootstrap, fresh_topics, load) == load.count
    customers = sorted({e["subject"] for e in load.events["payments"]})
    bad = [(c.encode(), b"{not json") for c in customers[:6]]
    send_raw(kafka_bootstrap, f"{fresh_topics}payments", bad)
    dsn = new_database("dlq")
    env = ledger.ledger_env(dsn, fresh_topics, f"dlq-{uuid.uuid4().hex[:6]}", PROJECTOR_BATCH_SIZE="50")
    proc = ledger.start_projector(env, log=logs / "dlq.log")
    try:
        wait_for(lambda: ledger.progress(dsn) > 0 or proc.poll() is not None, timeout=120, interval=0.02)
        with faults.broker_killed(kafka_bootstrap) as broker:
            at_kill = ledger.progress(dsn)
            wait_for(lambda: logged(logs / "dlq.log", "batch failed") or proc.poll() is not None, timeout=180)
            assert proc.poll() is None, "the projector exited while the broker was down"
            assert ledger.progress(dsn) < load.count + len(bad), "the poison was committed without its dead letters"
        wait_for(lambda: ledger.progress(dsn) >= load.count + len(bad) or proc.poll() is not None, timeout=240)
    finally:
        terminate(proc, timeout=60)  # after an outage its consumer may have to rejoin before it can leave
        faults.collect_dead_sockets()
    assert proc.returncode == 0, "the projector did not stop cleanly on SIGTERM"
    found = ledger.snapshot(dsn)
    assert len(found["rejected_events"]) == len(bad)
    assert {r["value"] for r in found["rejected_events"]} == {b"{not json"}
    dead = dead_letters(kafka_bootstrap, fresh_topics, ["payments"])  # fails on a message dead-lettered twice
    assert sorted(dead) == sorted((r["topic"], r["partition"], r["offset"]) for r in found["rejected_events"])
    ledger.assert_same(ledger.as_expected(load, dsn), ledger.expected_rows(load))
    record(
        events=load.count,
        poison=len(bad),
        committed_at_kill=at_kill,
        broker_restart_s=broker["restart_s"],
        dead_letters=len(dead),
    )
