"""Publisher for internal systems: validate every event, then send it keyed by its subject.

    portal-publish --topic invoices events.jsonl [--progress]     # or python -m shared.cli.publish; '-' reads stdin
    portal-publish --topic invoices --principal billing --password-file /run/secrets/kafka-billing events.jsonl

A refused line is reported on stderr with its reason as soon as it is read, and not sent; the valid
lines are streamed to Kafka with the idempotent producer and acks=all (memory stays bounded whatever
the file's size). An event over 1 MB is refused before anything is sent for it.

Exit status: 0 every line sent; 1 some lines refused (the others were sent); 2 usage error (bad
arguments, unreadable file); 3 Kafka unavailable or did not acknowledge (the report says how many
lines were sent before that).

Kafka answers every event within the producer's delivery timeout (120 s): acknowledged, or failed. The
publisher waits a quarter longer at most (for room in its window, and for each batch at the end); a producer
silent past that is stuck (kafka-python 3's idempotent producer, once a batch expired while the broker was
away, stops expiring the others until it has a new producer id, and gets none while the broker stays away),
and the publisher reports Kafka unavailable. Once an event has failed, what is still on its way gets only
that quarter (30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from shared import config, kafka_security
from shared.cli.progress import Progress
from shared.events.catalog import InvalidEvent, load_event
from shared.events.topics import TOPICS, physical
from shared.kafka_calls import ProducerHolder

# The broker's default largest message (message.max.bytes, 1 MiB) less room for the batch header and key:
# a larger event would be refused by Kafka after the lines before it were sent.
MAX_EVENT_BYTES = 1_000_000
# Bytes sent and not yet acknowledged, at most (the publisher's memory bound, with the current line).
WINDOW_BYTES = 8 * 1024 * 1024
DELIVERY_TIMEOUT_S = 120.0  # the producer acknowledges or fails every event within this
STUCK_FACTOR = 1.25  # a producer silent this many delivery timeouts long is stuck (module doc)
EXIT_SENT, EXIT_REFUSED, EXIT_USAGE, EXIT_KAFKA = 0, 1, 2, 3


class KafkaUnavailable(Exception):
    """Kafka did not take or acknowledge the events; `report` holds what was sent before."""

    def __init__(self, cause: BaseException, report: PublishReport) -> None:
        super().__init__(str(cause))
        self.cause, self.report = cause, report


@dataclass
class PublishReport:
    """How many events were sent and which lines were refused, with why.

    `refused` lists (line number, reason) unless the caller took them one by one (`on_refused`);
    `refused_count` counts them either way.
    """

    sent: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    refused_count: int = 0
    failed: int = 0
    first_failure: BaseException | None = None


class _Window:
    """Bytes sent but not acknowledged yet, at most `limit`: the producer itself (kafka-python 3) queues
    without bound, so reading a big file faster than Kafka takes it would hold the whole file in memory."""

    def __init__(self, limit: int) -> None:
        self.limit, self.in_flight, self.acked, self.failed = limit, 0, 0, 0
        self.first_failure: BaseException | None = None
        self.cond = threading.Condition()

    def reserve(self, size: int, stuck_after_s: float) -> None:
        """Wait until `size` more bytes fit (one record always fits); KafkaTimeoutError when nothing sent was
        answered for `stuck_after_s` (the producer is stuck)."""
        with self.cond:
            deadline = time.monotonic() + stuck_after_s
            while self.in_flight and self.in_flight + size > self.limit and self.first_failure is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise KafkaTimeoutError(f"Kafka answered none of the events sent for {stuck_after_s:g} s")
                answered = self.acked + self.failed
                self.cond.wait(min(left, 1.0))
                if self.acked + self.failed != answered:
                    deadline = time.monotonic() + stuck_after_s
            self.in_flight += size

    def done(self, size: int, result: object) -> None:
        """A record's outcome (on the producer's I/O thread): metadata, or the exception."""
        with self.cond:
            self.in_flight -= size
            if isinstance(result, BaseException):
                self.failed += 1
                if self.first_failure is None:
                    self.first_failure = result
            else:
                self.acked += 1
            self.cond.notify()


class Publisher:
    """Validating, idempotent Kafka publisher for catalog events."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic_prefix: str | None = None,
        window_bytes: int = WINDOW_BYTES,
        delivery_timeout_s: float = DELIVERY_TIMEOUT_S,
    ) -> None:
        self.topic_prefix = config.get("TOPIC_PREFIX") if topic_prefix is None else topic_prefix
        self.window_bytes = window_bytes
        self.bootstrap_servers = bootstrap_servers
        if delivery_timeout_s < 2:
            raise ValueError(
                f"delivery_timeout_s must be at least 2 s (the producer's request timeout is 1 s less), got {delivery_timeout_s}"
            )
        self.delivery_timeout_s = delivery_timeout_s
        self.stuck_after_s = delivery_timeout_s * STUCK_FACTOR
        # A producer whose send failed is thrown away; the next publish gets a new one (shared.kafka_calls).
        self._producer = ProducerHolder(self._make)
        self._producer.get()  # a broker that does not answer at all fails here, before anything is read

    def _make(self) -> KafkaProducer:
        return KafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            **kafka_security.client_kwargs(),
            acks="all",
            enable_idempotence=True,
            linger_ms=10,
            batch_size=256 * 1024,
            max_block_ms=15_000,
            retries=2**31 - 1,
            delivery_timeout_ms=int(self.delivery_timeout_s * 1000),
            request_timeout_ms=min(30_000, int(self.delivery_timeout_s * 1000) - 1_000),
        )

    def publish(self, topic: str, events: Iterable[dict[str, Any]]) -> PublishReport:
        """Validate and send events (dicts) to a catalog topic; wait for acknowledgement."""
        return self.publish_lines(topic, (json.dumps(e, ensure_ascii=False) for e in events))

    def publish_lines(
        self,
        topic: str,
        lines: Iterable[str | bytes],
        on_refused: Callable[[int, str], None] | None = None,
        on_line: Callable[[int, int], None] | None = None,
    ) -> PublishReport:
        """Validate and send JSON lines, streaming; blank lines are skipped, invalid ones reported.

        `on_refused(line number, reason)` is called for each refused line as it is read (then the report
        does not keep them); `on_line(lines read, events queued)` after every line (progress).
        At most `window_bytes` wait for Kafka's acknowledgement at any time; no future is kept per line.
        Raises KafkaUnavailable when Kafka does not take or acknowledge an event.
        """
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}; one of {', '.join(TOPICS)}")
        report, target, window, queued = (
            PublishReport(),
            physical(topic, self.topic_prefix),
            _Window(self.window_bytes),
            0,
        )

        def refuse(number: int, reason: str) -> None:
            report.refused_count += 1
            if on_refused is None:
                report.refused.append((number, reason))
            else:
                on_refused(number, reason)

        try:
            producer = self._producer.get()
            for number, line in enumerate(lines, start=1):
                try:
                    value = _as_bytes(line)
                except InvalidEvent as exc:
                    refuse(number, exc.reason)
                    value = b""
                if value:
                    if len(value) > MAX_EVENT_BYTES:
                        refuse(
                            number,
                            f"event too large: {len(value):,} bytes, at most {MAX_EVENT_BYTES:,} "
                            "(the broker's largest message is 1 MB)",
                        )
                    else:
                        try:
                            event = load_event(value, topic)
                        except InvalidEvent as exc:
                            refuse(number, exc.reason)
                        else:
                            window.reserve(len(value), self.stuck_after_s)
                            if window.first_failure is not None:
                                break
                            producer.send(target, key=event.subject.encode(), value=value).add_both(
                                window.done, len(value)
                            )
                            queued += 1
                if on_line is not None:
                    on_line(number, queued)
            # Once an event has failed the publish fails anyway: what is still on its way gets the grace only.
            bound = self.stuck_after_s if window.first_failure is None else self.stuck_after_s - self.delivery_timeout_s
            try:
                producer.flush(timeout=bound)  # kafka-python: at most `bound` for each batch still on its way
            except KafkaTimeoutError:
                if window.first_failure is None:
                    raise KafkaTimeoutError(f"Kafka did not answer every event sent within {bound:g} s") from None
        except KafkaError as exc:
            report.sent, report.failed = window.acked, queued - window.acked
            self._producer.discard()
            raise KafkaUnavailable(exc, report) from exc
        report.sent, report.failed, report.first_failure = window.acked, queued - window.acked, window.first_failure
        if report.first_failure is not None:
            self._producer.discard()
            raise KafkaUnavailable(report.first_failure, report)
        return report

    def close(self, timeout: float | None = None) -> None:
        """Flush and close (waiting at most `timeout` seconds for what is queued, None: until acknowledged)."""
        self._producer.close(timeout=timeout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal-publish",
        description=__doc__.split("\n")[0],
        epilog="exit status: 0 all sent, 1 some lines refused, 2 usage error, 3 Kafka unavailable",
    )
    parser.add_argument("--topic", required=True, choices=TOPICS, help="the catalog topic the events belong on")
    parser.add_argument("file", help="JSON Lines file of CloudEvents, '-' for stdin")
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show count, rate and time left on stderr even when it is not a terminal",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress, even on a terminal")
    parser.add_argument(
        "--principal", help="the Kafka principal to publish as (default KAFKA_SASL_USERNAME), e.g. billing"
    )
    parser.add_argument(
        "--password-file", help="file holding the principal's password (default KAFKA_SASL_PASSWORD[_FILE])"
    )
    return parser


