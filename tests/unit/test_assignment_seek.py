"""What the projector does with partitions the group assigned during a poll (shared/projection/runner.py).

The consumer here is a stand-in recording seeks: the point is the projector's own bookkeeping (which
partitions it seeks, to which stored offsets, and which fetched records it drops). The real broker and
database path is tests/integration/test_projector_stall.py and every projector test.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from kafka import TopicPartition

from shared.projection.runner import Projector, ProjectorSettings

P0, P1, P2 = (TopicPartition("payments", n) for n in range(3))


class Consumer:
    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.seeks: list[tuple[TopicPartition, int | str]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        assert tp in self.assigned, tp  # kafka-python raises for an unassigned partition
        self.seeks.append((tp, offset))

    def seek_to_beginning(self, tp: TopicPartition) -> None:
        assert tp in self.assigned, tp
        self.seeks.append((tp, "beginning"))


def projector(consumer: Consumer, stored: dict[tuple[str, int], int]) -> Projector:
    settings = ProjectorSettings(
        service="ledger", database_url="", bootstrap_servers="", topics=["payments"], ddl=Path("x.sql")
    )
    p = Projector(settings, SimpleNamespace())  # type: ignore[arg-type]
    p.consumer = consumer  # type: ignore[assignment]
    p._read = lambda query: dict(stored)  # type: ignore[method-assign]
    p.follow_pointer = lambda now=False: None  # type: ignore[method-assign]
    return p


def record(tp: TopicPartition, offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=offset)


def test_new_partitions_are_sought_to_their_stored_offsets_and_their_fetched_records_dropped():
    consumer = Consumer({P0, P1, P2})
    p = projector(consumer, {("payments", 0): 40, ("payments", 1): 7})
    p.positions[P2] = 12  # kept from before: P2 was not newly assigned
    p.partitions_assigned({P0, P1})
    polled = {P0: [record(P0, 0)], P2: [record(P2, 12), record(P2, 13)]}
    kept = p._seek_new_assignment(polled)
    assert sorted(consumer.seeks) == [(P0, 40), (P1, 7)]
    assert kept == {P2: polled[P2]}  # P0's record came from the reset position, not the stored one
    assert p.positions == {P0: 40, P1: 7, P2: 12}
    assert not p.unsought


def test_a_partition_without_stored_offset_starts_at_the_beginning():
    consumer = Consumer({P0})
    p = projector(consumer, {})
    p.partitions_assigned({P0})
    p._seek_new_assignment({})
    assert consumer.seeks == [(P0, "beginning")] and p.positions == {P0: 0}


def test_a_partition_no_longer_assigned_at_the_seek_is_not_sought():
    consumer = Consumer({P1})
    p = projector(consumer, {("payments", 0): 5, ("payments", 1): 6})
    p.partitions_assigned({P0, P1})  # P0 went to another member in a later rebalance of the same poll
    p._seek_new_assignment({})
    assert consumer.seeks == [(P1, 6)] and P0 not in p.positions


def test_a_revoked_partition_is_neither_sought_nor_counted_in_the_lag():
    consumer = Consumer({P0, P1})
    p = projector(consumer, {("payments", 0): 5, ("payments", 1): 6})
    p.partitions_assigned({P0, P1})
    p._seek_new_assignment({})
    p.partitions_assigned({P1})
    p.partitions_revoked({P0, P1})
    assert not p.unsought and p.positions == {}
