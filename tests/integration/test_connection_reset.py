"""A connection reset while a client connects (a broker dying) does not stop the client's metadata refreshes.

Seen in the three-broker leader-kill test: the publisher's producer reconnected to the broker being killed, the
socket was reset before its TLS wrapper was in place, and the bare ConnectionResetError failed the metadata
refresh waiting on that connection. kafka-python's refresh loop survives only Kafka errors, so it ended; the
producer never learnt the new leader and its batch expired after 120 s. shared/kafka_calls.py turns such an error
into a KafkaConnectionError.

The reset is forced where the real one was raised: building the new connection's transport, once, on the
publisher's own client; everything else is the real broker. Once that refresh has failed (kafka-python logs it),
the publisher has to learn a topic it has not sent to yet, which only a later metadata refresh can tell it.
"""

from __future__ import annotations

import errno
import json
import logging
import threading
import time
from datetime import date

from kafka.errors import KafkaConnectionError
from kafka.net.manager import KafkaConnectionManager

from shared.events.publisher import Publisher
from tests.support import domain, events
from tests.support.records import read_records


def test_a_reset_while_reconnecting_leaves_the_client_able_to_learn_new_metadata(
    kafka_bootstrap, topic_prefix, monkeypatch
):
    customer = events.customer_code()
    publisher = Publisher(kafka_bootstrap, topic_prefix)
    try:
        assert publisher.publish("payments", [events.payment(customer, 100)]).sent == 1
        producer = publisher._producer.get()
        manager = producer._metadata._manager  # the producer's connections (a weak proxy)
        reset_done, connections_closed = threading.Event(), threading.Event()
        build = KafkaConnectionManager._build_transport

        async def reset_once(self, node, timeout_at=None):  # noqa: ANN001, ANN202 - kafka-python's signature
            if getattr(self, "reset_next_connection", False):
                self.reset_next_connection = False
                reset_done.set()
                raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
            return await build(self, node, timeout_at=timeout_at)

        monkeypatch.setattr(KafkaConnectionManager, "_build_transport", reset_once)
        manager.reset_next_connection = True

        def lose_connections() -> None:
            """As a dying broker's connections end (on the client's I/O thread): the client asks for metadata."""
            for conn in list(manager._conns.values()):
                conn.close(KafkaConnectionError("socket disconnected"))
            connections_closed.set()

        refresh_failed = RefreshFailures()
        logging.getLogger("kafka.cluster").addHandler(refresh_failed)
        try:
            manager.call_soon(lose_connections)
            assert connections_closed.wait(10), "the client's connections were not closed"
            assert reset_done.wait(30), "no new connection was made after the connections were lost"
            assert refresh_failed.seen.wait(30), "no metadata refresh failed on the reset connection"
        finally:
            logging.getLogger("kafka.cluster").removeHandler(refresh_failed)

        started = time.monotonic()
        issued = domain.codes(customer, "SN-RESET-1", date(2026, 1, 1), date(2026, 12, 31), rental="R-1")
        report = publisher.publish("license-codes", [issued])  # a topic this producer has no metadata for yet
        took = time.monotonic() - started
        assert report.sent == 1, report
        assert publisher._producer.get() is producer, "the publisher had to throw its producer away"
        assert took < 10, f"learning the new topic took {took:.1f} s"
        found = read_records(kafka_bootstrap, [f"{topic_prefix}license-codes"])
        assert [json.loads(r.value)["id"] for r in found if r.key == customer.encode()] == [issued["id"]]
    finally:
        publisher.close(timeout=10)


class RefreshFailures(logging.Handler):
    """kafka-python's log line of a metadata refresh failed by the reset, as it is written."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Metadata refresh: failed") and "Connection reset by peer" in message:
            self.seen.set()
