"""The tests' reader of a topic (tests/support/records.py): everything up to the ends known when it starts."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaProducer, TopicPartition

from shared import kafka_security
from shared.cli.admin import create_topics, delete_topics
from tests.support.records import read_records


@pytest.fixture
def payments(kafka_bootstrap: str, topic_prefix: str):
    """A payments topic of this test alone (3 partitions)."""
    prefix = f"{topic_prefix}reader{uuid.uuid4().hex[:6]}."
    create_topics(kafka_bootstrap, partitions=3, prefix=prefix)
    yield f"{prefix}payments"
    delete_topics(kafka_bootstrap, prefix)


def test_every_record_up_to_the_end_in_partition_order_and_a_range(kafka_bootstrap, payments):
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, **kafka_security.client_kwargs(), acks="all")
    try:
        for n in range(60):
            producer.send(payments, key=b"k", value=f"{n}".encode(), partition=n % 3)
        producer.flush()
    finally:
        producer.close()
    found = read_records(kafka_bootstrap, [payments])
    assert len(found) == 60
    for partition in range(3):
        mine = [(r.offset, r.value) for r in found if r.partition == partition]
        assert mine == [(k, f"{3 * k + partition}".encode()) for k in range(20)]
    tp = TopicPartition(payments, 1)
    middle = read_records(kafka_bootstrap, parts=[tp], start={tp: 5}, stop={tp: 9})
    assert [r.value for r in middle] == [f"{3 * k + 1}".encode() for k in range(5, 9)]
    assert read_records(kafka_bootstrap, parts=[tp], start={tp: 20}) == []  # at the end: nothing to wait for


def test_records_that_never_come_fail_loudly_instead_of_reading_less(kafka_bootstrap, payments):
    tp = TopicPartition(payments, 2)
    with pytest.raises(AssertionError, match=r"records not read within 2 s \(position, end\): .*: \(0, 5\)"):
        read_records(kafka_bootstrap, parts=[tp], stop={tp: 5}, timeout=2)
