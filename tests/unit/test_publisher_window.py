"""The publisher's window of events sent and not yet answered (shared/events/publisher.py): it waits for room
while Kafka answers, and gives up once nothing sent has been answered for the stuck bound."""

from __future__ import annotations

import threading
import time

import pytest
from kafka.errors import KafkaTimeoutError

from shared.events.publisher import _Window


def test_a_window_nobody_answers_gives_up_after_the_stuck_bound():
    window = _Window(limit=100)
    window.reserve(80, stuck_after_s=0.2)  # one record always fits
    started = time.monotonic()
    with pytest.raises(KafkaTimeoutError, match="answered none of the events sent for 0.2 s"):
        window.reserve(80, stuck_after_s=0.2)
    assert time.monotonic() - started >= 0.2
    assert window.in_flight == 80  # the refused reservation took nothing


def test_answers_that_keep_coming_renew_the_bound_and_make_room():
    window = _Window(limit=120)
    for _ in range(6):
        window.reserve(20, stuck_after_s=2.0)
    answered = threading.Event()

    def answer_one_by_one() -> None:
        for _ in range(6):  # each answer comes well within the bound, all of them after more than it
            time.sleep(0.4)
            window.done(20, object())
        answered.set()

    started = time.monotonic()
    threading.Thread(target=answer_one_by_one, daemon=True).start()
    window.reserve(120, stuck_after_s=2.0)  # fits only once every earlier record is answered
    assert time.monotonic() - started > 2.0
    assert answered.wait(5) and window.acked == 6 and window.in_flight == 120


def test_a_failure_ends_the_wait_at_once():
    window = _Window(limit=100)
    window.reserve(100, stuck_after_s=30)
    threading.Timer(0.1, window.done, args=(50, KafkaTimeoutError("expired"))).start()
    started = time.monotonic()
    window.reserve(100, stuck_after_s=30)  # room after the failure, which the publisher then reports
    assert time.monotonic() - started < 5
    assert window.failed == 1 and isinstance(window.first_failure, KafkaTimeoutError)
