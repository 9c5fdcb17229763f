"""The benchmark data set: the demo generator's shape at a chosen event and customer count, cached on disk.

The demo generator gives every customer about three years of history (~65 events). To reach a
given events-per-customer ratio (the issue asks for 1,000,000 events over 100,000 customers) the
first customers get the full demo history ("active" customers, the fixed awkward cases first)
and the rest are "quiet" customers with only their `contract.signed`. Queries are measured on
active customers, whose histories are what a query has to read.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from demo.contracts import customer_facts, price_list_fact
from demo.customers import new_customer, plan_ordinary
from demo.envelope import TOPICS, assemble
from demo.generator import build_timeline, histories, history_facts, plan_range

CHUNK = 250  # customers per generation task
SUBJECT = re.compile(r'"subject": "([^"]*)"')


@dataclass(frozen=True)
class DataSet:
    """A generated data set on disk: one JSONL file per topic and the active customers' logins."""

    path: Path
    events: int
    customers: int
    active: int

    def topic_file(self, topic: str) -> Path:
        return self.path / f"{topic}.jsonl"

    def logins(self) -> list[dict]:
        """customer_code, serial_number, password (or None) of every active customer with a serial today."""
        return json.loads((self.path / "logins.json").read_text())

    def counts(self) -> dict[str, int]:
        return json.loads((self.path / "counts.json").read_text())


def _suffix(chunk: int, items: list, attribute: str) -> None:
    """Make generator ids unique across chunks (each chunk numbers from 1)."""
    for item in items:
        setattr(item, attribute, f"{getattr(item, attribute)}-K{chunk}")


def _active_chunk(args: tuple[int, int, int, date]) -> tuple[list[tuple[str, str, str]], list[dict]]:
    """Events (topic, subject, line) and logins of active customers chunk*CHUNK .. +CHUNK, like generate()."""
    chunk, last, seed, today = args
    timeline = build_timeline(today)
    plans = plan_range(chunk * CHUNK, min((chunk + 1) * CHUNK, last), seed, timeline)
    history = histories(plans, timeline, lambda items, attribute: _suffix(chunk, items, attribute))
    facts = [price_list_fact(p) for p in timeline.price_lists] if chunk == 0 else []
    facts += history_facts(plans, timeline, *history)
    topics = assemble(facts, f"bench/seed={seed}/chunk={chunk}/today={today.isoformat()}")
    lines = [(t, e["subject"], json.dumps(e, ensure_ascii=False)) for t, events in topics.items() for e in events]
    logins = [
        {"customer_code": c.code, "serial_number": c.login_serial(today), "password": c.password}
        for c in plans
        if c.login_serial(today)
    ]
    return lines, logins


def _quiet_chunk(args: tuple[int, int, int, date]) -> list[tuple[str, str, str]]:
    """Only the `contract.signed` of quiet customers first .. last-1."""
    first, last, seed, today = args
    timeline = build_timeline(today)
    facts = []
    for number in range(1001 + first, 1001 + last):
        customer = new_customer(number, seed)
        plan_ordinary(customer, timeline)
        facts += [f for f in customer_facts(customer) if f.type == "contract.signed"][:1]
    topics = assemble(facts, f"bench/seed={seed}/quiet={first}/today={today.isoformat()}")
    return [(t, e["subject"], json.dumps(e, ensure_ascii=False)) for t, events in topics.items() for e in events]


def _number(subject: str) -> int:
    return int(subject[1:]) if subject.startswith("C") and subject[1:].isdigit() else 0


def generate(out: Path, events: int, customers: int, seed: int, today: date, workers: int = 2) -> DataSet:
    """Write the data set: active customers until the rest (one event each) completes the event count."""
    out.mkdir(parents=True, exist_ok=True)
    files = {t: (out / f"{t}.jsonl").open("w", encoding="utf-8") for t in TOPICS}
    logins: list[dict] = []
    written, active = 0, 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        tasks = ((k, customers, seed, today) for k in range(customers // CHUNK + 1))
        for lines, chunk_logins in pool.imap(_active_chunk, tasks):
            per_customer: dict[int, int] = {}
            for _, subject, _ in lines:
                per_customer[_number(subject)] = per_customer.get(_number(subject), 0) + 1
            cutoff = None
            for number in sorted(n for n in per_customer if n):
                if written + per_customer[number] + (customers - active - 1) > events or active >= customers:
                    cutoff = number
                    break
                written += per_customer[number]
                active += 1
            kept = [x for x in lines if cutoff is None or _number(x[1]) < cutoff]
            written += sum(1 for x in kept if not _number(x[1]))  # the price lists
            for topic, _, line in kept:
                files[topic].write(line + "\n")
            logins += [row for row in chunk_logins if cutoff is None or _number(row["customer_code"]) < cutoff]
            if cutoff is not None:
                break
        pool.terminate()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        bounds = [(s, min(s + 2000, customers), seed, today) for s in range(active, customers, 2000)]
        for lines in pool.imap(_quiet_chunk, bounds):
            for topic, _, line in lines:
                files[topic].write(line + "\n")
            written += len(lines)
    for handle in files.values():
        handle.close()
    counts = {t: sum(1 for _ in (out / f"{t}.jsonl").open(encoding="utf-8")) for t in TOPICS}
    (out / "counts.json").write_text(json.dumps(counts))
    (out / "logins.json").write_text(json.dumps(logins))
    meta = {
        "events": sum(counts.values()),
        "customers": customers,
        "active": active,
        "seed": seed,
        "today": today.isoformat(),
    }
    (out / "meta.json").write_text(json.dumps(meta))
    return DataSet(out, meta["events"], customers, active)


def cached(cache_dir: Path, events: int, customers: int, seed: int, today: date) -> DataSet:
    """The data set for these sizes, generated once and kept under cache_dir."""
    path = cache_dir / f"e{events}-c{customers}-s{seed}-{today.isoformat()}"
    meta = path / "meta.json"
    if meta.exists():
        info = json.loads(meta.read_text())
        return DataSet(path, info["events"], info["customers"], info["active"])
    tmp = path.with_name(path.name + ".tmp")
    data = generate(tmp, events, customers, seed, today)
    tmp.rename(path)
    return DataSet(path, data.events, data.customers, data.active)
