"""Every service's real projector (contracts, ledger, tickets, quota) under the same faults: SIGKILL during a
load, poison messages, re-published events and a replayed range.

Two oracles for each: the rows the read model must hold computed by hand from the published events
(tests/support/loads.py, test code only), and a clean rebuild (same projector, fresh database and group).
The ledger's longer versions of these scenarios are in test_projector_crashes.py and test_poison_messages.py.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest
from kafka import TopicPartition

from shared.events.publisher import Publisher
from shared.readmodel import connections as db
from tests.support import ledger, loads
from tests.support.procs import send_raw
from tests.support.records import read_records

EVENTS, KILLS = 4_000, 3


def publish(bootstrap: str, prefix: str, load: loads.Load) -> int:
    """Publish a load through the validating publisher; the number acknowledged."""
    return ledger.publish_load(bootstrap, prefix, load, chunk=500)


def clean_rebuild(service: str, prefix: str, new_database, logs) -> dict:  # noqa: ANN001
    dsn = new_database(f"clean_{service}")
    env = loads.projector_env(service, dsn, prefix, f"clean-{uuid.uuid4().hex[:6]}")
    ledger.run_until_caught_up(env, log=logs / "clean.log", module=loads.module(service))
    return loads.snapshot(service, dsn)


def assert_expected(service: str, load: loads.Load, dsn: str, message: str = "") -> dict:
    """The read model's rows equal the hand-computed ones; every distinct event applied once."""
    found = loads.snapshot(service, dsn)
    ledger.assert_same(loads.facts(service, dsn), load.expected, f"{service}: {message}")
    assert len(found["applied_events"]) == len(load.applied_ids), service
    return found


@pytest.mark.slow
@pytest.mark.parametrize("service", loads.SERVICES)
def test_sigkill_during_a_load_then_restart_equals_the_expected_rows(
    service, kafka_bootstrap, fresh_topics, new_database, logs, record
):
    """The projector killed (SIGKILL) three times before it has consumed the load (published meanwhile), each
    time inside the transaction of the batch that would bring its stored offsets to a target (a counted point:
    PROJECTOR_HOLD_AT), then restarted; a life may be killed inside its first batch."""
    rng = random.Random(71)
    load = loads.service_load(service, EVENTS, seed=71)
    dsn = new_database(f"killed_{service}")
    env = loads.projector_env(service, dsn, fresh_topics, f"killed-{uuid.uuid4().hex[:6]}", PROJECTOR_BATCH_SIZE="200")
    publishing = ledger.Background(publish, kafka_bootstrap, fresh_topics, load)
    publishing.start()
    targets = sorted(rng.sample(range(load.count // 10, load.count * 7 // 10), KILLS))
    killed_at = [0]
    goals = []
    for target in targets:
        goals.append(max(target, killed_at[-1] + 1))
        killed_at.append(
            ledger.kill_inside_batch(env, goals[-1], dsn, logs / "killed.log", module=loads.module(service))
        )
    assert publishing.join(timeout=600) == load.count
    ledger.run_until_caught_up(env, log=logs / "killed.log", module=loads.module(service))

    assert ledger.progress(dsn) == load.count
    killed = assert_expected(service, load, dsn, "after the kills")
    assert sum(r["applied"] for r in killed["projection_counters"]) == len(load.applied_ids)
    ledger.assert_same(killed, clean_rebuild(service, fresh_topics, new_database, logs), f"{service}: clean rebuild")
    assert all(k < g for k, g in zip(killed_at[1:], goals, strict=True)), f"kills not inside a batch: {killed_at}"
    record(
        service=service,
        events=load.count,
        distinct_ids=len(load.ids),
        kills=KILLS,
        committed_at_kills=killed_at[1:],
        rows={t: len(v) for t, v in load.expected.items()},
    )


def poison(customer: str, topic: str) -> list[tuple[bytes | None, bytes | None, str]]:
    """(key, value, expected reason fragment) of bad messages on one topic."""
    key = customer.encode()
    wrong_type = {"payments": "invoice.cancelled"}.get(topic, "payment.received")
    return [
        (key, b"{not json", "not valid UTF-8 JSON"),
        (key, b'["an", "array"]', "not a JSON object"),
        (
            key,
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": "x",
                    "type": "thing.happened",
                    "subject": customer,
                    "time": "2026-01-01T00:00:00Z",
                    "data": {},
                }
            ).encode(),
            "type",
        ),
        (
            key,
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": str(uuid.uuid4()),
                    "source": "x",
                    "type": wrong_type,
                    "subject": customer,
                    "time": "2026-01-01T00:00:00Z",
                    "data": {"customer_code": customer},
                }
            ).encode(),
            "",
        ),
    ]


