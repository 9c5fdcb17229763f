"""The broker killed while a long publish streams, and kept away longer than the delivery timeout: the publisher
reports Kafka unavailable instead of waiting for ever, and publishes again once the broker is back.

kafka-python 3's idempotent producer stops expiring batches once one has expired while the broker was away: it
first wants a new producer id, which no broker gives it. Before the publisher bounded its own waits, its flush
then waited as long as the broker stayed away, and longer (a minute and a half with the broker down, and two
more minutes after it was back, in a run by hand). The kill is made by the publisher's own line source, at a
counted line, so it falls in the middle of the stream every time; the delivery timeout is shortened to 8 s to
keep the test short.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from shared.cli.cluster import wait_healthy
from shared.events.publisher import STUCK_FACTOR, KafkaUnavailable, Publisher
from tests.support import events, faults
from tests.support.records import read_records

pytestmark = [pytest.mark.usefixtures("local_stack"), pytest.mark.slow]

DELIVERY_S = 8.0
LINES, KILL_AT = 300_000, 20_000


def test_a_publisher_whose_broker_stays_away_reports_it_and_publishes_again_after(
    kafka_bootstrap, fresh_topics, record
):
    publisher = Publisher(kafka_bootstrap, fresh_topics, delivery_timeout_s=DELIVERY_S)
    outcome: dict[str, Any] = {}

    def lines():  # noqa: ANN202 - a generator of JSON lines
        for i in range(LINES):
            if i == KILL_AT:
                faults.kill_kafka()
                outcome["killed_at"] = time.monotonic()
            yield json.dumps(events.payment(events.customer_code(), 100 + i % 50))

    def publish() -> None:
        try:
            outcome["report"] = publisher.publish_lines("payments", lines())
        except KafkaUnavailable as exc:
            outcome["unavailable"] = exc
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
        outcome["ended_at"] = time.monotonic()

    publishing = threading.Thread(target=publish, daemon=True)
    restart_s = None
    try:
        publishing.start()
        publishing.join(timeout=DELIVERY_S * STUCK_FACTOR * 2 + 120)
        assert "killed_at" in outcome, outcome
        assert not publishing.is_alive(), "the publisher was still waiting for the broker that stayed away"
    finally:
        if "killed_at" in outcome:
            started = time.monotonic()
            faults.start_kafka(kafka_bootstrap)
            restart_s = round(time.monotonic() - started, 1)
            faults.collect_dead_sockets()
    assert "error" not in outcome, repr(outcome.get("error"))
    assert "unavailable" in outcome, f"the publish did not fail although the broker was away: {outcome}"
    down = outcome["unavailable"].report
    assert down.sent <= KILL_AT, "events acknowledged by a dead broker"
    # The same publisher, with a new producer, once the broker is back and leads the topic's partitions again.
    wait_healthy(kafka_bootstrap, 1, 60, [f"{fresh_topics}payments"])
    customer = events.customer_code()
    after = [events.payment(customer, 100 + n) for n in range(10)]
    assert publisher.publish("payments", after).sent == 10
    publisher.close(timeout=30)
    on_topic = read_records(kafka_bootstrap, [f"{fresh_topics}payments"])
    assert [json.loads(r.value)["id"] for r in on_topic if r.key == customer.encode()] == [e["id"] for e in after]
    assert len(on_topic) >= down.sent + len(after), "an acknowledged event is missing"
    record(
        lines_before_kill=KILL_AT,
        delivery_timeout_s=DELIVERY_S,
        stuck_after_s=publisher.stuck_after_s,
        acknowledged_before_failing=down.sent,
        not_acknowledged=down.failed,
        failed_after_kill_s=round(outcome["ended_at"] - outcome["killed_at"], 1),
        error=str(outcome["unavailable"].cause)[:120],
        broker_restart_s=restart_s,
        on_topic=len(on_topic),
    )
