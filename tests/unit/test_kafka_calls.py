"""A blocking kafka-python call with a deadline (shared/kafka_calls.py).

The client is a stand-in whose call waits until the client is closed, as a kafka-python 3 call whose answer
never comes waits until the client's close fails its pending wait.
"""

from __future__ import annotations

import threading

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from shared.kafka_calls import bounded


class Client:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def close(self, *args: object, **kwargs: object) -> None:
        self.closed.set()

    def hangs(self) -> set[int]:
        if not self.closed.wait(30):
            return {0}
        raise KafkaConnectionError("Event loop stopped")  # what kafka-python's close hands a pending waiter


def test_an_answer_in_time_is_returned_and_the_client_stays_open():
    client = Client()
    assert bounded(client, lambda: {0, 1, 2}, 5, "partitions_for_topic") == {0, 1, 2}
    assert not client.closed.is_set()


def test_an_error_in_time_is_raised_as_it_is():
    def refused() -> None:
        raise KafkaConnectionError("111 ECONNREFUSED")

    with pytest.raises(KafkaConnectionError, match="ECONNREFUSED"):
        bounded(Client(), refused, 5, "topics")


def test_a_call_past_its_deadline_closes_the_client_and_raises_a_timeout():
    client = Client()
    before = threading.active_count()
    with pytest.raises(KafkaTimeoutError, match="topics did not answer within 0.2 s"):
        bounded(client, client.hangs, 0.2, "topics")
    assert client.closed.is_set()
    assert threading.active_count() == before  # the waiting thread ended with the close
