"""Contracts projection: store contract, customer, password and price-list facts with their dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from services.contracts.rules import (
    CUSTOMER_FIELDS,
    ITEM_ADDED,
    ITEM_QUANTITY_CHANGED,
    ITEM_REMOVED,
    ITEM_SIGNED,
)
from shared.events.envelope import Event
from shared.projection.protocol import WriteOnlyProjection, ddl_beside

INSERT_ITEM_CHANGE = """
    INSERT INTO contract_item_changes
        (contract_id, customer_code, kind, effective_on, serial_number,
         product_code, product_name, quantity, license_type)
    VALUES (%(contract_id)s, %(customer_code)s, %(kind)s, %(effective_on)s, %(serial_number)s,
            %(product_code)s, %(product_name)s, %(quantity)s, %(license_type)s)
"""


def _item_change(data: dict[str, Any], kind: str, effective_on: date, **fields: Any) -> dict[str, Any]:
    """Parameters of one item change row; item fields not given are NULL."""
    row = dict.fromkeys(("product_code", "product_name", "quantity", "license_type"))
    row.update(contract_id=data["contract_id"], customer_code=data["customer_code"])
    return {**row, "kind": kind, "effective_on": effective_on, **fields}


def _record_customer_details(cur: psycopg.Cursor[DictRow], customer_code: str, effective_on: date, given: dict) -> None:
    """Store the customer detail fields an event gave, effective on `effective_on`."""
    details = {field: given[field] for field in CUSTOMER_FIELDS if field in given}
    cur.execute(
        "INSERT INTO customer_detail_changes (customer_code, effective_on, details)"
        " VALUES (%(customer_code)s, %(effective_on)s, %(details)s)",
        {"customer_code": customer_code, "effective_on": effective_on, "details": Jsonb(details)},
    )


def contract_signed(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """A contract, its customer block (a details change on signed_on) and its items from signed_on."""
    data = event.data
    cur.execute(
        "INSERT INTO contracts (contract_id, customer_code, signed_on, starts_on)"
        " VALUES (%(contract_id)s, %(customer_code)s, %(signed_on)s, %(starts_on)s)"
        " ON CONFLICT (contract_id) DO UPDATE SET customer_code = EXCLUDED.customer_code,"
        " signed_on = EXCLUDED.signed_on, starts_on = EXCLUDED.starts_on",
        data,
    )
    _record_customer_details(cur, data["customer_code"], data["signed_on"], data["customer"])
    rows = [_item_change(data, ITEM_SIGNED, data["signed_on"], **item) for item in data["items"]]
    if rows:
        cur.executemany(INSERT_ITEM_CHANGE, rows)


def item_added(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """An item added to a contract from effective_on."""
    data = event.data
    cur.execute(INSERT_ITEM_CHANGE, _item_change(data, ITEM_ADDED, data["effective_on"], **data["item"]))


def item_removed(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """An item removed from a contract from effective_on."""
    data = event.data
    row = _item_change(data, ITEM_REMOVED, data["effective_on"], serial_number=data["serial_number"])
    cur.execute(INSERT_ITEM_CHANGE, row)


def item_quantity_changed(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """An item's quantity changed from effective_on."""
    data = event.data
    fields = {"serial_number": data["serial_number"], "quantity": data["quantity"]}
    cur.execute(INSERT_ITEM_CHANGE, _item_change(data, ITEM_QUANTITY_CHANGED, data["effective_on"], **fields))


def customer_details_changed(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """The given customer details change from effective_on."""
    data = event.data
    _record_customer_details(cur, data["customer_code"], data["effective_on"], data)


def contract_terminated(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """A contract is not in force from terminated_on."""
    cur.execute(
        "INSERT INTO contract_terminations (contract_id, customer_code, terminated_on)"
        " VALUES (%(contract_id)s, %(customer_code)s, %(terminated_on)s)",
        event.data,
    )


def _record_password(cur: psycopg.Cursor[DictRow], event: Event, password_hash: str | None) -> None:
    """Store the customer's current portal password hash (None: no password) and when it changed."""
    cur.execute(
        "INSERT INTO portal_password_changes (customer_code, password_hash, changed_at)"
        " VALUES (%(customer_code)s, %(password_hash)s, %(changed_at)s)",
        {"customer_code": event.data["customer_code"], "password_hash": password_hash, "changed_at": event.time},
    )


def portal_password_set(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """The customer's portal password is now this argon2id hash."""
    _record_password(cur, event, event.data["password_hash"])


def portal_password_removed(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """The customer no longer has a portal password."""
    _record_password(cur, event, None)


def price_list_published(cur: psycopg.Cursor[DictRow], event: Event) -> None:
    """A price list in force from valid_from, with its products and quota tiers."""
    data = event.data
    cur.execute(
        "INSERT INTO price_lists (valid_from, currency, vat_rate, products, quota_tiers)"
        " VALUES (%(valid_from)s, %(currency)s, %(vat_rate)s, %(products)s, %(quota_tiers)s)",
        {**data, "products": Jsonb(data["products"]), "quota_tiers": Jsonb(data["quota_tiers"])},
    )


# Write-only: no handler reads, and each table is written by one statement, so the runtime may group them.
PROJECTION = WriteOnlyProjection(
    service="contracts",
    topics=("contracts",),
    ddl=ddl_beside(__file__),
    handlers={
        "contract.signed": contract_signed,
        "contract.item_added": item_added,
        "contract.item_removed": item_removed,
        "contract.item_quantity_changed": item_quantity_changed,
        "contract.customer_details_changed": customer_details_changed,
        "contract.terminated": contract_terminated,
        "customer.portal_password_set": portal_password_set,
        "customer.portal_password_removed": portal_password_removed,
        "price_list.published": price_list_published,
    },
)
