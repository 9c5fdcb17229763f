"""When a projector counts as stalled (shared.projection.stall): a clock moved by the test."""

from __future__ import annotations

from shared.projection.stall import StallWatch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_look_is_due_at_once_and_marks_the_stored_offsets():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    assert watch.due()
    assert watch.moved(500)  # never looked at: a mark, not a stall
    assert not watch.due()
    clock.now += 29.9
    assert not watch.due()
    clock.now += 0.1
    assert watch.due()


def test_offsets_that_moved_start_the_watch_again():
    clock = Clock()
    watch = StallWatch(30.0, clock)
    watch.moved(500)
    clock.now += 45
    assert watch.moved(501)
    assert not watch.due()
    clock.now += 30
    assert watch.due()
    assert not watch.moved(501)  # the same sum a limit later: the caller asks the broker whether more is waiting


def test_a_mark_after_a_renewal_gives_the_new_consumer_its_own_limit():
    clock = Clock()
    watch = StallWatch(10.0, clock)
    watch.moved(7)
    clock.now += 10
    assert watch.due() and not watch.moved(7)
    watch.mark(7)
    assert not watch.due()
    clock.now += 9.5
    assert not watch.due()
    clock.now += 0.5
    assert watch.due()
