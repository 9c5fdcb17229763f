"""The ledger's real projector killed, replayed and doubled: the read model always equals a clean rebuild.

Oracles: a clean rebuild (fresh database, fresh consumer group, same projector, same topics) and the rows
the ledger must hold, computed by hand from the published events (tests/support/ledger.py).
"""

from __future__ import annotations

import json
import random
import re
import signal
import time
import uuid

import pytest
from kafka import TopicPartition

from services.ledger.projection import PROJECTION
from shared.events.publisher import Publisher
from shared.readmodel import connections as db
from tests.reliability.conftest import SOAK
from tests.support import ledger
from tests.support.procs import send_raw, terminate, wait_for
from tests.support.records import read_records

TOPICS = PROJECTION.topics

# The 100,000-event load with 6 kills takes about 2 minutes on 2 cores, so it runs by default;
# RELIABILITY_SOAK=1 makes it 300,000 events and 12 kills (about 4 minutes).
CRASH_EVENTS, CRASH_KILLS = (300_000, 12) if SOAK else (100_000, 6)


def clean_rebuild(bootstrap: str, prefix: str, new_database, logs) -> dict:  # noqa: ANN001
    """The oracle: the same projector from scratch on a fresh database and a fresh consumer group."""
    dsn = new_database("clean")
    ledger.run_until_caught_up(ledger.ledger_env(dsn, prefix, f"clean-{uuid.uuid4().hex[:6]}"), log=logs / "clean.log")
    return ledger.snapshot(dsn)


