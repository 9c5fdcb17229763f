"""Pure rules of support calls: how events fold into a call's state, and list filters."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.api.tickets import CALL_STATUSES as STATUSES
from shared.api.tickets import CATEGORIES

__all__ = ["CATEGORIES", "STATUSES", "CallState", "apply_event"]

# The event's own timestamp field, per event type.
MOMENT_FIELDS = {
    "support_call.opened": "opened_at",
    "support_call.assigned": "assigned_at",
    "support_call.status_changed": "changed_at",
    "support_call.work_logged": "performed_at",
    "support_call.closed": "closed_at",
    "support_call.reopened": "reopened_at",
    "support_call.customer_replied": "replied_at",
}
REPLIED = "support_call.customer_replied"


@dataclass(frozen=True)
class CallState:
    """The folded state of one call (None until an event has set it)."""

    status: str | None = None
    status_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    assignee: str | None = None
    assignee_at: datetime | None = None
    last_update_at: datetime | None = None


@dataclass(frozen=True)
class StatusChange:
    """What a status-setting event says: the status, when, and the closure it implies."""

    status: str
    at: datetime
    closed_at: datetime | None = None
    resolution: str | None = None


def event_moment(event_type: str, data: dict[str, Any]) -> datetime:
    """The timestamp the event carries about itself (opened_at, assigned_at, ...)."""
    return data[MOMENT_FIELDS[event_type]]


def status_change(event_type: str, data: dict[str, Any]) -> StatusChange | None:
    """The status an event sets, or None for events that leave the status alone."""
    if event_type == "support_call.opened":
        return StatusChange("registered", data["opened_at"])
    if event_type == "support_call.status_changed":
        return StatusChange(data["status"], data["changed_at"])
    if event_type == "support_call.closed":
        return StatusChange("closed", data["closed_at"], data["closed_at"], data["resolution"])
    if event_type == "support_call.reopened":
        return StatusChange("in_progress", data["reopened_at"])
    return None


def supersedes(change: StatusChange, state: CallState, is_opening: bool) -> bool:
    """Whether a status event wins over the current one: later timestamp, ties to the later arrival.

    The opening loses a tie: a call's opening logically precedes any other
    event with the same timestamp, whichever arrived first.
    """
    if state.status_at is None:
        return True
    if is_opening:
        return change.at > state.status_at
    return change.at >= state.status_at


def apply_event(state: CallState, event_type: str, data: dict[str, Any]) -> CallState:
    """The call's state after one more event, whatever order the events arrive in (one new state per event, the
    same state when the event changes nothing)."""
    moment = event_moment(event_type, data)
    changes: dict[str, Any] = {}
    if state.last_update_at is None or moment > state.last_update_at:
        changes["last_update_at"] = moment
    if event_type == "support_call.assigned":
        changes.update(_assign(state, data["assignee"], moment))
    elif event_type == REPLIED:
        changes.update(_reply(state, moment))
    else:
        change = status_change(event_type, data)
        if change is not None and supersedes(change, state, event_type == "support_call.opened"):
            changes.update(
                status=change.status, status_at=change.at, closed_at=change.closed_at, resolution=change.resolution
            )
    return replace(state, **changes) if changes else state


def _assign(state: CallState, assignee: str, assigned_at: datetime) -> dict[str, Any]:
    """Take the assignment unless a later one is already known (ties: later arrival wins)."""
    if state.assignee_at is not None and assigned_at < state.assignee_at:
        return {}
    return {"assignee": assignee, "assignee_at": assigned_at}


def _reply(state: CallState, replied_at: datetime) -> dict[str, Any]:
    """A reply takes a call waiting for the customer back to in_progress (unless a later status is known)."""
    if state.status != "waiting_for_customer" or (state.status_at is not None and replied_at < state.status_at):
        return {}
    return {"status": "in_progress", "status_at": replied_at}


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so the text matches literally (backslash is the escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def substring_pattern(text: str | None) -> str | None:
    """An ILIKE pattern matching the text anywhere, or None when there is nothing to match."""
    if not text:
        return None
    return f"%{escape_like(text)}%"


def page_offset(page: int, per_page: int) -> int:
    """Rows to skip to reach the page (pages count from 1)."""
    return (page - 1) * per_page
