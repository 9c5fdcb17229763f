"""Projector runtime: consume -> validate -> apply in one transaction with the offsets -> dead-letter."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from shared import db, store
from shared.batch import Batch, build_batch
from shared.deadletter import DeadLetterPublisher
from shared.event import Event
from shared.topics import logical, physical

log = logging.getLogger("projector")
Handler = Callable[[psycopg.Cursor, Event], None]


@dataclass
class ProjectorSettings:
    """Everything one projector process needs."""

    service: str
    database_url: str
    bootstrap_servers: str
    topics: list[str]
    ddl: Path
    schema: str = db.READ_MODEL_SCHEMA
    group_id: str = ""
    topic_prefix: str = ""
    batch_size: int = 1000
    poll_timeout_ms: int = 200
    max_backoff_s: float = 10.0
    stop_when_caught_up: bool = False
    extra: dict = field(default_factory=dict)


class SeekToStored(ConsumerRebalanceListener):
    """On every assignment, continue from the offsets stored with the read model."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked: %s", revoked)

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.projector.seek_to_stored(assigned)


class Projector:
    """One service's projector: a consumer group member writing one read model."""

    def __init__(self, settings: ProjectorSettings, handlers: dict[str, Handler]) -> None:
        self.settings = settings
        self.handlers = handlers
        self.stopping = False
        self.conn: psycopg.Connection | None = None
        self.consumer: KafkaConsumer | None = None
        self.dead_letters: DeadLetterPublisher | None = None

    def run(self) -> None:
        """Consume until SIGTERM/SIGINT (or until caught up, when asked)."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.conn = self._connect()
        self.consumer = self._consumer()
        self.dead_letters = DeadLetterPublisher(self.settings.bootstrap_servers)
        try:
            self._loop()
        finally:
            self.consumer.close(autocommit=False)
            self.dead_letters.close()
            self.conn.close()

    def _stop(self, *_: object) -> None:
        log.info("stop requested; finishing the current batch")
        self.stopping = True

    def _connect(self) -> psycopg.Connection:
        conn = retry(lambda: db.connect(self.settings.database_url, self.settings.schema), self)
        db.ensure_schema(conn, self.settings.ddl, self.settings.schema)
        db.ensure_schema(conn, store.RUNTIME_DDL, self.settings.schema)
        return conn

    def _consumer(self) -> KafkaConsumer:
        s = self.settings
        consumer = KafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=s.group_id or f"{s.topic_prefix}{s.service}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=s.batch_size,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        consumer.subscribe([physical(t, s.topic_prefix) for t in s.topics], listener=SeekToStored(self))
        return consumer

    def seek_to_stored(self, assigned: Iterable[TopicPartition]) -> None:
        """Seek each assigned partition to its stored next offset (or the beginning)."""
        offsets = retry(lambda: self._stored_offsets(), self)
        for tp in assigned:
            next_offset = offsets.get((logical(tp.topic, self.settings.topic_prefix), tp.partition))
            if next_offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, next_offset)
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))

    def _stored_offsets(self) -> dict[tuple[str, int], int]:
        try:
            offsets = store.stored_offsets(self.conn)
            self.conn.commit()
            return offsets
        except psycopg.OperationalError:
            self._reconnect()
            raise

    def _loop(self) -> None:
        idle_polls = 0
        while not self.stopping:
            polled = self.consumer.poll(timeout_ms=self.settings.poll_timeout_ms)
            records = [r for part in polled.values() for r in part]
            if not records:
                idle_polls += 1
                if self.settings.stop_when_caught_up and idle_polls >= 2 and self.caught_up():
                    return
                continue
            idle_polls = 0
            batch = build_batch(records, self.settings.topic_prefix)
            self.apply_with_retry(batch)

    def apply_with_retry(self, batch: Batch) -> None:
        """Apply a batch; on any failure roll back, back off and try the same batch again."""
        delay = 0.2
        while True:
            try:
                self.apply(batch)
                return
            except Exception:  # noqa: BLE001 - a valid event that failed to apply is retried, never skipped
                if self.stopping:
                    raise SystemExit("stopped while retrying a failed batch; nothing was committed") from None
                log.exception("batch failed; retrying in %.1fs", delay)
                self._reconnect()
                time.sleep(delay)
                delay = min(delay * 2, self.settings.max_backoff_s)

    def apply(self, batch: Batch) -> None:
        """Dead-letter the invalid, apply the new valid events and store the offsets: one transaction."""
        started = time.perf_counter()
        self.dead_letters.send(batch.rejections, self.settings.topic_prefix)
        with self.conn.transaction(), self.conn.cursor() as cur:
            seen = store.already_applied(cur, [e.id for e in batch.events])
            applied: list[tuple[str, str]] = []
            for event in batch.events:
                if event.id in seen:
                    continue
                seen.add(event.id)
                self.handlers[event.type](cur, event)
                applied.append((event.id, event.type))
            store.mark_applied(cur, applied)
            store.record_rejections(cur, batch.rejections)
            store.save_offsets(cur, batch.positions)
        log.info(
            "batch applied",
            extra={"applied": len(applied), "skipped": len(batch.events) - len(applied),
                   "rejected": len(batch.rejections), "ms": round((time.perf_counter() - started) * 1000, 1)},
        )

    def _reconnect(self) -> None:
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:  # noqa: BLE001 - the old connection is being thrown away
            pass
        self.conn = retry(lambda: db.connect(self.settings.database_url, self.settings.schema), self)

    def caught_up(self) -> bool:
        """True when the read model has every partition of its topics applied up to the end offset.

        Checked against the offsets stored in PostgreSQL for all partitions, not only the ones
        assigned to this member: after a crash the group may still count a dead member.
        """
        parts = [TopicPartition(physical(t, self.settings.topic_prefix), p)
                 for t in self.settings.topics
                 for p in self.consumer.partitions_for_topic(physical(t, self.settings.topic_prefix)) or ()]
        ends = self.consumer.end_offsets(parts)
        stored = retry(self._stored_offsets, self)
        return all(stored.get((logical(tp.topic, self.settings.topic_prefix), tp.partition), 0) >= end
                   for tp, end in ends.items())


def retry(action: Callable, owner: Projector | None = None, max_backoff_s: float = 10.0):
    """Run `action` until it succeeds, backing off on connection errors."""
    delay = 0.2
    while True:
        try:
            return action()
        except psycopg.OperationalError as exc:
            if owner is not None and owner.stopping:
                raise
            log.warning("database unavailable (%s); retrying in %.1fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, max_backoff_s)


def with_overrides(settings: ProjectorSettings, **changes: object) -> ProjectorSettings:
    """A copy of the settings with some fields changed."""
    return replace(settings, **changes)
