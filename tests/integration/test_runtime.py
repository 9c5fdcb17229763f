"""The projector runtime against real Kafka and PostgreSQL, with a small counting projection."""

from __future__ import annotations

import json
import random
import signal
import uuid

import pytest

from shared.events.publisher import Publisher
from tests.support import events
from tests.support.procs import projector_env, rows, run_counting, send_raw, start_counting, wait_for
from tests.support.records import read_records

TOTALS = "SELECT customer_code, total, events FROM paid ORDER BY customer_code"


@pytest.fixture
def counting_env(make_database, topic_prefix: str):
    """A fresh database and consumer group for one counting projector."""
    name = uuid.uuid4().hex[:6]
    return projector_env(make_database(f"count_{name}"), topic_prefix, f"count-{name}")


@pytest.fixture
def publisher(kafka_bootstrap: str, topic_prefix: str):
    p = Publisher(kafka_bootstrap, topic_prefix)
    yield p
    p.close()


def test_same_event_twice_is_applied_once(counting_env, publisher):
    customer = events.customer_code()
    event = events.payment(customer, 1500)
    report = publisher.publish("payments", [event, event, events.payment(customer, 500)])
    assert report.sent == 3
    run_counting(counting_env)
    found = rows(
        counting_env["DATABASE_URL"], "SELECT total, events FROM paid WHERE customer_code = %(c)s", {"c": customer}
    )
    assert found == [{"total": 2000, "events": 2}]
    applied = rows(
        counting_env["DATABASE_URL"],
        "SELECT count(*) AS n FROM applied_events WHERE event_id = %(i)s",
        {"i": event["id"]},
    )
    assert applied == [{"n": 1}]


def test_poison_messages_are_dead_lettered_and_good_ones_applied(
    counting_env, publisher, kafka_bootstrap, topic_prefix
):
    customer = events.customer_code()
    good = [events.payment(customer, 100 * i) for i in range(1, 5)]
    bad_schema = events.payment(customer, -7)
    unknown = events.envelope("payment.teleported", customer, {"customer_code": customer})
    other_key = events.payment(customer, 999)
    topic = f"{topic_prefix}payments"
    key = customer.encode()
    send_raw(
        kafka_bootstrap,
        topic,
        [
            (key, json.dumps(good[0]).encode()),
            (key, b"{not json"),
            (key, json.dumps(good[1]).encode()),
            (key, json.dumps(unknown).encode()),
            (key, json.dumps(bad_schema).encode()),
            (b"someone-else", json.dumps(other_key).encode()),
            (key, b"x" * 1_000_000),
            (key, json.dumps(good[2]).encode()),
            (key, json.dumps(good[3]).encode()),
        ],
    )
    run_counting(counting_env)
    dsn = counting_env["DATABASE_URL"]
    assert rows(dsn, "SELECT total FROM paid WHERE customer_code = %(c)s", {"c": customer}) == [{"total": 1000}]
    rejected = rows(
        dsn,
        'SELECT reason, event_type FROM rejected_events WHERE event_key IN (%(k)s, %(o)s) ORDER BY "offset"',
        {"k": customer, "o": "someone-else"},
    )
    reasons = sorted(r["reason"] for r in rejected)
    assert len(reasons) == 5
    assert sum(r.startswith("not valid UTF-8 JSON") for r in reasons) == 2
    assert sum("type: Must be one of" in r for r in reasons) == 1
    assert sum("data.amount: Must be greater than or equal to 1" in r for r in reasons) == 1
    assert sum("key 'someone-else' differs from subject" in r for r in reasons) == 1
    dead = _dead_letters(kafka_bootstrap, f"{topic_prefix}payments.dlq", {customer.encode(), b"someone-else"})
    # other projectors of this run (the e2e ledger) dead-letter the same messages too: compare as sets
    assert {h["dlq.reason"] for h in dead} == set(reasons)
    assert {h["dlq.topic"] for h in dead} == {"payments"}


