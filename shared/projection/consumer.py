"""The Kafka side of a projector: its consumer, seeking to stored offsets, and how far the topics reach."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from shared import kafka_security
from shared.events.topics import logical, physical
from shared.kafka_calls import bounded
from shared.projection.settings import ProjectorSettings
from shared.retry import Backoff, GiveUp, retry

log = logging.getLogger("projector")
METADATA_TIMEOUT_S = 15.0  # a metadata request of kafka-python 3 may otherwise wait for good (shared/kafka_calls.py)


class Assignee(Protocol):
    def partitions_assigned(self, assigned: set[TopicPartition]) -> None: ...
    def partitions_revoked(self, revoked: set[TopicPartition]) -> None: ...


class NoteAssignments(ConsumerRebalanceListener):
    """Tells the projector which partitions it got or lost; the projector seeks after poll() returns.

    kafka-python 3 calls a listener on its IO thread: while it runs, no heartbeat goes out and every
    thread waiting on the client waits too. Seeking to the stored offsets needs the database, which
    may be away for minutes, so the listener only takes note.
    """

    def __init__(self, projector: Assignee) -> None:
        self.projector = projector

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked: %s", sorted((tp.topic, tp.partition) for tp in revoked))
        self.projector.partitions_revoked(set(revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.projector.partitions_assigned(set(assigned))


def make_consumer(s: ProjectorSettings, projector: Assignee) -> KafkaConsumer:
    """A group member without Kafka-side commits: the offsets live with the read model."""
    consumer = _until_kafka_answers(
        lambda: KafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            **kafka_security.client_kwargs(),
            group_id=s.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=s.batch_size,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            # a batch is at most max_poll_records; bigger fetch buffers only cost memory (a larger
            # message is still fetched whole: the limits are soft)
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=1024 * 1024,
            metadata_max_age_ms=30_000,
        ),
        s,
        projector,
    )
    names = [physical(t, s.topic_prefix) for t in s.topics]
    try:
        consumer.subscribe(names, listener=NoteAssignments(projector))
        # After subscribing, so the group coordinator's metadata snapshot is complete before the first
        # join: a snapshot that changes after the leader's assignment makes kafka-python rejoin, and a
        # rejoin whose SyncGroup answer comes after poll()'s timeout is never completed (no partitions, ever).
        wait_for_topics(consumer, names)
    except BaseException:
        consumer.close(autocommit=False)  # its IO thread would otherwise live on
        raise
    return consumer


def _until_kafka_answers(make: Callable[[], KafkaConsumer], s: ProjectorSettings, owner: object) -> KafkaConsumer:
    """Build the consumer, backing off while no broker answers (a projector started during a Kafka outage)."""
    return retry(
        make,
        on=KafkaError,
        what="Kafka",
        stopping=lambda: getattr(owner, "stopping", False),
        backoff=Backoff(first_s=0.5, max_s=s.max_backoff_s),
        logger=log,
    )


def wait_for_topics(consumer: KafkaConsumer, names: list[str], timeout_s: float = 120.0) -> None:
    """Block until the broker's metadata knows every topic's partitions.

    Subscribing before a just-created topic is visible leaves the group with no partitions of
    it until the next metadata refresh; waiting here makes the first assignment complete.
    """
    backoff = Backoff(first_s=0.2, max_s=1.0, deadline_s=timeout_s)
    while True:
        known = bounded(consumer, consumer.topics, METADATA_TIMEOUT_S, "topics")  # refreshes the cluster metadata
        missing = [n for n in names if n not in known or not _partitions(consumer, n)]
        if not missing:
            return
        log.warning("waiting for topics to appear: %s", ", ".join(missing))
        try:
            backoff.wait()
        except GiveUp:
            raise RuntimeError(f"topics not found on the broker: {', '.join(missing)} (create them first)") from None


def all_partitions(consumer: KafkaConsumer, s: ProjectorSettings) -> list[TopicPartition]:
    """Every partition of the projector's topics, assigned to this member or not."""
    return [
        TopicPartition(physical(t, s.topic_prefix), p)
        for t in s.topics
        for p in _partitions(consumer, physical(t, s.topic_prefix))
    ]


def _partitions(consumer: KafkaConsumer, topic: str) -> set[int]:
    """A topic's partitions; asking the broker when the metadata lacks it, within METADATA_TIMEOUT_S."""
    found = bounded(consumer, partial(consumer.partitions_for_topic, topic), METADATA_TIMEOUT_S, "partitions_for_topic")
    return found or set()


def end_offsets(
    consumer: KafkaConsumer, s: ProjectorSettings, timeout_ms: int | None = None
) -> dict[tuple[str, int], int]:
    """The end offset of every partition of the projector's topics, by (catalog topic, partition) (asks the broker)."""
    ends = consumer.end_offsets(all_partitions(consumer, s), timeout_ms=timeout_ms)
    return {(logical(tp.topic, s.topic_prefix), tp.partition): end for tp, end in ends.items()}


def end_reached(consumer: KafkaConsumer, s: ProjectorSettings, stored: dict[tuple[str, int], int]) -> bool:
    """True when the stored offsets reach the end offset of every partition (asks the broker)."""
    return reached(stored, end_offsets(consumer, s))


def reached(stored: dict[tuple[str, int], int], ends: dict[tuple[str, int], int]) -> bool:
    """True when the stored offsets reach every one of `ends` (by catalog topic and partition)."""
    return all(stored.get(position, 0) >= end for position, end in ends.items())