def _as_bytes(line: str | bytes) -> bytes:
    """A line as the UTF-8 bytes to send; InvalidEvent for text holding a lone surrogate, which UTF-8 cannot."""
    line = line.strip()
    if not isinstance(line, str):
        return line
    try:
        return line.encode()
    except UnicodeEncodeError as exc:
        load_event(line)  # words the refusal when a field the catalog reads holds it
        raise InvalidEvent(f"not valid UTF-8: a lone surrogate (U+{ord(line[exc.start]):04X}) cannot be sent") from None


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point (exit status in the module's doc)."""
    args = _parser().parse_args(argv)  # a usage error exits 2
    if args.principal:  # the credentials of one producing system, from a file (never on the command line)
        os.environ["KAFKA_SASL_USERNAME"] = args.principal
    if args.password_file:
        os.environ.pop("KAFKA_SASL_PASSWORD", None)
        os.environ["KAFKA_SASL_PASSWORD_FILE"] = args.password_file
    try:
        handle: IO[bytes] = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    show = (args.progress or sys.stderr.isatty()) and not args.quiet
    try:
        return _publish_file(args.topic, handle, show)
    except KafkaUnavailable as exc:
        print(
            f"error: Kafka did not accept the events ({exc.cause!r}); is the broker up and the topic created "
            f"(portal-admin create-topics)? {exc.report.sent} sent before that.",
            file=sys.stderr,
        )
        return EXIT_KAFKA
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _publish_file(topic: str, handle: IO[bytes], show_progress: bool) -> int:
    """Publish one open file; refused lines and progress on stderr, the summary on stdout."""
    try:
        size = os.fstat(handle.fileno()).st_size if handle.seekable() else 0
    except (OSError, ValueError):
        size = 0
    progress = Progress(f"publishing to {topic}", enabled=show_progress)
    refused_so_far = 0

    def refused(number: int, reason: str) -> None:
        nonlocal refused_so_far
        refused_so_far += 1
        print(f"line {number}: refused: {reason}", file=sys.stderr)

    def on_line(number: int, queued: int) -> None:
        if number % 512 == 0:  # the file position is cheap, but not free
            progress.update(number, handle.tell() / size if size else None, f"{refused_so_far} refused")

    try:
        publisher = Publisher(config.get("KAFKA_BOOTSTRAP_SERVERS"))
    except KafkaError as exc:
        raise KafkaUnavailable(exc, PublishReport()) from exc
    try:
        report = publisher.publish_lines(topic, handle, on_refused=refused, on_line=on_line if show_progress else None)
    except KafkaUnavailable:
        publisher.close(timeout=5)  # what is still queued will not be acknowledged either
        raise
    publisher.close()
    progress.finish(report.sent + report.refused_count, f"{report.refused_count} refused")
    print(f"{report.sent} sent to {topic}, {report.refused_count} refused")
    return EXIT_SENT if not report.refused_count else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
