"""A projector whose consumer stops getting records while its topics reach further makes its consumer again.

kafka-python can leave a group member without records for good: a rejoin never completed (no partitions),
or partitions held but never fetched; its poll() can raise what its IO thread met; and the client can stop
answering at all. The fault is forced at a counted point: right after the first batch is applied, the
projector's own consumer is paused (it keeps its partitions, heartbeats and fetches nothing), unsubscribed
(it has no partitions), made to raise from its next poll(), or paused with its end-offset requests timing
out, and only then are the second half of the payments published. The
real ledger projection runs against the real broker and database; the payments in the read model are
compared with the ones the test published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import psycopg
import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from psycopg.rows import dict_row

from services.ledger.projection import PROJECTION
from shared.events.publisher import Publisher
from shared.projection.runner import Projector, ProjectorSettings
from tests.support import domain
from tests.support.events import customer_code


def poll_raises_once(consumer: KafkaConsumer) -> None:
    """The next poll() raises what kafka-python 3 raised from poll() while the broker restarted (seen in CI)."""
    real = consumer.poll

    def poll(*args: object, **kwargs: object) -> object:
        consumer.poll = real  # type: ignore[method-assign]
        raise KafkaConnectionError("111 ECONNREFUSED")

    consumer.poll = poll  # type: ignore[method-assign]


def stops_answering(consumer: KafkaConsumer) -> None:
    """The client stuck for good, as a kafka-python 3 client can stay after a broker went away: it fetches
    nothing and asking it for the end offsets times out, every time."""
    consumer.pause(*consumer.assignment())

    def end_offsets(*args: object, **kwargs: object) -> object:
        raise KafkaTimeoutError("Failed to get offsets by timestamps in 5000.0 ms")

    consumer.end_offsets = end_offsets  # type: ignore[method-assign]


# fault -> the renewal reason it leads to
FAULTS: dict[str, tuple[Callable[[KafkaConsumer], None], str]] = {
    "partitions held, nothing fetched": (lambda consumer: consumer.pause(*consumer.assignment()), "stalled"),
    "no partitions": (lambda consumer: consumer.unsubscribe(), "stalled"),
    "poll raises": (poll_raises_once, "failed"),
    "the client stops answering": (stops_answering, "unanswered"),
}


def payments(customers: list[str], first_amount: int) -> list[dict]:
    return [domain.paid(c, first_amount + 100 * i, date(2026, 3, 1)) for i, c in enumerate(customers * 5)]


class FaultAfterFirstBatch:
    """The projector's progress hook: after the first applied batch, the fault, then the second half published.

    With `give_up_after_idle` set (the watch switched off), it stops the projector after that many polls
    without records, which shows the fault alone keeps the read model behind.
    """

    def __init__(self, fault: Callable[[KafkaConsumer], None], publish_rest: Callable[[], None]) -> None:
        self.fault, self.publish_rest = fault, publish_rest
        self.projector: Projector | None = None
        self.faulted = False
        self.give_up_after_idle: int | None = None
        self.idle_after_fault = 0

    def __call__(self, records: int, _behind: object) -> None:
        assert self.projector is not None
        if records and not self.faulted:
            self.fault(self.projector.consumer)
            self.publish_rest()
            self.faulted = True
        elif self.faulted and not records:
            self.idle_after_fault += 1
            if self.give_up_after_idle is not None and self.idle_after_fault >= self.give_up_after_idle:
                self.projector.stopping = True


def run_with_fault(
    kafka_bootstrap: str, topic_prefix: str, dsn: str, fault: str, stall_s: float, give_up_after_idle: int | None
) -> tuple[Projector, list[dict], FaultAfterFirstBatch]:
    customers = [customer_code() for _ in range(4)]
    first, rest = payments(customers, 1_000), payments(customers, 50_000)
    publisher = Publisher(kafka_bootstrap, topic_prefix)
    try:
        assert publisher.publish("payments", first).sent == len(first)
        hook = FaultAfterFirstBatch(
            FAULTS[fault][0], lambda: None if publisher.publish("payments", rest).sent == len(rest) else pytest.fail()
        )
        settings = ProjectorSettings(
            service="ledger",
            database_url=dsn,
            bootstrap_servers=kafka_bootstrap,
            topics=list(PROJECTION.topics),
            ddl=PROJECTION.ddl,
            group_id=f"{topic_prefix}stall-{uuid.uuid4().hex[:6]}",
            topic_prefix=topic_prefix,
            poll_timeout_ms=100,
            stop_when_caught_up=True,
            publish_dead_letters=False,
            stall_s=stall_s,
        )
        projector = Projector(settings, PROJECTION)
        hook.projector, hook.give_up_after_idle = projector, give_up_after_idle
        projector.on_progress = hook
        projector.run()  # returns once every partition is applied to its end (or when the hook stops it)
    finally:
        publisher.close()
    return projector, first + rest, hook


def stored_payments(dsn: str, published: list[dict]) -> list[tuple[str, int]]:
    ids = [p["data"]["payment_id"] for p in published]
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        conn.execute("SET search_path TO readmodel")
        rows = conn.execute(
            "SELECT payment_id, amount FROM payment WHERE payment_id = ANY(%s) ORDER BY payment_id", (ids,)
        ).fetchall()
    return [(r["payment_id"], r["amount"]) for r in rows]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_stalled_consumer_is_made_again_and_nothing_is_lost_or_applied_twice(
    kafka_bootstrap, topic_prefix, make_database, fault
):
    dsn = make_database(f"stall_{uuid.uuid4().hex[:6]}")
    projector, published, hook = run_with_fault(kafka_bootstrap, topic_prefix, dsn, fault, 2.0, None)

    assert hook.faulted
    expected = sorted((p["data"]["payment_id"], p["data"]["amount"]) for p in published)
    assert stored_payments(dsn, published) == expected
    sample = projector.metrics.registry.get_sample_value
    assert sample("projector_consumer_renewals_total", {"reason": FAULTS[fault][1]}) >= 1
    assert sample("projector_batch_failures_total") == 0


@pytest.mark.timeout(180)
@pytest.mark.parametrize("fault", ["partitions held, nothing fetched", "the client stops answering"])
def test_without_the_watch_the_fault_keeps_the_read_model_behind(kafka_bootstrap, topic_prefix, make_database, fault):
    """The control: the same fault with the watch off leaves the second half unapplied (the fault is real)."""
    dsn = make_database(f"stall_{uuid.uuid4().hex[:6]}")
    projector, published, hook = run_with_fault(kafka_bootstrap, topic_prefix, dsn, fault, float("inf"), 30)

    assert hook.idle_after_fault >= 30
    assert len(stored_payments(dsn, published)) < len(published)
    assert (
        projector.metrics.registry.get_sample_value("projector_consumer_renewals_total", {"reason": FAULTS[fault][1]})
        is None
    )
