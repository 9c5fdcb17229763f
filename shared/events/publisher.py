"""Publisher for internal systems: validate every event, then send it keyed by its subject.

    python -m shared.cli.publish --topic invoices events.jsonl     # '-' reads stdin

A refused line is reported with its reason and not sent; the valid lines are sent with
the idempotent producer and acks=all. Exit status 0 when every line was sent, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError

from shared import config
from shared.events.catalog import InvalidEvent, decode, validate_event
from shared.events.topics import TOPICS, physical


@dataclass
class PublishReport:
    """How many events were sent and which lines were refused, with why."""

    sent: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


class Publisher:
    """Validating, idempotent Kafka publisher for catalog events."""

    def __init__(self, bootstrap_servers: str, topic_prefix: str | None = None) -> None:
        self.topic_prefix = config.get("TOPIC_PREFIX") if topic_prefix is None else topic_prefix
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True,
            linger_ms=10, batch_size=256 * 1024, max_block_ms=15_000, retries=2**31 - 1, delivery_timeout_ms=120_000,
        )

    def publish(self, topic: str, events: Iterable[dict[str, Any]]) -> PublishReport:
        """Validate and send events (dicts) to a catalog topic; wait for acknowledgement."""
        return self.publish_lines(topic, (json.dumps(e, ensure_ascii=False) for e in events))

    def publish_lines(self, topic: str, lines: Iterable[str]) -> PublishReport:
        """Validate and send JSON lines; blank lines are skipped, invalid ones reported."""
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}; one of {', '.join(TOPICS)}")
        report, futures = PublishReport(), []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = validate_event(decode(line), topic)
            except InvalidEvent as exc:
                report.refused.append((number, exc.reason))
                continue
            futures.append(self.producer.send(physical(topic, self.topic_prefix),
                                              key=event.subject.encode(), value=line.strip().encode()))
        self.producer.flush()
        for future in futures:
            future.get(timeout=120)
            report.sent += 1
        return report

    def close(self) -> None:
        """Flush and close."""
        self.producer.close()


def _open(path: str) -> TextIO:
    return sys.stdin if path == "-" else open(path, encoding="utf-8")


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m shared.cli.publish", description=__doc__.split("\n")[0])
    parser.add_argument("--topic", required=True, choices=TOPICS)
    parser.add_argument("file", help="JSON Lines file of CloudEvents, '-' for stdin")
    args = parser.parse_args(argv)
    try:
        return _publish_file(args.topic, args.file)
    except KafkaTimeoutError as exc:
        print(f"error: Kafka did not accept the events ({exc}); is the broker up and the topic created "
              "(python -m shared.cli.admin create-topics)?", file=sys.stderr)
        return 2


def _publish_file(topic: str, path: str) -> int:
    """Publish one file and print the report."""
    publisher = Publisher(config.get("KAFKA_BOOTSTRAP_SERVERS"))
    try:
        with _open(path) as handle:
            report = publisher.publish_lines(topic, handle)
    finally:
        publisher.close()
    for number, reason in report.refused:
        print(f"line {number}: refused: {reason}", file=sys.stderr)
    print(f"{report.sent} sent to {topic}, {len(report.refused)} refused")
    return 0 if not report.refused else 1


if __name__ == "__main__":
    sys.exit(main())
