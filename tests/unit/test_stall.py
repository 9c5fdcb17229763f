"""When a projector counts as stalled (shared.projection.stall): a clock moved by the test."""

from __future__ import annotations

from shared.projection.stall import StallWatch

A, B = ("payments", 0), ("payments", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_look_is_due_at_once_and_only_sets_what_to_compare_with():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    assert watch.due()
    assert watch.look({A: 5}, {A: 50}) == []  # nothing to compare with yet
    assert not watch.due()
    clock.now += 29.9
    assert not watch.due()
    clock.now += 0.1
    assert watch.due()


def test_a_partition_that_waited_a_whole_interval_without_progress_is_stalled():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.look({A: 5, B: 7}, {A: 50, B: 7})
    clock.now += 30
    assert watch.look({A: 5, B: 7}, {A: 50, B: 9}) == [A]  # B's two new events came after the last look


def test_one_stuck_partition_is_found_while_the_others_progress():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.look({A: 5, B: 7}, {A: 50, B: 900})
    clock.now += 30
    assert watch.look({A: 5, B: 800}, {A: 50, B: 1000}) == [A]


def test_progress_or_events_newer_than_the_last_look_are_no_stall():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.look({A: 5}, {A: 5})  # caught up
    clock.now += 30
    assert watch.look({A: 5}, {A: 6}) == []  # one event published since: it has not waited long yet
    clock.now += 30
    assert watch.look({A: 6}, {A: 20}) == []  # it was applied


def test_a_partition_never_applied_counts_from_offset_zero():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.look({}, {A: 3})
    clock.now += 30
    assert watch.look({}, {A: 3}) == [A]


def test_reset_forgets_the_last_look():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.look({A: 5}, {A: 50})
    watch.reset()
    assert watch.due()
    clock.now += 30
    assert watch.look({A: 5}, {A: 50}) == []  # a new first look, not a stall


def test_looks_unanswered_for_a_whole_interval_say_to_make_the_consumer_again():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.look({A: 5}, {A: 50})
    clock.now += 30
    assert not watch.unanswered()  # the first unanswered look starts the count
    assert watch.due()  # nothing to compare with: the next look is due at once
    clock.now += 29.9
    assert not watch.unanswered()
    clock.now += 0.1
    assert watch.unanswered()


def test_an_answered_look_or_a_reset_starts_the_unanswered_count_again():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    assert not watch.unanswered()
    clock.now += 20
    assert watch.look({A: 5}, {A: 50}) == []
    clock.now += 20
    assert not watch.unanswered()  # 40 s since the first unanswered look, but one was answered meanwhile
    clock.now += 29
    assert not watch.unanswered()
    watch.reset()
    clock.now += 10
    assert not watch.unanswered()  # counted from after the reset
    clock.now += 30
    assert watch.unanswered()


def test_unanswered_renewals_wait_twice_as_long_each_time_until_a_look_is_answered():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    waits = []
    for _ in range(5):
        started = clock.now
        assert not watch.unanswered()
        while not watch.unanswered():
            clock.now += 1
        waits.append(clock.now - started)
        watch.reset()  # the consumer was made again
    assert waits == [30, 60, 120, 240, 240]  # at most 8 times the limit
    watch.look({A: 5}, {A: 5})  # answered: back to the limit
    clock.now += 1
    assert not watch.unanswered()
    clock.now += 30
    assert watch.unanswered()
