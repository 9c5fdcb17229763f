"""Support calls as the helpdesk records them, and their events on the support-calls topic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from demo.dates import rfc3339
from demo.envelope import Fact
from shared.timeutil import budapest_date

OPENED, ASSIGNED, STATUS = "support_call.opened", "support_call.assigned", "support_call.status_changed"
WORK, CLOSED, REOPENED = "support_call.work_logged", "support_call.closed", "support_call.reopened"
TIME_FIELDS = {
    ASSIGNED: "assigned_at",
    STATUS: "changed_at",
    WORK: "performed_at",
    CLOSED: "closed_at",
    REOPENED: "reopened_at",
}


@dataclass
class Call:
    """A support call and its later steps (event type, time, type-specific data)."""

    customer_code: str
    opened_at: datetime
    category: str
    channel: str
    subject: str
    serial_number: str | None
    steps: list[tuple[str, datetime, dict]] = field(default_factory=list)
    call_id: str = ""

    def work_logs(self) -> list[tuple[datetime, int, bool]]:
        """(performed_at, minutes, chargeable) of every work log."""
        return [(at, data["minutes"], data["chargeable"]) for kind, at, data in self.steps if kind == WORK]

    @property
    def is_open(self) -> bool:
        """Open unless its last step closed it."""
        return not self.steps or self.steps[-1][0] != CLOSED


def number_calls(calls: list[Call]) -> None:
    """Give call ids like HD-2025-00042, counted per Budapest year in opening order."""
    per_year: Counter[int] = Counter()
    for call in sorted(calls, key=lambda c: (c.opened_at, c.customer_code)):
        year = budapest_date(call.opened_at).year
        per_year[year] += 1
        call.call_id = f"HD-{year}-{per_year[year]:05d}"


def call_facts(call: Call) -> list[Fact]:
    """The opening and every later step of a call; work logs get ids like HD-2025-00042-W1."""
    opened = {
        "call_id": call.call_id,
        "customer_code": call.customer_code,
        "opened_at": rfc3339(call.opened_at),
        "category": call.category,
        "channel": call.channel,
        "subject": call.subject,
        "description": f"{call.subject} ({call.channel})",
    }
    if call.serial_number:
        opened["serial_number"] = call.serial_number
    facts = [Fact("support-calls", OPENED, call.opened_at, call.customer_code, opened)]
    work_number = 0
    for kind, at, extra in call.steps:
        data = {"call_id": call.call_id, "customer_code": call.customer_code, TIME_FIELDS[kind]: rfc3339(at)}
        if kind == WORK:
            work_number += 1
            data["work_id"] = f"{call.call_id}-W{work_number}"
        facts.append(Fact("support-calls", kind, at, call.customer_code, {**data, **extra}))
    return facts
