"""Benchmark 1: load the topics, then rebuild each read model from scratch against a bare consumer."""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.dataset import SUBJECT, DataSet
from bench.infra import ROOT, BenchSystem, Scope, children, peak_rss_mb, start_system
from shared import kafka_security
from shared.events.topics import physical
from tests.support.procs import spawn

SERVICE_TOPICS = {
    "contracts": ["contracts"],
    "ledger": ["invoices", "payments", "license-codes"],
    "tickets": ["support-calls"],
    "quota": ["invoices", "support-calls", "contracts"],
}


def publish(scope: Scope, data: DataSet) -> tuple[int, float]:
    """Send every event of the data set, keyed by its subject, with large batches; (events, seconds)."""
    producer = KafkaProducer(
        bootstrap_servers=scope.bootstrap,
        **kafka_security.client_kwargs(),
        acks=1,
        linger_ms=50,
        batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    sent, started = 0, time.perf_counter()
    try:
        for topic in data.counts():
            name = physical(topic, scope.prefix)
            with data.topic_file(topic).open("rb") as handle:
                for line in handle:
                    key = SUBJECT.search(line.decode()).group(1).encode()
                    producer.send(name, key=key, value=line.rstrip(b"\n"))
                    sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent, time.perf_counter() - started


def end_offsets(scope: Scope, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=scope.bootstrap, **kafka_security.client_kwargs())
    try:
        parts = [
            TopicPartition(physical(t, scope.prefix), p)
            for t in topics
            for p in consumer.partitions_for_topic(physical(t, scope.prefix)) or ()
        ]
        return consumer.end_offsets(parts)
    finally:
        consumer.close()


def bare_consume(scope: Scope, topics: list[str], batch_size: int) -> tuple[int, float]:
    """Read the topics from the beginning with kafka-python and json.loads every value; (events, seconds)."""
    ends = end_offsets(scope, topics)
    started = time.perf_counter()
    consumer = KafkaConsumer(
        bootstrap_servers=scope.bootstrap,
        **kafka_security.client_kwargs(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_size,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=1024 * 1024,
    )  # as the projectors
    consumer.assign(list(ends))
    consumer.seek_to_beginning()
    remaining = {tp for tp, end in ends.items() if end > 0}
    count = 0
    started = time.perf_counter()  # like the projector's figure: from assignment to the last record
    try:
        while remaining:
            for tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    json.loads(record.value)
                    count += 1
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        consumer.close()
    return count, time.perf_counter() - started


STALL_S = 60


class Stalled(RuntimeError):
    """The projector stopped making progress before it caught up."""


@dataclass
class Rebuild:
    """A timed rebuild: `seconds` from the partitions' assignment to the last batch; `wall` from process start;
    `cpu` the user and system seconds of the projector's process and its members, start-up included."""

    service: str
    events: int
    seconds: float
    wall: float
    peak_rss_mb: float
    disturbed: bool = False
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def wall_rate(self) -> float:
        return self.events / self.wall

    @property
    def cpu_per_event_us(self) -> float:
        return self.cpu / self.events * 1e6


def _consuming_seconds(log: Path) -> tuple[float, bool]:
    """Seconds from the partitions' assignment to the last applied batch, from the projector's JSON log;
    and whether the broker was lost meanwhile (another user restarting it: the figure is not comparable)."""
    assigned = last = None
    disturbed = False
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        disturbed = disturbed or "Connection lost" in entry.get("msg", "")
        stamp = datetime.fromisoformat(entry.get("ts", "").replace("Z", "+00:00")) if entry.get("ts") else None
        if entry.get("msg", "").startswith("assigned [(") and last is None:
            assigned = stamp
        elif entry.get("msg") == "batch applied":
            last = stamp
    if assigned is None or last is None:
        raise RuntimeError(f"no assignment or batch in {log}")
    return max((last - assigned).total_seconds(), 0.001), disturbed


def rebuild(scope: Scope, service: str, attempt: str, source: Path = ROOT, processes: int = 1) -> Rebuild:
    """`python -m services.X.projector --until-caught-up` (code from `source`) on a fresh database and group, timed;
    with `processes` > 1, `--processes N`: that many members of the group share the partitions."""
    events = sum(end_offsets(scope, SERVICE_TOPICS[service]).values())
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "TOPIC_PREFIX": scope.prefix,
        "KAFKA_BOOTSTRAP_SERVERS": scope.bootstrap,
        f"{service.upper()}_DATABASE_URL": scope.database(service, fresh=True),
        "CONSUMER_GROUP": f"{scope.prefix}{service}-rebuild-{attempt}",
    }
    log = ROOT / ".run" / "bench-logs"
    log.mkdir(parents=True, exist_ok=True)
    path = log / f"{service}-rebuild-{scope.run_id}-{attempt}.log"
    path.write_bytes(b"")
    started, children_cpu = time.perf_counter(), _children_cpu()
    command = ["-m", f"services.{service}.projector", "--until-caught-up"]
    proc = spawn(command + (["--processes", str(processes)] if processes > 1 else []), env, path, cwd=source)
    peak, size, progressed = 0.0, 0, time.monotonic()
    while proc.poll() is None:
        members = children(proc.pid) if processes > 1 else []
        peak = max(peak, *(peak_rss_mb(pid) or 0.0 for pid in [proc.pid, *members]))  # the largest process
        if path.stat().st_size != size:
            size, progressed = path.stat().st_size, time.monotonic()
        elif time.monotonic() - progressed > STALL_S:
            proc.kill()
            proc.wait()
            raise Stalled(f"{service} projector made no progress for {STALL_S}s; see {path}")
        time.sleep(0.2)
    wall, cpu = time.perf_counter() - started, _children_cpu() - children_cpu
    if proc.returncode != 0:
        raise RuntimeError(f"{service} projector failed ({proc.returncode}); see {path}")
    seconds, disturbed = _consuming_seconds(path)
    return Rebuild(service, events, seconds, wall, peak, disturbed, cpu)


def _children_cpu() -> float:
    """User and system seconds of this process's children that have ended and been waited for (their own waited
    children included): around a rebuild, the projector's, since the benchmark runs no other child meanwhile."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rebuild_retrying(scope: Scope, service: str, attempt: str, source: Path = ROOT, processes: int = 1) -> Rebuild:
    """A rebuild; one more try (new group, fresh database) if the projector failed or stalled, as kafka-python 3
    can when a group rebalance meets a metadata refresh while other topics are being deleted on the broker."""
    try:
        return rebuild(scope, service, attempt, source, processes)
    except (Stalled, RuntimeError) as exc:  # also a broker restarted under us by another user of the machine
        print(f"  {exc}; retrying", flush=True)
        return rebuild(scope, service, attempt + "-retry", source, processes)


def rejected(scope: Scope, service: str) -> int:
    """Events the rebuilt read model refused (must be 0 for generated data)."""
    import psycopg

    with psycopg.connect(scope.database(service)) as conn:
        return conn.execute("SELECT count(*) FROM readmodel.rejected_events").fetchone()[0]


@contextmanager
def small_system(data: DataSet, tag: str) -> Iterator[BenchSystem]:
    """The whole system on `data`, on topics and databases of its own: every read model rebuilt by this tree, then
    projectors, APIs and gateway as the stack runs them; all stopped and removed at the end."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    scope = Scope(bootstrap, os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/postgres"))
    try:
        scope.make_topics()
        publish(scope, data)
        for service in SERVICE_TOPICS:
            rebuild_retrying(scope, service, tag)
        system = start_system(scope, ROOT / ".run" / "bench-logs" / f"{scope.run_id}-{tag}", 200, (2, 4), (2, 8))
        try:
            yield system
        finally:
            system.shutdown()
    finally:
        scope.close()