def test_text_postgresql_cannot_hold_is_dead_lettered_and_the_projector_goes_on(
    counting_env, publisher, kafka_bootstrap, topic_prefix
):
    """NUL (U+0000) and lone surrogates pass JSON but not a PostgreSQL text column: refused, recorded, skipped."""
    customer = events.customer_code()
    good = [events.payment(customer, 100 * i) for i in range(1, 4)]
    tag = uuid.uuid4().hex
    nul_id = {**events.payment(customer, 7), "id": f"e-\u0000-{tag}"}
    surrogate_source = {**events.payment(customer, 7), "source": "billing-\ud800"}
    nul_reference = events.payment(customer, 7)
    nul_reference["data"]["reference"] = "tag\u0000"
    keyed = [events.payment(customer, 7) for _ in range(2)]
    topic = f"{topic_prefix}payments"
    key = customer.encode()
    nul_key, latin_key = key + b"\x00", b"\xff" + key
    send_raw(
        kafka_bootstrap,
        topic,
        [
            (key, json.dumps(good[0]).encode()),
            (key, json.dumps(nul_id).encode()),
            (key, json.dumps(surrogate_source).encode()),  # ensure_ascii: the surrogate goes as the escape \ud800
            (key, json.dumps(nul_reference, ensure_ascii=False).encode()),
            (key, json.dumps(good[1]).encode()),
            (nul_key, json.dumps(keyed[0]).encode()),
            (latin_key, json.dumps(keyed[1]).encode()),
            (key, json.dumps(good[2]).encode()),
        ],
    )
    run_counting(counting_env, timeout=90)
    dsn = counting_env["DATABASE_URL"]
    assert rows(dsn, "SELECT total FROM paid WHERE customer_code = %(c)s", {"c": customer}) == [{"total": 600}]
    ids = [rf"e-\x00-{tag}"] + [e["id"] for e in (surrogate_source, nul_reference, *keyed)]  # NUL can't be asked for
    found = rows(dsn, "SELECT event_id, event_key, reason FROM rejected_events WHERE event_id = ANY(%(i)s)", {"i": ids})
    rejected = {r["event_id"]: (r["event_key"], r["reason"]) for r in found}  # keys differ: partitions too
    assert len(found) == len(rejected) == 5
    assert rejected == {
        rf"e-\x00-{tag}": (customer, "invalid envelope: id: U+0000 (NUL) cannot be stored"),  # the readable escape
        surrogate_source["id"]: (customer, "invalid envelope: source: a lone surrogate (U+D800) cannot be stored"),
        nul_reference["id"]: (
            customer,
            "invalid data for payment.received: data.reference: U+0000 (NUL) cannot be stored",
        ),
        keyed[0]["id"]: (customer + r"\x00", f"key {customer + chr(0)!r} differs from subject {customer!r}"),
        keyed[1]["id"]: ("\xff" + customer, f"key {chr(0xFF) + customer!r} differs from subject {customer!r}"),
    }
    dead = _dead_letters(kafka_bootstrap, f"{topic_prefix}payments.dlq", {nul_key, latin_key})
    # sent back with the record's own key bytes (not re-encoded); other projectors of the run may add the same
    assert {h["dlq.reason"] for h in dead} == {rejected[keyed[0]["id"]][1], rejected[keyed[1]["id"]][1]}


def _dead_letters(bootstrap: str, topic: str, keys: set[bytes]) -> list[dict[str, str]]:
    """Headers of the dead letters with the given keys."""
    records = read_records(bootstrap, [topic], fetch_max_bytes=16 * 1024 * 1024)
    return [{k: v.decode() for k, v in m.headers} for m in records if m.key in keys]


def test_sigkill_mid_run_then_restart_equals_clean_rebuild(counting_env, publisher, make_database, topic_prefix):
    rng = random.Random(7)
    customers = [events.customer_code() for _ in range(40)]
    batch = [events.payment(rng.choice(customers), rng.randint(1, 10_000)) for _ in range(12_000)]
    expected: dict[str, int] = {}
    for e in batch:
        expected[e["subject"]] = expected.get(e["subject"], 0) + e["data"]["amount"]
    assert publisher.publish("payments", batch).sent == len(batch)
    env = {**counting_env, "PROJECTOR_BATCH_SIZE": "100"}
    committed = 0
    for _ in range(3):
        # Each life is killed once it has committed 1,000-3,000 more messages (a counted point, not a duration).
        goal = committed + rng.randint(1_000, 3_000)
        proc = start_counting(env)
        try:
            wait_for(
                lambda g=goal, p=proc: consumed(env["DATABASE_URL"]) >= g or p.poll() is not None,
                timeout=120,
                interval=0.02,
            )
            assert proc.poll() is None, "the projector died on its own"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        committed = consumed(env["DATABASE_URL"])
    run_counting(env)
    killed = [r for r in rows(env["DATABASE_URL"], TOTALS) if r["customer_code"] in expected]
    clean_env = projector_env(
        make_database(f"clean_{uuid.uuid4().hex[:6]}"), topic_prefix, f"clean-{uuid.uuid4().hex[:6]}"
    )
    run_counting(clean_env)
    clean = [r for r in rows(clean_env["DATABASE_URL"], TOTALS) if r["customer_code"] in expected]
    assert killed == clean
    assert {r["customer_code"]: r["total"] for r in killed} == expected
    assert sum(r["events"] for r in killed) == len(batch)


def test_rebuild_gives_an_identical_read_model(counting_env, publisher):
    customer = events.customer_code()
    publisher.publish("payments", [events.payment(customer, 300), events.refund(customer, 100)])
    run_counting(counting_env)
    before = rows(counting_env["DATABASE_URL"], TOTALS)
    assert {"customer_code": customer, "total": 200, "events": 2} in before
    run_counting(counting_env, "--rebuild")
    assert rows(counting_env["DATABASE_URL"], TOTALS) == before


def test_sigterm_finishes_the_batch_and_exits_cleanly(counting_env, publisher):
    customer = events.customer_code()
    publisher.publish("payments", [events.payment(customer, 42)])
    proc = start_counting(counting_env)
    wait_for(
        lambda: (
            rows(counting_env["DATABASE_URL"], "SELECT total FROM paid WHERE customer_code = %(c)s", {"c": customer})
            if _has_table(counting_env["DATABASE_URL"])
            else None
        )
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def _has_table(dsn: str) -> bool:
    return bool(rows(dsn, "SELECT to_regclass('paid') IS NOT NULL AS ok")[0]["ok"])


def consumed(database_url: str) -> int:
    """Messages a projector has committed (the sum of its stored next offsets; 0 before its tables exist)."""
    try:
        return int(rows(database_url, "SELECT coalesce(sum(next_offset), 0) AS n FROM projector_offsets")[0]["n"])
    except Exception:  # noqa: BLE001 - the tables are made by the projector's first start
        return 0
