"""The publisher CLI: valid lines are sent keyed by subject, bad lines reported and not sent."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from shared import kafka_security
from shared.cli.admin import create_topics, delete_topics
from shared.events.publisher import KafkaUnavailable, Publisher
from shared.kafka_calls import ProducerHolder
from tests.support import events, security
from tests.support.infra import ROOT
from tests.support.records import read_records


def _messages_of(bootstrap: str, topic: str, key: bytes) -> list[dict]:
    return [json.loads(m.value) for m in read_records(bootstrap, [topic]) if m.key == key]


def test_file_with_bad_lines_sends_the_good_ones_and_reports_the_bad(tmp_path, kafka_bootstrap, topic_prefix):
    customer = events.customer_code()
    good = [events.payment(customer, 100), events.payment(customer, 200)]
    wrong_type = events.envelope(
        "invoice.cancelled", customer, {"invoice_number": "X", "customer_code": customer, "cancelled_on": "2026-01-01"}
    )
    lines = [
        json.dumps(good[0]),
        "{broken",
        "",
        json.dumps(events.payment(customer, 0)),
        json.dumps(wrong_type),
        json.dumps(good[1]),
    ]
    path = tmp_path / "payments.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kafka_env, as_bank = security.publisher_env_and_args("bank")  # its password from a file
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "PATH": "/usr/bin:/bin",
        **kafka_env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "shared.events.publisher", "--topic", "payments", *as_bank, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "2 sent to payments, 3 refused" in result.stdout
    assert "line 2: refused: not valid UTF-8 JSON" in result.stderr
    assert "line 4: refused: invalid data for payment.received: data.amount" in result.stderr
    assert "line 5: refused: type invoice.cancelled does not belong on topic payments" in result.stderr
    sent = _messages_of(kafka_bootstrap, f"{topic_prefix}payments", customer.encode())
    assert [m["id"] for m in sent] == [good[0]["id"], good[1]["id"]]


def test_stdin_and_all_valid_exit_zero(kafka_bootstrap, topic_prefix):
    customer = events.customer_code()
    body = json.dumps(events.payment(customer, 700)) + "\n"
    kafka_env, as_bank = security.publisher_env_and_args("bank")  # its password from a file
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "PATH": "/usr/bin:/bin",
        **kafka_env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "shared.events.publisher", "--topic", "payments", *as_bank, "-"],
        input=body,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 sent to payments, 0 refused"


def test_a_too_large_event_is_refused_with_its_reason_and_the_lines_around_it_are_sent(
    tmp_path, kafka_bootstrap, topic_prefix
):
    customer = events.customer_code()
    big = events.payment(customer, 300)
    big["data"]["reference"] = "x" * 1_000_000
    good = [events.payment(customer, 100), events.payment(customer, 200)]
    path = tmp_path / "payments.jsonl"
    path.write_text("\n".join([json.dumps(good[0]), json.dumps(big), json.dumps(good[1])]) + "\n", encoding="utf-8")
    kafka_env, as_bank = security.publisher_env_and_args("bank")  # its password from a file
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "PATH": "/usr/bin:/bin",
        **kafka_env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "shared.events.publisher", "--topic", "payments", *as_bank, "--progress", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "line 2: refused: event too large: 1,000," in result.stderr
    assert "at most 1,000,000 (the broker's largest message is 1 MB)" in result.stderr
    assert "publishing to payments: 3 lines in" in result.stderr  # --progress: the final figures
    assert result.stdout.strip() == "2 sent to payments, 1 refused"
    sent = _messages_of(kafka_bootstrap, f"{topic_prefix}payments", customer.encode())
    assert [m["id"] for m in sent] == [good[0]["id"], good[1]["id"]]


def test_a_window_smaller_than_the_events_still_sends_them_all_in_order(kafka_bootstrap, topic_prefix):
    from shared.events.publisher import Publisher

    customer = events.customer_code()
    batch = [events.payment(customer, 100 + i) for i in range(200)]
    publisher = Publisher(kafka_bootstrap, topic_prefix, window_bytes=2_000)  # about 5 events in flight
    try:
        report = publisher.publish("payments", batch)
    finally:
        publisher.close()
    assert (report.sent, report.refused, report.failed) == (200, [], 0)
    sent = _messages_of(kafka_bootstrap, f"{topic_prefix}payments", customer.encode())
    assert [m["id"] for m in sent] == [e["id"] for e in batch]


def test_text_that_cannot_be_stored_or_sent_is_refused_and_the_rest_is_sent(kafka_bootstrap, topic_prefix):
    """A lone surrogate cannot be written as UTF-8: a dict holding one is refused, not raised, as is a NUL."""
    customer = events.customer_code()
    good = [events.payment(customer, 100), events.payment(customer, 200)]
    surrogate_known = events.payment(customer, 7)
    surrogate_known["data"]["reference"] = "x\ud800"
    surrogate_unknown = {**events.payment(customer, 7), "future": "\udfff"}
    nul = {**events.payment(customer, 7), "source": "billing\x00"}
    publisher = Publisher(kafka_bootstrap, topic_prefix)
    try:
        report = publisher.publish("payments", [good[0], surrogate_known, surrogate_unknown, nul, good[1]])
    finally:
        publisher.close()
    assert (report.sent, report.failed) == (2, 0)
    assert report.refused == [
        (2, "invalid data for payment.received: data.reference: a lone surrogate (U+D800) cannot be stored"),
        (3, "not valid UTF-8: a lone surrogate (U+DFFF) cannot be sent"),
        (4, "invalid envelope: source: U+0000 (NUL) cannot be stored"),
    ]
    sent = _messages_of(kafka_bootstrap, f"{topic_prefix}payments", customer.encode())
    assert [m["id"] for m in sent] == [good[0]["id"], good[1]["id"]]


def test_publish_without_kafka_exits_3_and_says_so(tmp_path):
    # the producer gives up bootstrapping after 30 s
    path = tmp_path / "one.jsonl"
    path.write_text('{"not": "checked before kafka answers"}\n')
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "shared.events.publisher", "--topic", "payments", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert "error: Kafka did not accept the events" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_publisher_whose_send_failed_sends_the_next_events_with_a_new_producer(kafka_bootstrap):
    """A failed send throws the producer away (a kafka-python 3 producer can stay stuck after a broker restart,
    shared/kafka_calls.py). Forced with topics that do not exist yet: the metadata wait runs out (15 s). Once
    they exist, the same Publisher sends, with another producer, and only the second event is on the topic."""
    prefix = f"p{uuid.uuid4().hex[:8]}."
    customer = events.customer_code()
    publisher = Publisher(kafka_bootstrap, prefix)
    try:
        first = publisher._producer.get()
        with pytest.raises(KafkaUnavailable) as failed:
            publisher.publish("payments", [events.payment(customer, 100)])
        assert failed.value.report.sent == 0
        create_topics(kafka_bootstrap, partitions=3, prefix=prefix)
        try:
            assert publisher.publish("payments", [events.payment(customer, 200)]).sent == 1
            assert publisher._producer.get() is not first
            found = _messages_of(kafka_bootstrap, f"{prefix}payments", customer.encode())
            assert [m["data"]["amount"] for m in found] == [200]
        finally:
            delete_topics(kafka_bootstrap, prefix)
    finally:
        publisher.close()


def test_a_discarded_producer_aborts_what_it_holds_and_never_sends_it_later(kafka_bootstrap, topic_prefix):
    """A record waiting in the thrown-away producer (held by a long linger, so it is not on its way yet) fails
    at once, the producer's thread ends, and the record never reaches the topic. kafka-python's own
    close(timeout=0) raises on such a record and leaves it to be sent when the linger ends."""
    customer = events.customer_code()
    topic = f"{topic_prefix}payments"
    holder = ProducerHolder(
        lambda: KafkaProducer(bootstrap_servers=kafka_bootstrap, **kafka_security.client_kwargs(), linger_ms=60_000)
    )
    producer = holder.get()
    future = producer.send(topic, key=customer.encode(), value=json.dumps(events.payment(customer, 100)).encode())
    assert not future.is_done
    holder.discard()
    assert future.is_done and future.failed() and isinstance(future.exception, KafkaError)
    assert not producer._sender.is_alive()
    assert holder.get() is not producer
    holder.close()
    assert _messages_of(kafka_bootstrap, topic, customer.encode()) == []
