"""Projector runtime: consume -> validate -> apply in one transaction with the offsets -> dead-letter."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from psycopg.rows import DictRow

from shared.events.envelope import Event
from shared.events.topics import logical
from shared.projection import bookkeeping
from shared.projection.batch import Batch, build_batch
from shared.projection.consumer import all_partitions, end_offsets, end_reached, make_consumer, reached
from shared.projection.dead_letters import DeadLetterPublisher
from shared.projection.metrics import ProjectorMetrics, consumer_lag
from shared.projection.protocol import Projection
from shared.projection.settings import ProjectorSettings, with_overrides
from shared.projection.stall import STALL_CHECK_TIMEOUT_MS, StallWatch
from shared.readmodel import connections as db
from shared.readmodel import pointer
from shared.readmodel.follow import PointerFollowing, SchemaSwitched
from shared.retry import Backoff, retry

__all__ = ["Projector", "ProjectorSettings", "with_overrides"]
log = logging.getLogger("projector")


class Projector(PointerFollowing):
    """One service's projector: a consumer group member writing one read model (the live schema).

    `on_caught_up` (shadow rebuilds) is asked once everything fetched is applied; True stops the run.
    """

    def __init__(
        self, settings: ProjectorSettings, projection: Projection, on_caught_up: Callable[[], bool] | None = None
    ) -> None:
        self.settings = settings
        self.projection = projection
        self.on_caught_up = on_caught_up
        self.schema = settings.schema
        self.stopping = False
        # made in run(): the connection, the consumer and the dead-letter producer live as long as the run
        self.conn: psycopg.Connection[DictRow]
        self.consumer: KafkaConsumer
        self.dead_letters: DeadLetterPublisher
        self.metrics = ProjectorMetrics(settings.service)
        # partitions the group gave this member whose position still has to come from the stored offsets
        self.unsought: set[TopicPartition] = set()
        self.assignment_lock = threading.Lock()
        # next offset to apply per assigned partition, as far as this member knows (for the lag, without I/O)
        self.positions: dict[TopicPartition, int] = {}
        self.stall = StallWatch(settings.stall_s)
        self.hold_at = settings.hold_at
        self.on_progress: Callable[[int, dict[tuple[str, int], int]], object] | None = None  # rebuilds: x of y
        self.first_ends: dict[tuple[str, int], int] | None = None  # stop_at_first_ends: the ends first seen
        # end offsets the broker gave when asked (stall looks, caught-up checks): a partition's end until a fetch
        # answer tells it (shared.projection.metrics.consumer_lag)
        self.asked_ends: dict[tuple[str, int], int] = {}

    def run(self) -> None:
        """Consume until SIGTERM/SIGINT (or until caught up, when asked)."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if self.hold_at > 0:
            # SIGUSR1 releases a hold (_hold_if_reached). Blocked before any thread starts, so every thread
            # inherits the block: the signal waits for sigtimedwait instead of ending the process by default.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        self.metrics.serve(self.settings.metrics_port)
        self.conn = self._connect()
        self.consumer = self._new_consumer()
        self.dead_letters = DeadLetterPublisher(self.settings.bootstrap_servers)
        try:
            self._loop()
        except psycopg.OperationalError:
            if not self.stopping:
                raise
            # Asked to stop while the database was away (an idle read or a reconnect in its back-off): nothing
            # is lost, the offsets and rows committed so far are all in PostgreSQL. A clean stop, exit 0.
            log.info("stopped while the database was unavailable; nothing uncommitted was kept")
        finally:
            self.consumer.close(autocommit=False)
            self.dead_letters.close()
            self.conn.close()
            self.metrics.close()

    def _stop(self, *_: object) -> None:
        log.info("stop requested; finishing the current batch")
        self.stopping = True

    def _connect(self) -> psycopg.Connection[DictRow]:
        s = self.settings
        self.conn = self._retry_db(lambda: db.connect(s.database_url, s.schema))
        if s.follow_pointer:
            pointer.ensure_pointer(self.conn, s.schema, s.projection_version)
            self.follow_pointer(now=True)  # may reconnect to the live schema
        if not self.waiting:  # a schema of another projection version is not ours to change
            db.ensure_schema(self.conn, s.ddl, self.schema)
            db.ensure_schema(self.conn, bookkeeping.RUNTIME_DDL, self.schema)
        self.metrics.writing(self.schema)
        return self.conn

    def partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Called by the consumer's rebalance listener (its IO thread): seek on the next loop turn."""
        with self.assignment_lock:
            self.unsought |= assigned

    def partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Called by the consumer's rebalance listener (its IO thread)."""
        with self.assignment_lock:
            self.unsought -= revoked
            for tp in revoked:
                self.positions.pop(tp, None)

    def seek_to_stored(self, assigned: Iterable[TopicPartition]) -> None:
        """Seek each assigned partition to its stored next offset (or the beginning) in the live schema."""
        self.follow_pointer(now=True)
        offsets = self._read(bookkeeping.stored_offsets)
        for tp in assigned:
            position = (logical(tp.topic, self.settings.topic_prefix), tp.partition)
            self.asked_ends.pop(position, None)  # asked before the seek: the fetches will tell, or the next ask
            next_offset = offsets.get(position)
            if next_offset is None:
                self.consumer.seek_to_beginning(tp)
                self.positions[tp] = 0  # the event store keeps every message: its beginning is offset 0
            else:
                self.consumer.seek(tp, next_offset)
                self.positions[tp] = next_offset
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))

    def _seek_new_assignment(self, polled: dict[TopicPartition, list[Any]]) -> dict[TopicPartition, list[Any]]:
        """Seek the partitions assigned during the last poll; drop what that poll fetched for them.

        Those records come from the consumer's reset position, not from the stored offsets: applying
        them could move a stored offset backwards or skip ahead.
        """
        with self.assignment_lock:
            new, self.unsought = self.unsought, set()
        new &= self.consumer.assignment()  # revoked again meanwhile: nothing to seek
        if new:
            self.seek_to_stored(new)
        return {tp: records for tp, records in polled.items() if tp not in new}

    def _read(self, query: Callable[[psycopg.Connection[DictRow]], Any]) -> Any:
        """A read on the projector's connection, committed; reconnects and retries while the database is away."""

        def attempt() -> Any:
            try:
                value = query(self.conn)
                self.conn.commit()
                return value
            except psycopg.OperationalError:
                self._reconnect()
                raise

        return self._retry_db(attempt)

    def _retry_db(self, action: Callable[[], Any]) -> Any:
        """Run database work until it succeeds, backing off while the database is away (not once stopping)."""
        return retry(
            action,
            on=psycopg.OperationalError,
            what="database",
            stopping=lambda: self.stopping,
            backoff=Backoff(max_s=self.settings.max_backoff_s),
            logger=log,
        )

    def _loop(self) -> None:
        idle_polls = 0
        while not self.stopping:
            self.pause_while_waiting()
            polled = self._poll()
            if self.unsought:
                polled = self._seek_new_assignment(polled)
            records = [r for part in polled.values() for r in part]
            idle_polls = 0 if records else idle_polls + 1
            if records and self.apply_with_retry(build_batch(records, self.settings.topic_prefix)):
                with self.assignment_lock:
                    self.positions.update({tp: part[-1].offset + 1 for tp, part in polled.items() if part})
            else:
                self.follow_pointer()
                self._renew_consumer_if_stalled()
            behind = self.metrics.observe_lag(
                self.consumer, self.settings.topic_prefix, self.positions, self.asked_ends
            )
            if self.on_progress is not None:
                self.on_progress(len(records), behind)
            if self.settings.stop_when_caught_up and self._done(idle_polls):
                return

    def _renew_consumer_if_stalled(self) -> None:
        """A consumer that gets no records while a partition waits is closed and made again.

        kafka-python can leave a member in a group without its partitions for good, for instance when a
        rejoin's answer comes after poll()'s timeout. Offsets live in PostgreSQL, so a new consumer
        loses nothing: it joins the group again and continues from the stored offsets.
        """
        if self.waiting:  # paused on purpose: nothing to compare with once it resumes
            self.stall.reset()
            return
        if not self.stall.due():
            return
        stored = self._read(bookkeeping.stored_offsets)
        try:
            ends = end_offsets(self.consumer, self.settings, STALL_CHECK_TIMEOUT_MS)
        except KafkaError as exc:
            if self.stall.unanswered():  # a broker away, or a client stuck for good: a new one waits for the broker
                log.warning(
                    "Kafka has not answered the stall checks; making the consumer again", extra={"error": repr(exc)}
                )
                self._renew_consumer("unanswered")
            else:
                log.info("stall check unanswered: %s", exc)
            return
        self.asked_ends.update(ends)
        stalled = self.stall.look(stored, ends)
        if stalled:
            log.warning(
                "partitions waited %.0f s without progress; making the consumer again",
                self.stall.limit_s,
                extra={
                    "stalled": stalled,
                    "assigned": sorted((tp.topic, tp.partition) for tp in self.consumer.assignment()),
                },
            )
            self._renew_consumer("stalled")

    def _poll(self) -> dict[TopicPartition, list[Any]]:
        """One poll; a consumer that raises is made again (nothing fetched is lost: offsets live in PostgreSQL).

        kafka-python 3 raises from poll() what its IO thread met, e.g. a refused connection while the broker
        restarts; the same consumer may keep failing, so it is not polled again.
        """
        try:
            return self.consumer.poll(timeout_ms=self.settings.poll_timeout_ms)
        except KafkaError as exc:
            log.warning("the consumer failed (%r); making it again", exc)
            self._renew_consumer("failed")
            return {}

    def _renew_consumer(self, reason: str) -> None:
        """Close the consumer and make a new one, which joins the group and seeks to the stored offsets."""
        self.metrics.consumer_renewals.labels(reason).inc()
        try:
            self.consumer.close(autocommit=False, timeout_ms=5_000)  # a stuck client's leave may never be answered
        except Exception:  # noqa: BLE001 - the old consumer is being thrown away
            log.warning("closing the old consumer failed", exc_info=True)
        with self.assignment_lock:
            self.unsought, self.positions = set(), {}
        self.asked_ends = {}
        self.consumer = self._new_consumer()
        self.stall.reset()

    def _new_consumer(self) -> KafkaConsumer:
        """A subscribed consumer, once Kafka answers (backing off meanwhile)."""
        return retry(
            lambda: make_consumer(self.settings, self),
            on=KafkaError,
            what="Kafka",
            stopping=lambda: self.stopping,
            backoff=Backoff(first_s=0.5, max_s=self.settings.max_backoff_s),
            logger=log,
        )

    def _done(self, idle_polls: int) -> bool:
        """Caught up: end offsets reached (plain), or everything fetched applied and the hook agrees (shadow)."""
        try:
            if self.on_caught_up is not None:
                return self._applied_to_the_ends() and self.on_caught_up()
            if self.settings.stop_at_first_ends:
                return self._reached_first_ends()
            return idle_polls >= 2 and self.caught_up()
        except KafkaError as exc:  # the broker did not answer in time: not known to be done
            log.info("caught-up check skipped: Kafka did not answer (%s)", exc)
            return False

    def _applied_to_the_ends(self) -> bool:
        """This member holds every partition and has applied each to its end: the high watermark of the last fetch
        answer, or, for a partition whose end no fetch answer told (consumer_lag), the end the broker gives now."""
        prefix, partitions = self.settings.topic_prefix, all_partitions(self.consumer, self.settings)
        if len(self.consumer.assignment()) < len(partitions):
            return False
        fetched = consumer_lag(self.consumer, prefix, self.positions)
        if any(fetched.values()):
            return False
        if len(fetched) < len(partitions):
            asked = end_offsets(self.consumer, self.settings, STALL_CHECK_TIMEOUT_MS)
            self.asked_ends.update(asked)
            fetched = consumer_lag(self.consumer, prefix, self.positions, asked)
        return len(fetched) == len(partitions) and not any(fetched.values())

    def _reached_first_ends(self) -> bool:
        """Every partition's stored offset at the end offset first seen (asks the broker once). The database is
        asked only once this member's own partitions are there: until then the answer is no."""
        if self.first_ends is None:
            self.first_ends = end_offsets(self.consumer, self.settings)
        ends, prefix = self.first_ends, self.settings.topic_prefix
        with self.assignment_lock:
            if self.unsought:  # assigned, not yet sought: its position is not known yet
                return False
            own = dict(self.positions)
        if any(at < ends.get((logical(tp.topic, prefix), tp.partition), 0) for tp, at in own.items()):
            return False
        return reached(self._read(bookkeeping.stored_offsets), ends)

    def apply_with_retry(self, batch: Batch) -> bool:
        """Apply a batch; on any failure roll back, back off and try the same batch again.

        False when the read model was switched meanwhile: the batch is read again from the new schema's offsets.
        """
        backoff = Backoff(max_s=self.settings.max_backoff_s)
        while True:
            try:
                self.apply(batch)
                return True
            except SchemaSwitched:
                self.follow_pointer(now=True)
                self.seek_to_stored(self.consumer.assignment())
                return False
            except Exception:  # noqa: BLE001 - a valid event that failed to apply is retried, never skipped
                self.metrics.batch_failures.inc()
                if self.stopping:
                    raise SystemExit("stopped while retrying a failed batch; nothing was committed") from None
                log.exception("batch failed; retrying it")
                self._reconnect()
                backoff.wait()

    def apply(self, batch: Batch) -> None:
        """Check the pointer, dead-letter the invalid, apply the new valid events, store the offsets: one transaction."""
        started = time.perf_counter()
        with self.conn.transaction(), self.conn.cursor() as cur:
            self.check_pointer(cur)
            if self.settings.publish_dead_letters:
                self.dead_letters.send(batch.rejections, self.settings.topic_prefix)
            applied, unused = self._apply_events(cur, batch.events)
            bookkeeping.mark_applied(cur, applied)
            bookkeeping.record_rejections(cur, batch.rejections)
            bookkeeping.save_offsets(cur, batch.positions)
            if self.hold_at > 0:
                self._hold_if_reached(cur)
        seconds = time.perf_counter() - started
        skipped = len(batch.events) - len(applied) - len(unused)
        self.metrics.batch((t for _, t in applied), skipped, batch.rejections, seconds, unused)
        log.info(
            "batch applied",
            extra={
                "schema": self.schema,
                "applied": len(applied),
                "skipped": skipped,
                "unused": len(unused),
                "rejected": len(batch.rejections),
                "ms": round(seconds * 1000, 1),
            },
        )

    def _hold_if_reached(self, cur: psycopg.Cursor[DictRow]) -> None:
        """The fault tests' counted point (PROJECTOR_HOLD_AT), once per process: inside the transaction of the
        batch that brings the stored offsets to the target, before its commit, wait for SIGKILL (a crash there)
        or SIGUSR1 (go on and commit); SIGTERM or SIGINT end the hold within a second, the batch rolled back.
        The test acts when it reads the log line, not after a look at a count that the projector may have run
        past. A held live projector keeps its share lock on the read-model pointer (a shadow switch waits)."""
        row = cur.execute("SELECT coalesce(sum(next_offset), 0) AS n FROM projector_offsets").fetchone()
        if row is None or int(row["n"]) < self.hold_at:
            return
        self.hold_at = 0
        log.warning("holding before the commit", extra={"stored_offsets_would_be": int(row["n"])})
        while not self.stopping:
            if signal.sigtimedwait({signal.SIGUSR1}, 1.0) is not None:
                log.info("released; committing the held batch")
                return
        raise SystemExit("stopped while held before the commit; the batch was not committed")

    def _apply_events(
        self, cur: psycopg.Cursor[DictRow], events: list[Event]
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """Apply every used event not applied before: the (id, type) pairs applied, and the types not used.

        A catalog type the projection has no use for is skipped and counted, never retried or dead-lettered.
        """
        used = [e for e in events if self.projection.uses(e.type)]
        unused = [e.type for e in events if not self.projection.uses(e.type)] if len(used) < len(events) else []
        seen = bookkeeping.already_applied(cur, [e.id for e in used])
        fresh: list[Event] = []
        for event in used:
            if event.id not in seen:
                seen.add(event.id)
                fresh.append(event)
        if fresh:
            self.projection.apply_batch(cur, fresh)
        return [(event.id, event.type) for event in fresh], unused

    def _reconnect(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - the old connection is being thrown away
            pass
        self.conn = self._retry_db(lambda: db.connect(self.settings.database_url, self.schema))

    def caught_up(self) -> bool:
        """True when the read model has every partition of its topics applied up to the end offset.

        Checked against the offsets stored in PostgreSQL for all partitions, not only the ones
        assigned to this member: after a crash the group may still count a dead member.
        """
        return end_reached(self.consumer, self.settings, self._read(bookkeeping.stored_offsets))