@pytest.mark.parametrize("service", loads.SERVICES)
def test_poison_republished_events_and_a_replayed_range_change_nothing(
    service, kafka_bootstrap, fresh_topics, new_database, logs, record
):
    rng = random.Random(72)
    load = loads.service_load(service, 2_000, seed=72)
    assert publish(kafka_bootstrap, fresh_topics, load) == load.count
    injected = 0
    for topic in loads.TOPICS[service]:
        customer = next((e["subject"] for e in load.events[topic] if e["subject"] != "price-list"), "POISON-1")
        bad = poison(customer, topic)
        send_raw(kafka_bootstrap, f"{fresh_topics}{topic}", [(k, v) for k, v, _ in bad])
        injected += len(bad)
    dsn = new_database(f"replay_{service}")
    env = loads.projector_env(service, dsn, fresh_topics, f"replay-{uuid.uuid4().hex[:6]}")
    ledger.run_until_caught_up(env, log=logs / "replay.log", module=loads.module(service))
    before = assert_expected(service, load, dsn, "with poison")
    assert len(before["rejected_events"]) == injected, before["rejected_events"]
    assert sum(r["rejected"] for r in before["projection_counters"]) == injected
    assert ledger.lag(kafka_bootstrap, fresh_topics, dsn, loads.TOPICS[service]) == dict.fromkeys(
        loads.TOPICS[service], 0
    )

    # The same events published again (same ids, new offsets) and a range of a partition copied to its end.
    again = rng.sample([(t, e) for t, events in load.events.items() for e in events], load.count // 5)
    publisher = Publisher(kafka_bootstrap, fresh_topics)
    try:
        for topic in load.events:
            assert publisher.publish(topic, [e for t, e in again if t == topic]).refused == []
    finally:
        publisher.close()
    busiest = max(loads.TOPICS[service], key=lambda t: len(load.events[t]))
    copied = copy_range(kafka_bootstrap, f"{fresh_topics}{busiest}", partition=0, count=200)
    ledger.run_until_caught_up(env, log=logs / "replay.log", module=loads.module(service))
    after = loads.snapshot(service, dsn)
    assert sum(r["next_offset"] for r in after["projector_offsets"]) == load.count + injected + len(again) + copied
    ledger.assert_same(without_offsets(after), without_offsets(before), f"{service}: republished")

    # Every stored offset rewound to 0 and a new consumer group: the whole range replayed.
    with db.connect(dsn) as conn:
        conn.execute("UPDATE projector_offsets SET next_offset = 0")
        conn.commit()
    ledger.run_until_caught_up(
        loads.projector_env(service, dsn, fresh_topics, f"replay2-{uuid.uuid4().hex[:6]}"),
        log=logs / "replay.log",
        module=loads.module(service),
    )
    ledger.assert_same(loads.snapshot(service, dsn), after, f"{service}: replayed")
    assert_expected(service, load, dsn, "after the replay")
    record(
        service=service, events=load.count, poison=injected, republished=len(again), copied_range=copied, rows_changed=0
    )


def copy_range(bootstrap: str, topic: str, partition: int, count: int) -> int:
    """Send the first `count` messages of a partition (or all it has) to the topic again, byte for byte."""
    tp = TopicPartition(topic, partition)
    records = read_records(bootstrap, parts=[tp])[:count]
    messages = [(message.key, message.value) for message in records]
    send_raw(bootstrap, topic, messages)
    return len(messages)


def without_offsets(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k != "projector_offsets"}
