"""Contract rules: customer details, contracts and items as of a date, the expected annual fee.

Pure functions over the facts stored by the projection (rows as dicts); no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

CUSTOMER_FIELDS = ("name", "postal_code", "city", "street_address", "tax_number", "email")
ITEM_FIELDS = ("serial_number", "product_code", "product_name", "quantity", "license_type")
ITEM_SIGNED, ITEM_ADDED, ITEM_REMOVED, ITEM_QUANTITY_CHANGED = "signed", "added", "removed", "quantity_changed"

Fact = Mapping[str, Any]


def customer_details_as_of(changes: Iterable[Fact], as_of: date) -> dict[str, Any]:
    """Customer details in force on `as_of`: changes by effective_on, on one day later arrival wins."""
    details: dict[str, Any] = dict.fromkeys(CUSTOMER_FIELDS)
    in_force = [c for c in changes if c["effective_on"] <= as_of]
    for change in sorted(in_force, key=lambda c: (c["effective_on"], c["arrival"])):
        details.update({k: v for k, v in change["details"].items() if k in CUSTOMER_FIELDS})
    return details


def terminated_on_or_before(contract_id: str, terminations: Iterable[Fact], day: date) -> bool:
    """Whether any termination of the contract takes effect on or before `day`."""
    return any(t["contract_id"] == contract_id and t["terminated_on"] <= day for t in terminations)


def contracts_in_force(contracts: Iterable[Fact], terminations: Iterable[Fact], as_of: date) -> list[Fact]:
    """Contracts signed on or before `as_of` and not terminated on or before it, by signed_on."""
    terminations = list(terminations)
    in_force = [
        c
        for c in contracts
        if c["signed_on"] <= as_of and not terminated_on_or_before(c["contract_id"], terminations, as_of)
    ]
    return sorted(in_force, key=lambda c: (c["signed_on"], c["contract_id"]))


def _item_change_order(change: Fact) -> tuple[date, int, int]:
    """Date order; on one day the signing's items come first, then item events by arrival."""
    return change["effective_on"], 0 if change["kind"] == ITEM_SIGNED else 1, change["arrival"]


def items_in_force(changes: Iterable[Fact], as_of: date) -> list[dict[str, Any]]:
    """Items of one contract in force on `as_of`, by serial number."""
    items: dict[str, dict[str, Any]] = {}
    in_force = [c for c in changes if c["effective_on"] <= as_of]
    for change in sorted(in_force, key=_item_change_order):
        serial = change["serial_number"]
        if change["kind"] in (ITEM_SIGNED, ITEM_ADDED):
            items[serial] = {field: change[field] for field in ITEM_FIELDS}
        elif change["kind"] == ITEM_REMOVED:
            items.pop(serial, None)
        elif change["kind"] == ITEM_QUANTITY_CHANGED and serial in items:
            items[serial]["quantity"] = change["quantity"]
    return [items[serial] for serial in sorted(items)]


def _month_day_in(year: int, starts_on: date) -> date:
    """The month and day of `starts_on` in `year`; 29 February falls on 28 February in common years."""
    day = starts_on.day
    if (starts_on.month, day) == (2, 29) and not calendar.isleap(year):
        day = 28
    return date(year, starts_on.month, day)


def anniversary_date(starts_on: date, as_of: date) -> date:
    """The first date on or after `as_of` with the month and day of `starts_on`."""
    this_year = _month_day_in(as_of.year, starts_on)
    return this_year if this_year >= as_of else _month_day_in(as_of.year + 1, starts_on)


def anniversary_horizon(as_of: date) -> date:
    """The latest anniversary any contract can have after `as_of`: a year on (29 February: 28 February)."""
    return _month_day_in(as_of.year + 1, as_of)


def price_list_in_force(price_lists: Iterable[Fact], day: date) -> Fact | None:
    """The price list with the latest valid_from on or before `day` (same day: later arrival wins)."""
    candidates = [p for p in price_lists if p["valid_from"] <= day]
    return max(candidates, key=lambda p: (p["valid_from"], p["arrival"]), default=None)


def fee_line(item: Fact, products: Mapping[str, Fact]) -> dict[str, Any]:
    """One fee line: purchase = first unit + further units; rental = 0; unknown product = price missing."""
    line = {field: item[field] for field in ITEM_FIELDS}
    product = products.get(item["product_code"])
    if item["license_type"] == "rental":
        return {**line, "annual_fee": 0, "price_missing": False, "unit_fee": None, "additional_unit_fee": None}
    if product is None:
        return {**line, "annual_fee": None, "price_missing": True, "unit_fee": None, "additional_unit_fee": None}
    fee = product["annual_fee"] + (item["quantity"] - 1) * product["additional_unit_fee"]
    # the two prices go along so the portal can show how the fee adds up
    return {
        **line,
        "annual_fee": fee,
        "price_missing": False,
        "unit_fee": product["annual_fee"],
        "additional_unit_fee": product["additional_unit_fee"],
    }


def vat_amount(net: int, vat_rate: int) -> int:
    """net * rate / 100 rounded half up (away from zero) to whole forints, in integer arithmetic."""
    magnitude = (abs(net) * vat_rate + 50) // 100
    return magnitude if net >= 0 else -magnitude


def contract_fee(contract: Fact, items: Iterable[Fact], price_lists: Iterable[Fact], as_of: date) -> dict[str, Any]:
    """Expected annual support fee of one contract on its next anniversary.

    `net_total` is the sum of the priced lines only: a line with `price_missing` adds nothing,
    so the total is a lower bound until the product is priced. Without a price list in force
    on the anniversary, `price_list_valid_from`, `vat_rate`, `vat_amount` and `gross_total`
    are None and every purchase line has `price_missing`.
    """
    anniversary = anniversary_date(contract["starts_on"], as_of)
    price_list = price_list_in_force(price_lists, anniversary)
    products = {p["product_code"]: p for p in price_list["products"]} if price_list else {}
    lines = [fee_line(item, products) for item in items]
    net_total = sum(line["annual_fee"] for line in lines if line["annual_fee"] is not None)
    vat_rate = price_list["vat_rate"] if price_list else None
    vat = vat_amount(net_total, vat_rate) if vat_rate is not None else None
    return {
        "contract_id": contract["contract_id"],
        "anniversary_date": anniversary,
        "price_list_valid_from": price_list["valid_from"] if price_list else None,
        "lines": lines,
        "net_total": net_total,
        "vat_rate": vat_rate,
        "vat_amount": vat,
        "gross_total": net_total + vat if vat is not None else None,
    }
