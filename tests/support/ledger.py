"""The ledger service's real projector under load: event loads with a hand-computed oracle, the
projector as a process, and read-model snapshots to compare with a clean rebuild.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from psycopg import sql

from shared import kafka_security
from shared.events.publisher import Publisher
from shared.readmodel import connections as db
from tests.support.events import envelope
from tests.support.procs import projector_env, spawn, wait_for

# Read-model tables of the ledger and the key of each (`arrival` is a bookkeeping serial).
TABLES = {
    "invoice": "invoice_number",
    "invoice_cancellation": "invoice_number",
    "payment": "payment_id",
    "refund": "refund_id",
    "license_code": "event_id",
}
TOPIC_OF = {
    "invoice": "invoices",
    "cancellation": "invoices",
    "payment": "payments",
    "refund": "payments",
    "codes": "license-codes",
}
DAY0 = date(2026, 1, 1)


@dataclass
class Load:
    """Events per topic in publish order, and what the read model must hold after them (by hand)."""

    events: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {t: [] for t in sorted(set(TOPIC_OF.values()))}
    )
    expected: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in TABLES})
    ids: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        """Messages in the load (repeats included)."""
        return sum(len(v) for v in self.events.values())

    def split(self) -> tuple[Load, Load]:
        """The first and the second half of every topic's events, as loads (the oracle stays the whole load's)."""
        halves = (Load(expected=self.expected, ids=self.ids), Load(expected=self.expected, ids=self.ids))
        for topic, events in self.events.items():
            middle = len(events) // 2
            halves[0].events[topic], halves[1].events[topic] = events[:middle], events[middle:]
        return halves

    def payments_by_customer(self) -> dict[str, tuple[int, int]]:
        """(sum of amounts, number of events) of payment.* per customer: what the counting projection holds."""
        totals: dict[str, tuple[int, int]] = {}
        seen: set[str] = set()
        for event in self.events["payments"]:
            if event["id"] in seen:
                continue
            seen.add(event["id"])
            sign = 1 if event["type"] == "payment.received" else -1
            total, count = totals.get(event["subject"], (0, 0))
            totals[event["subject"]] = (total + sign * event["data"]["amount"], count + 1)
        return totals


def make_load(count: int, customers: int = 200, seed: int = 1) -> Load:
    """`count` ledger events over `customers` customers: invoices (some re-issued under the same number),
    cancellations (some before their invoice), payments, refunds, license codes, and exact repeats."""
    rng, load = random.Random(seed), Load()
    codes = [f"L{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}" for _ in range(customers)]
    invoices: dict[str, list[str]] = {c: [] for c in codes}
    while load.count < count:
        customer, roll = rng.choice(codes), rng.random()
        if roll < 0.03 and load.count:
            topic = rng.choice([t for t, v in load.events.items() if v])
            _add(load, topic, rng.choice(load.events[topic]))  # the same event again (same id)
        elif roll < 0.35:
            number = (
                rng.choice(invoices[customer])
                if invoices[customer] and rng.random() < 0.1
                else f"{customer}-I{len(invoices[customer]) + 1}"
            )
            if number not in invoices[customer]:
                invoices[customer].append(number)
            _invoice(load, rng, customer, number)
        elif roll < 0.45:
            number = (
                rng.choice(invoices[customer])
                if invoices[customer] and rng.random() < 0.9
                else f"{customer}-I{len(invoices[customer]) + 1}"
            )
            _document(
                load,
                "cancellation",
                customer,
                number,
                {
                    "invoice_number": number,
                    "customer_code": customer,
                    "cancelled_on": _day(rng),
                    "reason": rng.choice(["hibás", "storno", "duplikált"]),
                },
            )
        elif roll < 0.80:
            pid = f"{customer}-P{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}"
            _document(
                load,
                "payment",
                customer,
                pid,
                {
                    "payment_id": pid,
                    "customer_code": customer,
                    "received_on": _day(rng),
                    "amount": rng.randint(1, 500_000),
                    "method": rng.choice(["bank_transfer", "cash", "card", "offset"]),
                    "reference": rng.choice(invoices[customer] or [f"{customer}-X"]),
                },
            )
        elif roll < 0.87:
            rid = f"{customer}-R{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}"
            _document(
                load,
                "refund",
                customer,
                rid,
                {
                    "refund_id": rid,
                    "customer_code": customer,
                    "refunded_on": _day(rng),
                    "amount": rng.randint(1, 50_000),
                },
            )
        else:
            serial = f"{customer}-{rng.randint(1, 3)}"
            start = DAY0 + timedelta(days=rng.randint(0, 300))
            _document(
                load,
                "codes",
                customer,
                None,
                {
                    "customer_code": customer,
                    "serial_number": serial,
                    "valid_from": start.isoformat(),
                    "valid_until": (start + timedelta(days=365)).isoformat(),
                    "rental_code": rng.choice([None, f"R-{rng.randint(1000, 9999)}"]),
                    "internet_code": f"NET-{rng.randint(100000, 999999)}",
                },
            )
    return load


def _day(rng: random.Random) -> str:
    return (DAY0 + timedelta(days=rng.randint(0, 360))).isoformat()


def _invoice(load: Load, rng: random.Random, customer: str, number: str) -> None:
    gross = rng.randint(1_000, 900_000)
    net = round(gross / 1.27)
    issued = DAY0 + timedelta(days=rng.randint(0, 330))
    data = {
        "invoice_number": number,
        "customer_code": customer,
        "issued_on": issued.isoformat(),
        "due_on": (issued + timedelta(days=15)).isoformat(),
        "kind": "other",
        "description": f"Tétel {number} – díj",
        "net_amount": net,
        "vat_amount": gross - net,
        "gross_amount": gross,
        "currency": "HUF",
    }
    if rng.random() < 0.5:
        data["serial_number"] = f"{customer}-1"
    _document(load, "invoice", customer, number, data)


EVENT_TYPES = {
    "invoice": "invoice.issued",
    "cancellation": "invoice.cancelled",
    "payment": "payment.received",
    "refund": "payment.refunded",
    "codes": "license.codes_issued",
}
TABLE_OF = {
    "invoice": "invoice",
    "cancellation": "invoice_cancellation",
    "payment": "payment",
    "refund": "refund",
    "codes": "license_code",
}
DEFAULTS = {"invoice": {"serial_number": None}, "cancellation": {"reason": None}, "payment": {"reference": None}}


def _document(load: Load, kind: str, customer: str, key: str | None, data: dict[str, Any]) -> None:
    """Add one new event and apply it to the oracle as the ledger must: the later fact of a key wins."""
    event = envelope(EVENT_TYPES[kind], customer, data, time=f"{DAY0.isoformat()}T09:00:00Z")
    _add(load, TOPIC_OF[kind], event)
    row = {**DEFAULTS.get(kind, {}), **data}
    if kind == "codes":
        key, row = event["id"], {**data, "event_id": event["id"]}
    load.expected[TABLE_OF[kind]][key] = row


def _add(load: Load, topic: str, event: dict[str, Any]) -> None:
    load.events[topic].append(event)
    load.ids.add(event["id"])


def publish_load(bootstrap: str, prefix: str, load: Load, chunk: int = 2000) -> int:
    """Publish a load through the validating publisher, in chunks; returns the number acknowledged."""
    publisher = Publisher(bootstrap, prefix)
    sent = 0
    try:
        for topic, events in load.events.items():
            for start in range(0, len(events), chunk):
                report = publisher.publish(topic, events[start : start + chunk])
                assert report.refused == [], report.refused[:3]
                sent += report.sent
    finally:
        publisher.close()
    return sent


class Background(threading.Thread):
    """Runs a function in a thread and re-raises its exception on join()."""

    def __init__(self, target, *args: Any) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.function, self.args, self.error, self.result = target, args, None, None

    def run(self) -> None:
        try:
            self.result = self.function(*self.args)
        except BaseException as exc:  # noqa: BLE001 - handed to the joining thread
            self.error = exc

    def join(self, timeout: float | None = None) -> Any:
        super().join(timeout)
        assert not self.is_alive(), "background work did not finish in time"
        if self.error is not None:
            raise self.error
        return self.result


# ---- the projector as a process -------------------------------------------------------------------


def ledger_env(database_url: str, prefix: str, group: str, **extra: str) -> dict[str, str]:
    """Environment of a real ledger projector on a test database, topic prefix and consumer group."""
    return projector_env(
        database_url,
        prefix,
        group,
        LEDGER_DATABASE_URL=database_url,
        PROJECTOR_POLL_TIMEOUT_MS="100",
        LOG_LEVEL="INFO",
        **extra,
    )


def start_projector(
    env: dict[str, str], *args: str, log: Path | None = None, module: str = "services.ledger.projector"
) -> subprocess.Popen:
    """Start a projector process; its log lines go to `log` (appended) when given."""
    return spawn(["-m", module, *args], env, log, new_session=True)


HOLDING = '"msg": "holding before the commit"'  # the projector's log line (shared/projection/runner.py)


def kill_inside_batch(
    env: dict[str, str], goal: int, database_url: str, log: Path, module: str = "services.ledger.projector"
) -> int:
    """Start a projector that holds inside the transaction of the batch that would bring its stored offsets to
    `goal` (PROJECTOR_HOLD_AT), SIGKILL it there, and return the stored offsets it left (below `goal`).

    The kill lands at a counted point, mid-batch, however loaded the machine is: the projector cannot run
    ahead of the test between a look at its progress and the kill.
    """
    assert progress(database_url) < goal, "the stored offsets are past the goal already"
    held_before = log.read_text(errors="replace").count(HOLDING) if log.exists() else 0
    proc = start_projector({**env, "PROJECTOR_HOLD_AT": str(goal)}, log=log, module=module)
    try:
        wait_for(
            lambda: log.read_text(errors="replace").count(HOLDING) > held_before or proc.poll() is not None,
            timeout=300,
            interval=0.05,
        )
        assert proc.poll() is None, "the projector died on its own"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    return progress(database_url)


def run_until_caught_up(
    env: dict[str, str], timeout: float = 300, log: Path | None = None, module: str = "services.ledger.projector"
) -> None:
    """Run a projector with --until-caught-up and check it exits 0."""
    proc = start_projector(env, "--until-caught-up", log=log, module=module)
    try:
        code = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    assert code == 0, f"projector exited {code}\n{tail}"


# ---- reading the read model ---------------------------------------------------------------------


def progress(database_url: str) -> int:
    """Messages consumed so far (sum of stored next offsets); 0 before the projector made its tables."""
    try:
        with db.connect(database_url) as conn:
            row = conn.execute("SELECT coalesce(sum(next_offset), 0) AS n FROM projector_offsets").fetchone()
            return int(row["n"])
    except Exception:  # noqa: BLE001 - table not there yet
        return 0


def lag(bootstrap: str, prefix: str, database_url: str, topics: list[str] | None = None) -> dict[str, int]:
    """Messages not yet applied per topic: end offsets on the broker minus the offsets stored with the read model."""
    topics = topics or sorted(set(TOPIC_OF.values()))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **kafka_security.client_kwargs(), enable_auto_commit=False)
    try:
        parts = [
            TopicPartition(f"{prefix}{t}", p) for t in topics for p in consumer.partitions_for_topic(f"{prefix}{t}")
        ]
        ends = consumer.end_offsets(parts)
    finally:
        consumer.close()
    with db.connect(database_url) as conn:
        stored = {
            (r["topic"], r["partition"]): r["next_offset"]
            for r in conn.execute("SELECT topic, partition, next_offset FROM projector_offsets")
        }
    behind = dict.fromkeys(topics, 0)
    for tp, end in ends.items():
        topic = tp.topic[len(prefix) :]
        behind[topic] += end - stored.get((topic, tp.partition), 0)
    return behind


def snapshot(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every ledger table ordered by its key, `arrival` replaced by its rank within the customer (the only
    meaning it has: which fact of one customer came later), plus the runtime's bookkeeping."""
    result: dict[str, list[dict[str, Any]]] = {}
    with db.connect(database_url) as conn:
        for table, key in TABLES.items():
            query = sql.SQL(
                "SELECT *, rank() OVER (PARTITION BY customer_code ORDER BY arrival) AS arrival_rank "
                "FROM {} ORDER BY {}"
            ).format(sql.Identifier(table), sql.Identifier(key))
            result[table] = [{k: v for k, v in row.items() if k != "arrival"} for row in conn.execute(query)]
        result.update(bookkeeping(conn))
    return result


