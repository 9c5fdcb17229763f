"""ProducerHolder (shared/kafka_calls.py): one producer, made when first needed, thrown away after a failure."""

from __future__ import annotations

from typing import Any

import pytest

from shared.kafka_calls import ProducerHolder


class Made:
    """What the holder's factory made, and how each was closed."""

    def __init__(self, fail_close: bool = False) -> None:
        self.closed: list[Any] = []
        self.fail_close = fail_close

    def close(self, timeout: float | None = None) -> None:
        self.closed.append(timeout)
        if self.fail_close:
            raise RuntimeError("the IO thread is gone")


def holder_of(made: list[Made], fail_close: bool = False) -> ProducerHolder:
    def make() -> Made:
        made.append(Made(fail_close))
        return made[-1]

    return ProducerHolder(make)  # type: ignore[arg-type]


def test_one_producer_is_made_when_first_needed_and_then_reused():
    made: list[Made] = []
    holder = holder_of(made)
    assert made == []
    assert holder.get() is holder.get()
    assert len(made) == 1


def test_a_discarded_producer_is_closed_without_waiting_and_the_next_get_makes_another():
    made: list[Made] = []
    holder = holder_of(made)
    first = holder.get()
    holder.discard()
    assert made[0].closed == [0]
    second = holder.get()
    assert second is not first and len(made) == 2
    holder.close(timeout=5)
    assert made[1].closed == [5]
    holder.close()  # nothing left to close
    assert [m.closed for m in made] == [[0], [5]]


def test_a_discard_whose_close_fails_still_throws_the_producer_away():
    made: list[Made] = []
    holder = holder_of(made, fail_close=True)
    first = holder.get()
    holder.discard()  # the failure is logged, not raised
    assert holder.get() is not first


def test_close_raises_what_closing_raised():
    made: list[Made] = []
    holder = holder_of(made, fail_close=True)
    holder.get()
    with pytest.raises(RuntimeError, match="IO thread"):
        holder.close()
