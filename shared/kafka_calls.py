"""Blocking kafka-python calls with a deadline.

kafka-python 3 runs a client's I/O on its own thread; a blocking method waits for that thread's answer on an
event, some without any limit (`topics()`, and `partitions_for_topic()` for a topic missing from the
metadata). After a broker restart that answer can stay away for good: an API's readiness check then held
its lock forever and every thread of the API waited behind it. `bounded` runs such a call on a helper
thread; past the deadline it closes the client, which fails the pending wait (kafka-python fails every
waiter of a stopped client), and raises KafkaTimeoutError, so the caller makes a new client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from kafka.errors import KafkaTimeoutError

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
