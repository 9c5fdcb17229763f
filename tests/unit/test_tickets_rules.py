"""Status folding of support calls and the list filter helpers (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

import pytest

from services.tickets.rules import (
    CallState,
    apply_event,
    escape_like,
    event_moment,
    page_offset,
    status_change,
    substring_pattern,
    supersedes,
)
from shared.api.tickets import SupportCallsArgs

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def opened(minute: int = 0) -> tuple[str, dict[str, Any]]:
    return "support_call.opened", {"opened_at": at(minute), "category": "bug_report", "subject": "s"}


def assigned(who: str, minute: int) -> tuple[str, dict[str, Any]]:
    return "support_call.assigned", {"assignee": who, "assigned_at": at(minute)}


def changed(status: str, minute: int) -> tuple[str, dict[str, Any]]:
    return "support_call.status_changed", {"status": status, "changed_at": at(minute)}


def worked(minute: int, minutes: int = 15) -> tuple[str, dict[str, Any]]:
    return "support_call.work_logged", {"performed_at": at(minute), "minutes": minutes, "work_id": "w"}


def closed(minute: int, resolution: str = "fixed") -> tuple[str, dict[str, Any]]:
    return "support_call.closed", {"closed_at": at(minute), "resolution": resolution}


def reopened(minute: int) -> tuple[str, dict[str, Any]]:
    return "support_call.reopened", {"reopened_at": at(minute), "reason": "still broken"}


def fold(*events: tuple[str, dict[str, Any]]) -> CallState:
    """The state after applying the events in the given (arrival) order."""
    state = CallState()
    for event_type, data in events:
        state = apply_event(state, event_type, data)
    return state


def test_opened_is_registered() -> None:
    state = fold(opened(0))
    assert (state.status, state.status_at, state.last_update_at) == ("registered", at(0), at(0))
    assert (state.assignee, state.closed_at, state.resolution) == (None, None, None)


def test_full_life_in_order() -> None:
    events = [opened(0), assigned("Anna", 5), changed("in_progress", 10), closed(20, "first fix")]
    state = fold(*events)
    assert (state.status, state.assignee, state.closed_at, state.resolution) == ("closed", "Anna", at(20), "first fix")
    state = fold(*events, reopened(30))
    assert (state.status, state.closed_at, state.resolution) == ("in_progress", None, None)
    state = fold(*events, reopened(30), changed("waiting_for_customer", 35), closed(40, "second fix"))
    assert (state.status, state.closed_at, state.resolution, state.last_update_at) == (
        "closed",
        at(40),
        "second fix",
        at(40),
    )


def test_every_arrival_order_gives_the_same_state() -> None:
    events = [
        opened(0),
        assigned("Anna", 5),
        closed(20),
        reopened(30),
        assigned("Béla", 32),
        worked(33),
        closed(40, "done"),
    ]
    expected = fold(*events)
    assert (expected.status, expected.assignee, expected.resolution) == ("closed", "Béla", "done")
    for order in permutations(events):
        assert fold(*order) == expected


def test_late_opening_does_not_reset_a_later_status() -> None:
    state = fold(assigned("Anna", 5), changed("waiting_for_customer", 10))
    assert (state.status, state.assignee) == ("waiting_for_customer", "Anna")
    state = apply_event(state, *opened(0))
    assert (state.status, state.status_at, state.assignee) == ("waiting_for_customer", at(10), "Anna")


def test_late_opening_of_a_closed_call_keeps_it_closed() -> None:
    state = fold(closed(20, "fixed"), opened(0))
    assert (state.status, state.closed_at, state.resolution) == ("closed", at(20), "fixed")


def test_opening_before_anything_else_registers_a_partial_call() -> None:
    state = fold(assigned("Anna", 5), worked(7))
    assert (state.status, state.assignee, state.last_update_at) == (None, "Anna", at(7))
    assert fold(assigned("Anna", 5), opened(0)).status == "registered"


def test_opening_loses_a_timestamp_tie_whatever_the_arrival() -> None:
    assert fold(changed("in_progress", 0), opened(0)).status == "in_progress"
    assert fold(opened(0), changed("in_progress", 0)).status == "in_progress"


def test_timestamp_ties_go_to_the_later_arrival() -> None:
    assert fold(opened(0), changed("in_progress", 10), changed("waiting_for_customer", 10)).status == (
        "waiting_for_customer"
    )
    assert fold(opened(0), closed(10), reopened(10)).status == "in_progress"
    assert fold(opened(0), reopened(10), closed(10)).status == "closed"
    assert fold(assigned("Anna", 5), assigned("Béla", 5)).assignee == "Béla"


def test_late_older_events_do_not_overwrite_newer_ones() -> None:
    state = fold(opened(0), closed(40, "done"), reopened(30), changed("in_progress", 10), closed(20, "old"))
    assert (state.status, state.closed_at, state.resolution) == ("closed", at(40), "done")
    state = fold(opened(0), assigned("Béla", 20), assigned("Anna", 5))
    assert (state.assignee, state.assignee_at) == ("Béla", at(20))


def test_reopen_after_late_close_clears_the_closure() -> None:
    state = fold(opened(0), reopened(30), closed(20, "too early"))
    assert (state.status, state.closed_at, state.resolution) == ("in_progress", None, None)


def test_last_update_is_the_latest_timestamp_work_logs_included() -> None:
    state = fold(opened(0), worked(90), closed(40), assigned("Anna", 5))
    assert state.last_update_at == at(90)
    assert state.status == "closed"


def test_work_log_leaves_status_and_assignee_alone() -> None:
    before = fold(opened(0), assigned("Anna", 5))
    after = apply_event(before, *worked(60))
    assert (after.status, after.assignee, after.status_at) == ("registered", "Anna", at(0))


def test_status_change_and_moment_per_event_type() -> None:
    change = status_change("support_call.closed", closed(20, "x")[1])
    assert (change.status, change.at, change.closed_at, change.resolution) == ("closed", at(20), at(20), "x")
    assert status_change("support_call.assigned", assigned("A", 1)[1]) is None
    assert status_change("support_call.work_logged", worked(1)[1]) is None
    assert event_moment("support_call.reopened", reopened(7)[1]) == at(7)


def test_supersedes_on_an_empty_state() -> None:
    change = status_change("support_call.opened", opened(0)[1])
    assert supersedes(change, CallState(), is_opening=True) is True


@pytest.mark.parametrize(
    ("typed", "pattern"),
    [
        ("50%", "%50\\%%"),
        ("a_b", "%a\\_b%"),
        ("C:\\temp", "%C:\\\\temp%"),
        ("Árvíztűrő", "%Árvíztűrő%"),
    ],
)
def test_substring_pattern_escapes_wildcards(typed: str, pattern: str) -> None:
    assert substring_pattern(typed) == pattern


def test_empty_query_matches_everything() -> None:
    assert substring_pattern("") is None
    assert substring_pattern(None) is None
    assert escape_like("plain") == "plain"


def test_period_check_of_the_shared_list_arguments() -> None:
    args = SupportCallsArgs()
    assert args.validate({"from": "2026-01-02", "to": "2026-01-01"}) == {"to": ["Must not be before 'from'."]}
    assert args.validate({"from": "2026-01-01", "to": "2026-01-01"}) == {}
    assert args.validate({"to": "2026-01-01"}) == {}
    assert args.validate({"from": "2026-01-01"}) == {}


def test_page_offset() -> None:
    assert [page_offset(page, 50) for page in (1, 2, 3)] == [0, 50, 100]
    assert page_offset(1, 200) == 0


def replied(minute: int) -> tuple[str, dict[str, Any]]:
    return "support_call.customer_replied", {"replied_at": at(minute), "message": "here it is"}


def test_reply_to_a_waiting_call_puts_it_in_progress() -> None:
    state = fold(opened(0), changed("waiting_for_customer", 10), replied(15))
    assert (state.status, state.status_at, state.last_update_at) == ("in_progress", at(15), at(15))


@pytest.mark.parametrize("status", ["registered", "in_progress"])
def test_reply_keeps_any_other_status(status: str) -> None:
    before = fold(opened(0), changed(status, 10))
    state = apply_event(before, *replied(15))
    assert (state.status, state.status_at, state.last_update_at) == (status, at(10), at(15))


def test_reply_keeps_a_closed_call_closed() -> None:
    state = fold(opened(0), closed(10), replied(15))
    assert (state.status, state.closed_at, state.last_update_at) == ("closed", at(10), at(15))


def test_late_reply_older_than_the_wait_changes_nothing_but_last_update() -> None:
    state = fold(opened(0), changed("waiting_for_customer", 10), replied(5))
    assert (state.status, state.last_update_at) == ("waiting_for_customer", at(10))
