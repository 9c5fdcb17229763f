"""Projector runtime: consume -> validate -> apply in one transaction with the offsets -> dead-letter."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition

from shared import db, readmodel, store
from shared.batch import Batch, build_batch
from shared.consumer import all_partitions, end_reached, make_consumer
from shared.deadletter import DeadLetterPublisher
from shared.event import Event
from shared.follow import PointerFollowing, SchemaSwitched
from shared.projector_metrics import ProjectorMetrics
from shared.projector_settings import ProjectorSettings, retry, with_overrides
from shared.topics import logical
from shared.writes import GroupedWrites

__all__ = ["Projector", "ProjectorSettings", "retry", "run_handlers", "with_overrides"]
log = logging.getLogger("projector")
Handler = Callable[[psycopg.Cursor, Event], None]


def run_handlers(handlers: dict[str, Handler], cur: psycopg.Cursor, events: list[Event]) -> None:
    """Apply a batch's events with their handlers, in one libpq pipeline.

    A projection may load what its handlers read for the whole batch first (`prepare_batch`) and write
    what they folded at the end (`finish_batch`); write-only handlers get their statements grouped.
    """
    prepare = getattr(handlers, "prepare_batch", None)
    if prepare is not None:
        prepare(cur, events)
    # Pipeline mode: the statements go out without waiting for each one's answer.
    with cur.connection.pipeline():
        if getattr(handlers, "grouped_writes", False):
            writes = GroupedWrites()
            for event in events:
                handlers[event.type](writes, event)
            writes.flush(cur)
        else:
            for event in events:
                handlers[event.type](cur, event)
        finish = getattr(handlers, "finish_batch", None)
        if finish is not None:
            finish(cur)


class Projector(PointerFollowing):
    """One service's projector: a consumer group member writing one read model (the live schema).

    `on_caught_up` (shadow rebuilds) is asked once everything fetched is applied; True stops the run.
    """

    def __init__(self, settings: ProjectorSettings, handlers: dict[str, Handler],
                 on_caught_up: Callable[[], bool] | None = None) -> None:
        self.settings = settings
        self.handlers = handlers
        self.on_caught_up = on_caught_up
        self.schema = settings.schema
        self.stopping = False
        self.conn: psycopg.Connection | None = None
        self.consumer: KafkaConsumer | None = None
        self.dead_letters: DeadLetterPublisher | None = None
        self.metrics = ProjectorMetrics(settings.service)
        self.on_progress: Callable[[int, dict[tuple[str, int], int]], object] | None = None  # rebuilds: x of y

    def run(self) -> None:
        """Consume until SIGTERM/SIGINT (or until caught up, when asked)."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.metrics.serve(self.settings.metrics_port)
        self.conn = self._connect()
        self.consumer = make_consumer(self.settings, self)
        self.dead_letters = DeadLetterPublisher(self.settings.bootstrap_servers)
        try:
            self._loop()
        finally:
            self.consumer.close(autocommit=False)
            self.dead_letters.close()
            self.conn.close()
            self.metrics.close()

    def _stop(self, *_: object) -> None:
        log.info("stop requested; finishing the current batch")
        self.stopping = True

    def _connect(self) -> psycopg.Connection:
        s = self.settings
        self.conn = retry(lambda: db.connect(s.database_url, s.schema), self)
        if s.follow_pointer:
            readmodel.ensure_pointer(self.conn, s.schema, s.projection_version)
            self.follow_pointer(now=True)  # may reconnect to the live schema
        if not self.waiting:  # a schema of another projection version is not ours to change
            db.ensure_schema(self.conn, s.ddl, self.schema)
            db.ensure_schema(self.conn, store.RUNTIME_DDL, self.schema)
        self.metrics.writing(self.schema)
        return self.conn

    def seek_to_stored(self, assigned: Iterable[TopicPartition]) -> None:
        """Seek each assigned partition to its stored next offset (or the beginning) in the live schema."""
        self.follow_pointer(now=True)
        offsets = self._read(store.stored_offsets)
        for tp in assigned:
            next_offset = offsets.get((logical(tp.topic, self.settings.topic_prefix), tp.partition))
            if next_offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, next_offset)
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))

    def _read(self, query: Callable[[psycopg.Connection], Any]) -> Any:
        """A read on the projector's connection, committed; reconnects and retries while the database is away."""

        def attempt() -> Any:
            try:
                value = query(self.conn)
                self.conn.commit()
                return value
            except psycopg.OperationalError:
                self._reconnect()
                raise

        return retry(attempt, self)

    def _loop(self) -> None:
        idle_polls = 0
        while not self.stopping:
            self.pause_while_waiting()
            polled = self.consumer.poll(timeout_ms=self.settings.poll_timeout_ms)
            records = [r for part in polled.values() for r in part]
            idle_polls = 0 if records else idle_polls + 1
            if records:
                self.apply_with_retry(build_batch(records, self.settings.topic_prefix))
            else:
                self.follow_pointer()
            behind = self.metrics.observe_lag(self.consumer, self.settings.topic_prefix)
            if self.on_progress is not None:
                self.on_progress(len(records), behind)
            if self.settings.stop_when_caught_up and self._done(idle_polls, behind):
                return

    def _done(self, idle_polls: int, behind: dict[tuple[str, int], int]) -> bool:
        """Caught up: end offsets reached (plain), or everything fetched applied and the hook agrees (shadow)."""
        if self.on_caught_up is None:
            return idle_polls >= 2 and self.caught_up()
        partitions = all_partitions(self.consumer, self.settings)
        return len(behind) == len(partitions) and not any(behind.values()) and self.on_caught_up()

    def apply_with_retry(self, batch: Batch) -> None:
        """Apply a batch; on any failure roll back, back off and try the same batch again."""
        delay = 0.2
        while True:
            try:
                self.apply(batch)
                return
            except SchemaSwitched:
                self.follow_pointer(now=True)
                self.seek_to_stored(self.consumer.assignment())  # the batch is read again from the new offsets
                return
            except Exception:  # noqa: BLE001 - a valid event that failed to apply is retried, never skipped
                self.metrics.batch_failures.inc()
                if self.stopping:
                    raise SystemExit("stopped while retrying a failed batch; nothing was committed") from None
                log.exception("batch failed; retrying in %.1fs", delay)
                self._reconnect()
                time.sleep(delay)
                delay = min(delay * 2, self.settings.max_backoff_s)

    def apply(self, batch: Batch) -> None:
        """Check the pointer, dead-letter the invalid, apply the new valid events, store the offsets: one transaction."""
        started = time.perf_counter()
        with self.conn.transaction(), self.conn.cursor() as cur:
            self.check_pointer(cur)
            if self.settings.publish_dead_letters:
                self.dead_letters.send(batch.rejections, self.settings.topic_prefix)
            applied = self._apply_events(cur, batch.events)
            store.mark_applied(cur, applied)
            store.record_rejections(cur, batch.rejections)
            store.save_offsets(cur, batch.positions)
        seconds = time.perf_counter() - started
        skipped = len(batch.events) - len(applied)
        self.metrics.batch((t for _, t in applied), skipped, batch.rejections, seconds)
        log.info("batch applied", extra={"schema": self.schema, "applied": len(applied), "skipped": skipped,
                                         "rejected": len(batch.rejections), "ms": round(seconds * 1000, 1)})

    def _apply_events(self, cur: psycopg.Cursor, events: list[Event]) -> list[tuple[str, str]]:
        """Run the handler of every event not applied before; the (id, type) pairs applied."""
        seen = store.already_applied(cur, [e.id for e in events])
        fresh: list[Event] = []
        for event in events:
            if event.id not in seen:
                seen.add(event.id)
                fresh.append(event)
        run_handlers(self.handlers, cur, fresh)
        return [(event.id, event.type) for event in fresh]

    def _reconnect(self) -> None:
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:  # noqa: BLE001 - the old connection is being thrown away
            pass
        self.conn = retry(lambda: db.connect(self.settings.database_url, self.schema), self)

    def caught_up(self) -> bool:
        """True when the read model has every partition of its topics applied up to the end offset.

        Checked against the offsets stored in PostgreSQL for all partitions, not only the ones
        assigned to this member: after a crash the group may still count a dead member.
        """
        return end_reached(self.consumer, self.settings, self._read(store.stored_offsets))
