"""Blocking kafka-python calls with a deadline, and the client defects the project works around.

kafka-python 3 runs a client's I/O on its own thread; a blocking method waits for that thread's answer on an
event, some without any limit (`topics()`, and `partitions_for_topic()` for a topic missing from the
metadata). After a broker restart that answer can stay away for good: an API's readiness check then held
its lock forever and every thread of the API waited behind it. `bounded` runs such a call on a helper
thread; past the deadline it closes the client, which fails the pending wait (kafka-python fails every
waiter of a stopped client), and raises KafkaTimeoutError, so the caller makes a new client.

A producer can stay stuck the same way: after a broker restart, a metadata update it waits for may never be
answered, and every later send then fails after `max_block_ms`, for good (seen in CI: a publisher failed the
same chunk for five minutes after the broker was back; the ended refresh loop below is one way to get there).
`ProducerHolder` throws a producer away once a send failed; the next send gets a new one.

A broker dying while a client connects to it can reset the connection before the TLS wrapper is in place; the
socket error (ConnectionResetError) then reaches every request waiting on that connection as it is, not as the
KafkaConnectionError kafka-python raises for every other connection failure. A metadata refresh failing that way
ends the client's metadata refresh loop for good (it survives KafkaError only), and the client never learns
the new leaders: seen in the three-broker leader-kill test, a producer sent to the dead leader until its batch
expired after 120 s. `normalise_connection_errors()` makes a connection lost on a socket error a
KafkaConnectionError (retriable), and on any other non-Kafka error a KafkaError (not retried), the original as
its cause; `kafka_security.client_kwargs()`, with which every client of the project is made, calls it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from kafka import KafkaProducer
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

log = logging.getLogger("kafka_calls")
T = TypeVar("T")


class Closable(Protocol):
    def close(self, *args: Any, **kwargs: Any) -> None: ...


def bounded(client: Closable, call: Callable[[], T], timeout_s: float, what: str) -> T:
    """`call()` (a blocking method of `client`) if it returns within `timeout_s`; else the client is closed."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"kafka-call-{what}", daemon=True).start()
    if not done.wait(timeout_s):
        log.warning("%s did not answer within %.0f s; closing the client", what, timeout_s)
        try:
            client.close()
        except Exception:  # noqa: BLE001 - the client is being thrown away
            log.warning("closing the client failed", exc_info=True)
        done.wait(5.0)
        raise KafkaTimeoutError(f"{what} did not answer within {timeout_s:g} s (the client was closed)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


ABORT_WAIT_S = 2.0  # how long a discard waits for the producer's thread to abort what it holds


class ProducerHolder:
    """One producer, made when first needed; `discard()` after a failed send throws it away and the next `get()`
    makes a new one. Thread-safe.

    What the thrown-away producer still holds is aborted: its futures fail and it is never sent later (a request
    already written to the broker may still land; the events' ids make that harmless). kafka-python's
    `close(timeout=0)` alone does not do it: it flushes first and raises while a batch is incomplete, before it
    would abort anything, and the producer lives on. So the producer's sender is told to force-close first.
    """

    def __init__(self, make: Callable[[], KafkaProducer]) -> None:
        self._make = make
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = self._make()
            return self._producer

    def discard(self) -> None:
        """Throw the producer away (after a failure): what it holds is aborted, its thread and sockets end."""
        producer = self._take()
        if producer is None:
            return
        sender = getattr(producer, "_sender", None)  # kafka-python's I/O thread of the producer
        try:
            if sender is not None:
                sender.force_close()  # fails every incomplete batch, then closes the connections
                sender.join(ABORT_WAIT_S)
            producer.close(timeout=0)
        except Exception:  # noqa: BLE001 - it is being thrown away; its thread ends by itself
            log.warning("closing a failed producer raised", exc_info=True)

    def close(self, timeout: float | None = None) -> None:
        """Flush and close the producer, if one was made (waiting at most `timeout` seconds; None: until done)."""
        producer = self._take()
        if producer is not None:
            producer.close(timeout=timeout)

    def _take(self) -> KafkaProducer | None:
        with self._lock:
            producer, self._producer = self._producer, None
        return producer


def as_connection_error(exc: BaseException | None) -> BaseException | None:
    """The error a lost connection hands its waiters: a KafkaError (or None, a clean close) as it is; a socket
    error as a KafkaConnectionError, which clients retry; any other error (say a SCRAM answer that does not
    check out) as a KafkaError that is not retried. Either caused by the original."""
    if exc is None or isinstance(exc, KafkaError) or not isinstance(exc, Exception):
        return exc
    kind = KafkaConnectionError if isinstance(exc, OSError) else KafkaError
    wrapped = kind(f"{type(exc).__name__}: {exc}")
    wrapped.__cause__ = exc
    return wrapped


_normalising = threading.Lock()


def normalise_connection_errors() -> None:
    """Make every kafka-python 3 connection lost on a non-Kafka error hand its waiters a Kafka error
    (`as_connection_error`, module doc). Idempotent; nothing to do for kafka-python 2, which has no kafka.net."""
    try:
        from kafka.net.connection import KafkaConnection
    except ImportError:  # kafka-python 2: its connections wrap socket errors themselves
        return
    with _normalising:
        original = KafkaConnection.connection_lost
        if getattr(original, "normalised", False):
            return

        def connection_lost(self: KafkaConnection, exc: BaseException | None) -> None:
            original(self, as_connection_error(exc))

        connection_lost.normalised = True  # type: ignore[attr-defined]
        connection_lost.__doc__ = original.__doc__
        KafkaConnection.connection_lost = connection_lost  # type: ignore[method-assign]
