"""Poison messages mixed into a load: each one dead-lettered with its reason, counted once, and no partition
stalls behind it (the good events after it, in the same partition, are applied)."""

from __future__ import annotations

import json
import random
import uuid

from kafka import KafkaProducer

from shared import kafka_security
from tests.support import ledger
from tests.support.events import envelope, payment
from tests.support.records import read_records

ONE_MB = 1_000_000


def poison_messages(customer: str, other: str) -> list[tuple[str, bytes | None, bytes | None, str]]:
    """(topic, key, value, expected reason fragment) of every kind of bad message the contract names."""
    key = customer.encode()
    good = payment(customer, 100)

    def variant(**changes: object) -> bytes:
        return json.dumps({**good, "id": str(uuid.uuid4()), **changes}).encode()

    def data(**changes: object) -> bytes:
        return variant(data={**good["data"], **changes})

    # A well-formed event of about 1 MB whose subject breaks the envelope (1-32 characters).
    huge = envelope(
        "invoice.cancelled",
        "x" * (ONE_MB - 300),
        {"invoice_number": f"{customer}-HUGE", "customer_code": customer, "cancelled_on": "2026-03-01"},
    )
    return [
        ("payments", key, b"{not json", "not valid UTF-8 JSON"),
        ("payments", key, b"\xff\xfe\x00garbage", "not valid UTF-8 JSON"),
        ("payments", key, b'["an", "array"]', "not a JSON object"),
        ("payments", key, None, "empty message value"),
        ("payments", key, variant(type="payment.teleported"), "type: Must be one of"),
        ("payments", key, variant(id=None), "id: Field may not be null"),
        (
            "payments",
            key,
            json.dumps({k: v for k, v in good.items() if k != "id"}).encode(),
            "id: Missing data for required field",
        ),
        ("payments", key, data(amount=-7), "data.amount: Must be greater than or equal to 1"),
        ("payments", key, data(amount="100"), "data.amount: Not a valid integer"),
        ("payments", key, data(received_on="2026-13-01"), "data.received_on: Not a valid date"),
        ("payments", key, data(method="barter"), "data.method: Must be one of"),
        (
            "payments",
            key,
            variant(subject=other, data={**good["data"], "customer_code": customer}),
            f"subject '{other}' differs from",
        ),
        ("payments", other.encode(), variant(), f"key '{other}' differs from subject '{customer}'"),
        (
            "payments",
            key,
            json.dumps(
                envelope(
                    "invoice.cancelled",
                    customer,
                    {"invoice_number": "X-1", "customer_code": customer, "cancelled_on": "2026-03-01"},
                )
            ).encode(),
            "does not belong on topic payments",
        ),
        ("invoices", key, json.dumps(huge).encode(), "subject: Length must be between 1 and 32"),
        ("license-codes", key, b"x" * ONE_MB, "not valid UTF-8 JSON"),
    ]


def test_poison_is_dead_lettered_with_its_reason_and_nothing_stalls(
    kafka_bootstrap, fresh_topics, new_database, logs, record
):
    rng = random.Random(55)
    load = ledger.make_load(6_000, customers=60, seed=55)
    customers = sorted({e["subject"] for events in load.events.values() for e in events})
    producer = KafkaProducer(
        bootstrap_servers=kafka_bootstrap,
        **kafka_security.client_kwargs(),
        acks="all",
        max_request_size=4 * 1024 * 1024,
    )
    injected: dict[tuple[str, int, int], tuple[str, bytes | None]] = {}
    try:
        # Every poison message lands between good events of the same key (so the same partition).
        for topic, events in load.events.items():
            for event in events:
                producer.send(
                    f"{fresh_topics}{topic}",
                    key=event["subject"].encode(),
                    value=json.dumps(event, ensure_ascii=False).encode(),
                )
                if rng.random() < 0.004 or event is events[len(events) // 2]:
                    for poison_topic, key, value, reason in poison_messages(event["subject"], rng.choice(customers)):
                        if poison_topic == topic:
                            meta = producer.send(f"{fresh_topics}{topic}", key=key, value=value).get(timeout=30)
                            injected[(topic, meta.partition, meta.offset)] = (reason, value)
        producer.flush()
    finally:
        producer.close()

    dsn = new_database("poison")
    ledger.run_until_caught_up(
        ledger.ledger_env(dsn, fresh_topics, f"poison-{uuid.uuid4().hex[:6]}"), log=logs / "poison.log"
    )
    found = ledger.snapshot(dsn)

    ledger.assert_same(ledger.as_expected(load, dsn), ledger.expected_rows(load), "a good event lost behind poison?")
    assert ledger.lag(kafka_bootstrap, fresh_topics, dsn) == dict.fromkeys(load.events, 0)
    rejected = {(r["topic"], r["partition"], r["offset"]): r for r in found["rejected_events"]}
    assert set(rejected) == set(injected)
    for position, (reason, value) in injected.items():
        assert reason in rejected[position]["reason"], (position, reason, rejected[position]["reason"])
        assert rejected[position]["value"] == value
    assert sum(r["rejected"] for r in found["projection_counters"]) == len(injected)

    dead = dead_letters(kafka_bootstrap, fresh_topics, list(load.events))
    assert sorted(dead) == sorted(injected), "every poison message once in its topic's .dlq, nothing else"
    for position, (headers, value) in dead.items():
        assert headers["dlq.reason"] == rejected[position]["reason"]
        assert value == injected[position][1]
    record(
        good_events=load.count,
        injected=len(injected),
        kinds=len(poison_messages("a", "b")),
        rejected=len(rejected),
        dead_letters=len(dead),
        largest_dead_letter=max(len(v or b"") for _, v in dead.values()),
    )


def dead_letters(bootstrap: str, prefix: str, topics: list[str]) -> dict[tuple[str, int, int], tuple[dict, bytes]]:
    """Every message of the topics' .dlq: (source topic, partition, offset) -> (headers, value)."""
    records = read_records(
        bootstrap,
        [f"{prefix}{t}.dlq" for t in topics],
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    found = {}
    for message in records:
        headers = {k: v.decode() for k, v in message.headers}
        position = (headers["dlq.topic"], int(headers["dlq.partition"]), int(headers["dlq.offset"]))
        assert position not in found, f"dead-lettered twice: {position}"
        found[position] = (headers, message.value)
    return found
