"""Quota read-model projection: one small handler per event type.

Facts are stored as received and joined at query time, so the statement is the same
whatever order the three topics arrive in (a work log before its call's opening, a
cancellation before its invoice, an invoice before the price list).
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from services.quota.rules import KEPT_INVOICE_KINDS
from shared.events.envelope import Event
from shared.projection.protocol import WriteOnlyProjection, ddl_beside
from shared.projection.writes import GroupedWrites, Insert

INSERT_INVOICE = Insert(
    "quota_invoice",
    (
        "invoice_number",
        "customer_code",
        "kind",
        "issued_on",
        "net_amount",
        "gross_amount",
        "year_starts_on",
        "year_ends_on",
        "overrun_minutes",
    ),
    key=("invoice_number",),
    on_conflict="DO NOTHING",
)
INSERT_CANCELLATION = Insert(
    "quota_invoice_cancellation",
    ("invoice_number", "customer_code", "cancelled_on"),
    key=("invoice_number",),
    on_conflict="DO NOTHING",
)
INSERT_CALL = Insert(
    "quota_support_call", ("call_id", "customer_code", "subject"), key=("call_id",), on_conflict="DO NOTHING"
)
INSERT_WORK = Insert(
    "quota_work_log",
    ("work_id", "call_id", "customer_code", "performed_at", "staff", "minutes", "description", "chargeable"),
    key=("work_id",),
    on_conflict="DO NOTHING",
)
# a republished list for the same day replaces the earlier one and counts as arriving now
INSERT_PRICE_LIST = Insert(
    "quota_price_list",
    ("valid_from", "quota_tiers"),
    key=("valid_from",),
    on_conflict="DO UPDATE SET quota_tiers = EXCLUDED.quota_tiers, arrival = DEFAULT",
)


def invoice_issued(writes: GroupedWrites, event: Event) -> None:
    """Keep annual support fee and quota overrun invoices; other kinds do not touch the quota."""
    data = event.data
    if data["kind"] not in KEPT_INVOICE_KINDS:
        return
    year = data["support_year"]
    writes.execute(
        INSERT_INVOICE,
        data
        | {
            "year_starts_on": year["starts_on"],
            "year_ends_on": year["ends_on"],
            "overrun_minutes": data.get("overrun_minutes"),
        },
    )


def invoice_cancelled(writes: GroupedWrites, event: Event) -> None:
    """Store every cancellation: its invoice may come later or be of a kind not kept."""
    writes.execute(INSERT_CANCELLATION, event.data)


def call_opened(writes: GroupedWrites, event: Event) -> None:
    """Remember the call's subject for the usage lines."""
    writes.execute(INSERT_CALL, event.data)


def work_logged(writes: GroupedWrites, event: Event) -> None:
    """Store the work log with its chargeable flag; it may precede its call's opening."""
    writes.execute(INSERT_WORK, event.data)


def price_list_published(writes: GroupedWrites, event: Event) -> None:
    """Store the quota tiers; a republished list for the same day replaces the earlier one."""
    writes.execute(
        INSERT_PRICE_LIST, {"valid_from": event.data["valid_from"], "quota_tiers": Jsonb(event.data["quota_tiers"])}
    )


# Write-only: no handler reads, and each table is written by one statement, so the runtime may group them.
PROJECTION = WriteOnlyProjection(
    service="quota",
    topics=(
        "invoices",
        "support-calls",
        "contracts",
    ),
    ddl=ddl_beside(__file__),
    handlers={
        "invoice.issued": invoice_issued,
        "invoice.cancelled": invoice_cancelled,
        "support_call.opened": call_opened,
        "support_call.work_logged": work_logged,
        "price_list.published": price_list_published,
    },
)
