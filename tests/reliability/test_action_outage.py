"""Kafka down while a customer acts: 503, and nothing published, not even after the broker is back."""

from __future__ import annotations

import time
from datetime import timedelta

from kafka import KafkaConsumer, TopicPartition

from shared import kafka_security
from shared.timeutil import today_budapest
from tests.support import domain, faults
from tests.support.actions import act, new_key, visible_call
from tests.support.events import customer_code
from tests.support.fixtures import login

SIGNED = today_budapest() - timedelta(days=100)


def end_offsets(bootstrap: str, prefix: str, topics: tuple[str, ...] = ("support-calls", "contracts")) -> dict:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **kafka_security.client_kwargs(), enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(f"{prefix}{t}", p) for t in topics for p in consumer.partitions_for_topic(f"{prefix}{t}")
        ]
        return consumer.end_offsets(parts)
    finally:
        consumer.close()


def test_kafka_stopped_gives_503_and_nothing_appears_after_restart(
    gateway, publish, system, kafka_bootstrap, topic_prefix, local_stack, record
):
    code = customer_code()
    publish("contracts", [domain.contract_signed(code, SIGNED, SIGNED, [domain.item(f"{code}-1")])])
    auth = login(gateway, code, f"{code}-1")
    # One action first, so the gateway's producer exists and knows the topics' metadata when the broker dies.
    warm = act(gateway, "POST", "/support-calls", auth, {"category": "other", "subject": "előtte"})
    assert warm.status_code == 202
    visible_call(gateway, auth, warm.json()["call_id"])
    before = end_offsets(kafka_bootstrap, topic_prefix)
    keys = [new_key() for _ in range(3)]
    with faults.broker_killed(kafka_bootstrap) as broker:
        started = time.monotonic()
        down = [
            act(gateway, "POST", "/support-calls", auth, {"category": "other", "subject": "alatta"}, key=keys[0]),
            act(
                gateway,
                "POST",
                f"/support-calls/{warm.json()['call_id']}/replies",
                auth,
                {"message": "hahó"},
                key=keys[1],
            ),
            act(gateway, "PUT", "/portal-password", auth, {"new_password": "nem-kerül-be-1"}, key=keys[2]),
        ]
        seconds = time.monotonic() - started
    faults.collect_dead_sockets()
    assert [r.status_code for r in down] == [503, 503, 503], [r.text for r in down]
    assert all(r.headers["Content-Type"].startswith("application/problem+json") for r in down)
    system.wait_caught_up(timeout=120)
    assert end_offsets(kafka_bootstrap, topic_prefix) == before
    # The same key again, broker back: now it is published, once.
    again = act(gateway, "POST", "/support-calls", auth, {"category": "other", "subject": "alatta"}, key=keys[0])
    assert again.status_code == 202, again.text
    visible_call(gateway, auth, again.json()["call_id"], timeout=120)  # the projector reconnects with backoff
    record(answers_503_s=round(seconds, 1), broker_restart_s=broker["restart_s"])
