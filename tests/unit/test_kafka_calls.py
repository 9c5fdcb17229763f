"""A blocking kafka-python call with a deadline, and connection errors made retriable (shared/kafka_calls.py).

The client is a stand-in whose call waits until the client is closed, as a kafka-python 3 call whose answer
never comes waits until the client's close fails its pending wait.
"""

from __future__ import annotations

import errno
import threading

import pytest
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from kafka.net.connection import KafkaConnection

from shared.kafka_calls import as_connection_error, bounded, normalise_connection_errors


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


def test_a_socket_error_becomes_a_retriable_kafka_connection_error_caused_by_it():
    reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    made = as_connection_error(reset)
    assert isinstance(made, KafkaConnectionError) and made.retriable
    assert made.__cause__ is reset
    assert "ConnectionResetError: [Errno 104] Connection reset by peer" in str(made)
    refused = KafkaConnectionError("111 ECONNREFUSED")
    assert as_connection_error(refused) is refused  # a Kafka error stays as it is
    assert as_connection_error(None) is None  # a clean close
    interrupt = KeyboardInterrupt()
    assert as_connection_error(interrupt) is interrupt  # not an error of the connection


def test_another_error_of_a_connection_becomes_a_kafka_error_that_is_not_retried():
    wrong = ValueError("Server sent wrong signature!")  # kafka-python's SCRAM check of the broker's answer
    made = as_connection_error(wrong)
    assert type(made) is KafkaError and not made.retriable
    assert made.__cause__ is wrong and "ValueError: Server sent wrong signature!" in str(made)


def test_a_connection_lost_on_a_socket_error_fails_its_waiting_requests_with_a_kafka_connection_error():
    """kafka-python's own connection object: a request waiting for the connection to be set up (as a metadata
    refresh does) fails with the retriable error, not with the bare socket error."""
    normalise_connection_errors()
    normalise_connection_errors()  # once is enough; a second call changes nothing
    conn = KafkaConnection(None, node_id=2)
    waiting = conn.send_request(object())  # held until the connection is set up
    reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    conn.connection_lost(reset)
    assert waiting.failed() and waiting.retriable()
    assert isinstance(waiting.exception, KafkaConnectionError)
    assert waiting.exception.__cause__ is reset
    assert conn.closed
