"""Quota read-model projection: one small handler per event type.

Facts are stored as received and joined at query time, so the statement is the same
whatever order the three topics arrive in (a work log before its call's opening, a
cancellation before its invoice, an invoice before the price list).
"""

from __future__ import annotations

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from services.quota.rules import KEPT_INVOICE_KINDS
from shared.events.envelope import Event
from shared.projection.protocol import WriteOnlyProjection, ddl_beside


def invoice_issued(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Keep annual support fee and quota overrun invoices; other kinds do not touch the quota."""
    data = event.data
    if data["kind"] not in KEPT_INVOICE_KINDS:
        return
    cur.execute(
        """
        INSERT INTO quota_invoice (invoice_number, customer_code, kind, issued_on, net_amount,
                                   gross_amount, year_starts_on, year_ends_on, overrun_minutes)
        VALUES (%(invoice_number)s, %(customer_code)s, %(kind)s, %(issued_on)s, %(net_amount)s,
                %(gross_amount)s, %(starts_on)s, %(ends_on)s, %(overrun_minutes)s)
        ON CONFLICT (invoice_number) DO NOTHING
        """,
        {
            **data,
            **data["support_year"],
            "overrun_minutes": data.get("overrun_minutes"),
        },
    )


def invoice_cancelled(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store every cancellation: its invoice may come later or be of a kind not kept."""
    cur.execute(
        """
        INSERT INTO quota_invoice_cancellation (invoice_number, customer_code, cancelled_on)
        VALUES (%(invoice_number)s, %(customer_code)s, %(cancelled_on)s)
        ON CONFLICT (invoice_number) DO NOTHING
        """,
        event.data,
    )


def call_opened(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Remember the call's subject for the usage lines."""
    cur.execute(
        """
        INSERT INTO quota_support_call (call_id, customer_code, subject)
        VALUES (%(call_id)s, %(customer_code)s, %(subject)s)
        ON CONFLICT (call_id) DO NOTHING
        """,
        event.data,
    )


def work_logged(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store the work log with its chargeable flag; it may precede its call's opening."""
    cur.execute(
        """
        INSERT INTO quota_work_log (work_id, call_id, customer_code, performed_at, staff,
                                    minutes, description, chargeable)
        VALUES (%(work_id)s, %(call_id)s, %(customer_code)s, %(performed_at)s, %(staff)s,
                %(minutes)s, %(description)s, %(chargeable)s)
        ON CONFLICT (work_id) DO NOTHING
        """,
        event.data,
    )


def price_list_published(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """Store the quota tiers; a republished list for the same day replaces the earlier one."""
    cur.execute(
        """
        INSERT INTO quota_price_list (valid_from, quota_tiers)
        VALUES (%(valid_from)s, %(quota_tiers)s)
        ON CONFLICT (valid_from) DO UPDATE
            SET quota_tiers = EXCLUDED.quota_tiers, arrival = DEFAULT
        """,
        {
            "valid_from": event.data["valid_from"],
            "quota_tiers": Jsonb(event.data["quota_tiers"]),
        },
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
