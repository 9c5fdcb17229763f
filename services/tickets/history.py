"""A call's story: every event of a call kept as one history row (kind, moment, its own facts)."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from services.tickets.rules import event_moment
from shared.events.envelope import Event
from shared.projection.writes import Insert

# The facts each kind of event carries into the history (beyond its moment).
FACTS = {
    "opened": ("category", "channel", "subject", "serial_number", "description"),
    "assigned": ("assignee",),
    "status_changed": ("status", "note"),
    "work_logged": ("work_id", "staff", "minutes", "chargeable", "description"),
    "customer_replied": ("message",),
    "closed": ("resolution",),
    "reopened": ("reason",),
}
KINDS = tuple(FACTS)

# Replay-safe: an event id is kept once, whatever path (direct or batched) writes it.
INSERT_HISTORY = Insert(
    "support_call_history",
    ("event_id", "customer_code", "call_id", "kind", "at", "facts"),
    key=("event_id",),
    on_conflict="DO NOTHING",
)


def kind_of(event_type: str) -> str:
    """`support_call.assigned` -> `assigned`."""
    return event_type.removeprefix("support_call.")


def history_row(event: Event) -> dict[str, Any]:
    """The history row of one support_call.* event."""
    data, kind = event.data, kind_of(event.type)
    facts = {name: data.get(name) for name in FACTS[kind]}
    return {
        "event_id": event.id,
        "customer_code": data["customer_code"],
        "call_id": data["call_id"],
        "kind": kind,
        "at": event_moment(event.type, data),
        "facts": Jsonb(facts),
    }
