"""`python -m bench.publisher`: the publisher CLI on 1,000,000 events: peak memory and rate.

Writes a file of synthetic valid `payment.received` events (fixed seed), runs `python -m shared.cli.publish`
on it as its own process against the local Kafka (a topic prefix of its own, deleted afterwards),
reads the child's peak RSS from getrusage and checks that every event reached the topic. Prints the
figures, writes them to bench/results/<date>-publisher.json and regenerates docs/performance.md from the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from bench import report
from shared import kafka_security
from shared.cli.admin import create_topics, delete_topics

ROOT = Path(__file__).resolve().parents[1]
MODULE = "shared.events.publisher"  # the publisher CLI (`python -m shared.cli.publish` runs the same)
LIMIT_MB = 100


def write_events(path: Path, count: int, seed: int) -> int:
    """`count` valid payment.received lines, one customer in a thousand; returns the file's size."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            customer = f"C{rng.randrange(1000, 100_000)}"
            event = {
                "specversion": "1.0",
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "source": "bank",
                "type": "payment.received",
                "time": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T09:15:00Z",
                "subject": customer,
                "datacontenttype": "application/json",
                "data": {
                    "payment_id": f"B-{i}",
                    "customer_code": customer,
                    "received_on": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "amount": rng.randrange(1_000, 500_000),
                    "method": "bank_transfer",
                    "reference": f"SZ-2026-{i:07d}",
                },
            }
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    return path.stat().st_size


def messages_in(bootstrap: str, topic: str) -> int:
    """Messages in a topic: the sum of its partitions' end offsets (the topic is new)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **kafka_security.client_kwargs())
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def run(bootstrap: str, events: int, seed: int, workdir: Path) -> dict:
    """Generate, publish as a child process, measure."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "payments.jsonl"
    print(f"writing {events:,} events to {path}", flush=True)
    size = write_events(path, events, seed)
    prefix = f"benchpub{uuid.uuid4().hex[:8]}."
    create_topics(bootstrap, 3, prefix)
    try:
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "TOPIC_PREFIX": prefix}
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", MODULE, "--topic", "payments", "--progress", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux: the largest child
        if proc.returncode != 0:
            raise SystemExit(f"the publisher exited {proc.returncode}: {proc.stderr[-2000:]}")
        arrived = messages_in(bootstrap, f"{prefix}payments")
    finally:
        delete_topics(bootstrap, prefix)
        path.unlink(missing_ok=True)
    return {
        "events": events,
        "file_mb": size / 1e6,
        "seconds": seconds,
        "rate": events / seconds,
        "peak_rss_mb": peak_kb / 1024,
        "arrived": arrived,
        "summary": proc.stdout.strip(),
        "progress": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.publisher", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "performance.md",
        help="the page to write the figures into ('-': print only)",
    )
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    result = run(bootstrap, args.events, args.seed, ROOT / ".run" / "bench")
    result.update(
        kind="publisher", id="1m" if args.events == 1_000_000 else str(args.events), module=MODULE, limit_mb=LIMIT_MB
    )
    result["when"] = result.pop("date")
    print("\n".join(report.publisher_section(result)))
    if str(args.out) != "-":
        print(f"results in {report.save(report.RESULTS, 'publisher', result)}")
        report.write_doc(args.out)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
