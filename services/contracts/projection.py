"""Contracts projection: store contract, customer, password and price-list facts with their dates."""

from __future__ import annotations

from datetime import date
from typing import Any

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
from shared.projection.writes import GroupedWrites, Insert

ITEM_COLUMNS = ("product_code", "product_name", "quantity", "license_type")
INSERT_ITEM_CHANGE = Insert(
    "contract_item_changes",
    ("contract_id", "customer_code", "kind", "effective_on", "serial_number", *ITEM_COLUMNS),
)
CONTRACT = ("contract_id", "customer_code", "signed_on", "starts_on")
INSERT_CONTRACT = Insert.replacing("contracts", CONTRACT, ("contract_id",))
INSERT_DETAILS = Insert("customer_detail_changes", ("customer_code", "effective_on", "details"))
INSERT_TERMINATION = Insert("contract_terminations", ("contract_id", "customer_code", "terminated_on"))
INSERT_PASSWORD = Insert("portal_password_changes", ("customer_code", "password_hash", "changed_at"))
INSERT_PRICE_LIST = Insert("price_lists", ("valid_from", "currency", "vat_rate", "products", "quota_tiers"))


def _item_change(data: dict[str, Any], kind: str, effective_on: date, **fields: Any) -> dict[str, Any]:
    """Parameters of one item change row; item fields not given are NULL."""
    row = dict.fromkeys(ITEM_COLUMNS)
    row.update(contract_id=data["contract_id"], customer_code=data["customer_code"])
    return {**row, "kind": kind, "effective_on": effective_on, **fields}


def _record_customer_details(writes: GroupedWrites, customer_code: str, effective_on: date, given: dict) -> None:
    """Store the customer detail fields an event gave, effective on `effective_on`."""
    details = {field: given[field] for field in CUSTOMER_FIELDS if field in given}
    writes.execute(
        INSERT_DETAILS, {"customer_code": customer_code, "effective_on": effective_on, "details": Jsonb(details)}
    )


def contract_signed(writes: GroupedWrites, event: Event) -> None:
    """A contract, its customer block (a details change on signed_on) and its items from signed_on."""
    data = event.data
    writes.execute(INSERT_CONTRACT, data)
    _record_customer_details(writes, data["customer_code"], data["signed_on"], data["customer"])
    rows = [_item_change(data, ITEM_SIGNED, data["signed_on"], **item) for item in data["items"]]
    if rows:
        writes.executemany(INSERT_ITEM_CHANGE, rows)


def item_added(writes: GroupedWrites, event: Event) -> None:
    """An item added to a contract from effective_on."""
    data = event.data
    writes.execute(INSERT_ITEM_CHANGE, _item_change(data, ITEM_ADDED, data["effective_on"], **data["item"]))


def item_removed(writes: GroupedWrites, event: Event) -> None:
    """An item removed from a contract from effective_on."""
    data = event.data
    row = _item_change(data, ITEM_REMOVED, data["effective_on"], serial_number=data["serial_number"])
    writes.execute(INSERT_ITEM_CHANGE, row)


def item_quantity_changed(writes: GroupedWrites, event: Event) -> None:
    """An item's quantity changed from effective_on."""
    data = event.data
    fields = {"serial_number": data["serial_number"], "quantity": data["quantity"]}
    writes.execute(INSERT_ITEM_CHANGE, _item_change(data, ITEM_QUANTITY_CHANGED, data["effective_on"], **fields))


def customer_details_changed(writes: GroupedWrites, event: Event) -> None:
    """The given customer details change from effective_on."""
    data = event.data
    _record_customer_details(writes, data["customer_code"], data["effective_on"], data)


def contract_terminated(writes: GroupedWrites, event: Event) -> None:
    """A contract is not in force from terminated_on."""
    writes.execute(INSERT_TERMINATION, event.data)


def _record_password(writes: GroupedWrites, event: Event, password_hash: str | None) -> None:
    """Store the customer's current portal password hash (None: no password) and when it changed."""
    writes.execute(
        INSERT_PASSWORD,
        {"customer_code": event.data["customer_code"], "password_hash": password_hash, "changed_at": event.time},
    )


def portal_password_set(writes: GroupedWrites, event: Event) -> None:
    """The customer's portal password is now this argon2id hash."""
    _record_password(writes, event, event.data["password_hash"])


def portal_password_removed(writes: GroupedWrites, event: Event) -> None:
    """The customer no longer has a portal password."""
    _record_password(writes, event, None)


def price_list_published(writes: GroupedWrites, event: Event) -> None:
    """A price list in force from valid_from, with its products and quota tiers."""
    data = event.data
    writes.execute(
        INSERT_PRICE_LIST,
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