def bookkeeping(conn: Any) -> dict[str, list[dict[str, Any]]]:
    """The runtime's tables of a read model (applied ids, counters, rejections, offsets), each in a fixed order."""
    return {
        "applied_events": conn.execute("SELECT event_id, event_type FROM applied_events ORDER BY event_id").fetchall(),
        "projection_counters": conn.execute(
            "SELECT event_type, applied, rejected FROM projection_counters ORDER BY event_type"
        ).fetchall(),
        "rejected_events": conn.execute(
            'SELECT topic, partition, "offset", event_key, event_id, event_type, reason, value '
            'FROM rejected_events ORDER BY topic, partition, "offset"'
        ).fetchall(),
        "projector_offsets": conn.execute(
            "SELECT topic, partition, next_offset FROM projector_offsets ORDER BY topic, partition"
        ).fetchall(),
    }


def as_expected(load: Load, database_url: str) -> dict[str, list[dict[str, Any]]]:
    """The read model's rows (without bookkeeping), in the oracle's shape, to compare with `load.expected`."""
    found: dict[str, list[dict[str, Any]]] = {}
    with db.connect(database_url) as conn:
        for table, key in TABLES.items():
            rows = conn.execute(
                sql.SQL("SELECT * FROM {} ORDER BY {}").format(sql.Identifier(table), sql.Identifier(key))
            ).fetchall()
            found[table] = [{k: _plain(v) for k, v in r.items() if k != "arrival"} for r in rows]
    return found


def expected_rows(load: Load) -> dict[str, list[dict[str, Any]]]:
    """The oracle's rows, ordered like `as_expected`."""
    return {table: [load.expected[table][k] for k in sorted(load.expected[table])] for table in TABLES}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def assert_same(actual: dict[str, list], expected: dict[str, list], message: str = "") -> None:
    """Two snapshots are equal; otherwise say where they differ first."""
    assert actual == expected, f"{message}\n{diff(actual, expected)}".strip()


def diff(left: dict[str, list], right: dict[str, list]) -> str:
    """A short description of where two snapshots differ ('' when equal)."""
    lines = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table, []), right.get(table, [])
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            lines.append(
                f"{table}: {len(a)} vs {len(b)} rows; first difference at {first}: "
                f"{_short(a[first] if first < len(a) else None)} vs {_short(b[first] if first < len(b) else None)}"
            )
    return "\n".join(lines)


def _short(row: Any, limit: int = 400) -> str:
    text = repr(row)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