@pytest.mark.slow
def test_sigkill_during_a_load_then_restart_equals_a_clean_rebuild(
    kafka_bootstrap, fresh_topics, new_database, logs, record
):
    rng = random.Random(11)
    load = ledger.make_load(CRASH_EVENTS, customers=300, seed=11)
    dsn = new_database("killed")
    env = ledger.ledger_env(dsn, fresh_topics, f"killed-{uuid.uuid4().hex[:6]}", PROJECTOR_BATCH_SIZE="500")
    publishing = ledger.Background(ledger.publish_load, kafka_bootstrap, fresh_topics, load)
    publishing.start()
    targets = sorted(rng.sample(range(load.count // 10, load.count * 6 // 10), CRASH_KILLS))
    killed_at = [0]
    goals = []
    for target in targets:
        # Killed inside the transaction of the batch that would bring the stored offsets to the goal (a count,
        # PROJECTOR_HOLD_AT), before it has consumed the load; a life may be killed inside its first batch.
        goals.append(max(target, killed_at[-1] + 1))
        killed_at.append(ledger.kill_inside_batch(env, goals[-1], dsn, logs / "killed.log"))
    published = publishing.join(timeout=600)
    ledger.run_until_caught_up(env, log=logs / "killed.log")

    assert published == load.count
    assert ledger.progress(dsn) == load.count
    killed = ledger.snapshot(dsn)
    ledger.assert_same(ledger.as_expected(load, dsn), ledger.expected_rows(load))
    assert len(killed["applied_events"]) == len(load.ids)
    assert sum(r["applied"] for r in killed["projection_counters"]) == len(load.ids)
    ledger.assert_same(killed, clean_rebuild(kafka_bootstrap, fresh_topics, new_database, logs))
    killed_at = killed_at[1:]
    assert all(k < g for k, g in zip(killed_at, goals, strict=True)), f"kills not inside a batch: {killed_at}"
    record(
        events=load.count,
        distinct_ids=len(load.ids),
        kills=len(killed_at),
        committed_at_kills=killed_at,
        rows={t: len(killed[t]) for t in ledger.TABLES},
    )


def test_republished_events_and_a_replayed_range_change_nothing(
    kafka_bootstrap, fresh_topics, new_database, logs, record
):
    rng = random.Random(22)
    load = ledger.make_load(5_000, customers=100, seed=22)
    assert ledger.publish_load(kafka_bootstrap, fresh_topics, load) == load.count
    customer = load.events["payments"][0]["subject"]
    poison = [(customer.encode(), b"{not json"), (customer.encode(), json.dumps({"type": "payment.lost"}).encode())]
    send_raw(kafka_bootstrap, f"{fresh_topics}payments", poison)
    dsn = new_database("replayed")
    env = ledger.ledger_env(dsn, fresh_topics, f"replay-{uuid.uuid4().hex[:6]}")
    ledger.run_until_caught_up(env, log=logs / "replay.log")
    before = ledger.snapshot(dsn)
    ledger.assert_same(ledger.as_expected(load, dsn), ledger.expected_rows(load))
    assert len(before["rejected_events"]) == len(poison)

    # The same events published again (same ids, new offsets), as a producer does after a lost ack,
    # and a range of a partition copied byte for byte to its end.
    again = rng.sample([(t, e) for t, events in load.events.items() for e in events], 1500)
    publisher = Publisher(kafka_bootstrap, fresh_topics)
    try:
        for topic in load.events:
            assert publisher.publish(topic, [e for t, e in again if t == topic]).refused == []
    finally:
        publisher.close()
    copied = copy_range(kafka_bootstrap, f"{fresh_topics}invoices", partition=0, start=100, stop=600)
    ledger.run_until_caught_up(env, log=logs / "replay.log")
    after = ledger.snapshot(dsn)
    consumed = sum(r["next_offset"] for r in after["projector_offsets"])
    assert consumed == load.count + len(poison) + len(again) + len(copied)
    ledger.assert_same(without_offsets(after), without_offsets(before))

    # A whole range replayed: the stored offsets rewound to the beginning, and a new consumer group.
    with db.connect(dsn) as conn:
        conn.execute("UPDATE projector_offsets SET next_offset = 0")
        conn.commit()
    ledger.run_until_caught_up(
        ledger.ledger_env(dsn, fresh_topics, f"replay2-{uuid.uuid4().hex[:6]}"), log=logs / "replay.log"
    )
    ledger.assert_same(ledger.snapshot(dsn), after)
    record(events=load.count, republished=len(again), copied_range=len(copied), replayed=consumed, rows_changed=0)


def copy_range(bootstrap: str, topic: str, partition: int, start: int, stop: int) -> list[tuple[bytes, bytes]]:
    """Read offsets [start, stop) of one partition and send the same keys and values to the topic again."""
    tp = TopicPartition(topic, partition)
    records = read_records(bootstrap, parts=[tp], start={tp: start}, stop={tp: stop})
    messages = [(message.key, message.value) for message in records]
    assert len(messages) == stop - start
    send_raw(bootstrap, topic, messages)
    return messages


def without_offsets(snap: dict) -> dict:
    """A snapshot without the stored offsets (which move on as re-published messages are read)."""
    return {k: v for k, v in snap.items() if k != "projector_offsets"}


@pytest.mark.slow
def test_two_instances_in_one_group_one_killed_no_gap_no_duplicate(
    kafka_bootstrap, fresh_topics, new_database, logs, record
):
    load = ledger.make_load(20_000, customers=300, seed=66)
    first_half, second_half = load.split()
    dsn = new_database("pair")
    env = ledger.ledger_env(dsn, fresh_topics, f"pair-{uuid.uuid4().hex[:6]}", PROJECTOR_BATCH_SIZE="200")
    publishing = ledger.Background(ledger.publish_load, kafka_bootstrap, fresh_topics, first_half)
    publishing.start()
    first = ledger.start_projector(env, log=logs / "first.log")
    second = ledger.start_projector(env, log=logs / "second.log")
    try:
        # Both members hold their share: the last assignments of the two logs split the partitions. (Reading
        # both as soon as each has logged one can find the first member's whole assignment from before the
        # second joined.)
        shared_before = wait_for(lambda: split(logs / "first.log", logs / "second.log"), timeout=90)
        wait_for(lambda: ledger.progress(dsn) >= first_half.count // 2, timeout=120, interval=0.05)
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
        killed_at, killed = ledger.progress(dsn), time.monotonic()
        published = publishing.join(timeout=600)
        # Events after the kill land on every partition: the survivor must take the dead member's over.
        published += ledger.publish_load(kafka_bootstrap, fresh_topics, second_half)
        wait_for(lambda: len(assignment(logs / "first.log")) == 3 * len(TOPICS), timeout=90)
        taken_over_s = time.monotonic() - killed
        wait_for(lambda: ledger.progress(dsn) >= load.count, timeout=180, interval=0.1)
        recovered_s = time.monotonic() - killed
        assert first.poll() is None, "the surviving instance died"
        assert ledger.lag(kafka_bootstrap, fresh_topics, dsn) == dict.fromkeys(TOPICS, 0)
    finally:
        terminate(first)
        terminate(second)
    assert published == load.count
    assert len(shared_before[0]) + len(shared_before[1]) == 3 * len(TOPICS)
    pair = ledger.snapshot(dsn)
    ledger.assert_same(ledger.as_expected(load, dsn), ledger.expected_rows(load))
    assert len(pair["applied_events"]) == len(load.ids)
    assert sum(r["applied"] for r in pair["projection_counters"]) == len(load.ids)
    ledger.assert_same(pair, clean_rebuild(kafka_bootstrap, fresh_topics, new_database, logs))
    record(
        events=load.count,
        split=[len(p) for p in shared_before],
        killed_at=killed_at,
        partitions_taken_over_after_s=round(taken_over_s, 1),
        caught_up_after_kill_s=round(recovered_s, 1),
        lag=0,
    )


def split(a, b) -> tuple[list, list] | None:  # noqa: ANN001
    """The last assignments of two members' logs when together they hold every partition once, else None."""
    first, second = assignment(a), assignment(b)
    whole = first and second and len(first) + len(second) == 3 * len(TOPICS) and not set(first) & set(second)
    return (first, second) if whole else None


def assignment(log) -> list[tuple[str, int]]:  # noqa: ANN001
    """The partitions of the last `assigned [...]` line of a projector log (empty before any)."""
    if not log.exists():
        return []
    lines = [json.loads(line)["msg"] for line in log.read_text(errors="replace").splitlines() if '"assigned [' in line]
    return [(t, int(p)) for t, p in re.findall(r"\('([^']+)', (\d+)\)", lines[-1])] if lines else []
