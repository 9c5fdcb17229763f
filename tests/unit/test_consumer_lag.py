"""Messages behind per partition (shared/projection/metrics.py): the fetched high watermark, else the end the
broker gave when asked. The consumer is a stand-in answering `assignment()` and `highwater()` as kafka-python
does, with None for a partition no kept fetch answer has told the end of."""

from __future__ import annotations

from kafka import TopicPartition
from kafka.errors import IllegalStateError

from shared.projection.metrics import consumer_lag

P0, P1, P2 = (TopicPartition("t1.payments", p) for p in range(3))


class Consumer:
    def __init__(self, highwater: dict[TopicPartition, int | None], revoked: frozenset = frozenset()) -> None:
        self.marks, self.revoked = highwater, revoked

    def assignment(self) -> set[TopicPartition]:
        return set(self.marks)

    def highwater(self, tp: TopicPartition) -> int | None:
        if tp in self.revoked:
            raise IllegalStateError(f"No current assignment for partition {tp}")
        return self.marks[tp]


def test_a_partition_without_a_fetched_end_is_left_out_unless_the_broker_was_asked():
    consumer = Consumer({P0: 10, P1: None, P2: None})
    positions = {P0: 7, P1: 5, P2: 9}
    assert consumer_lag(consumer, "t1.", positions) == {("payments", 0): 3}  # type: ignore[arg-type]
    asked = {("payments", 1): 5, ("payments", 2): 12, ("payments", 0): 99}
    assert consumer_lag(consumer, "t1.", positions, asked) == {  # type: ignore[arg-type]
        ("payments", 0): 3,  # the fetched high watermark comes first
        ("payments", 1): 0,
        ("payments", 2): 3,
    }


def test_no_position_or_a_revoked_partition_is_left_out_and_a_position_past_the_end_is_zero():
    consumer = Consumer({P0: 10, P1: 4, P2: 8}, revoked=frozenset({P2}))
    assert consumer_lag(consumer, "t1.", {P1: 6}, {("payments", 0): 10}) == {("payments", 1): 0}  # type: ignore[arg-type]
