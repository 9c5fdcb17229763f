"""Builders of realistic catalog events for end-to-end tests."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from tests.support.events import envelope

PRICE_LIST_FROM = date(2020, 1, 1)
PRODUCTS = {
    "KONYV": ("Kettős könyvelés", 120_000, 30_000),
    "BER": ("Bérszámfejtés", 80_000, 20_000),
}


def price_list(valid_from: date = PRICE_LIST_FROM, vat_rate: int = 27) -> dict:
    """A price list with two products and three quota tiers."""
    return envelope(
        "price_list.published",
        "price-list",
        {
            "valid_from": valid_from.isoformat(),
            "currency": "HUF",
            "vat_rate": vat_rate,
            "products": [
                {"product_code": code, "product_name": name, "annual_fee": fee, "additional_unit_fee": extra}
                for code, (name, fee, extra) in PRODUCTS.items()
            ],
            "quota_tiers": [
                {"min_annual_fee": 0, "minutes": 60},
                {"min_annual_fee": 100_000, "minutes": 180},
                {"min_annual_fee": 250_000, "minutes": 360},
            ],
        },
    )


def item(serial: str, product: str = "KONYV", quantity: int = 1, license_type: str = "purchase") -> dict:
    """A contract item."""
    return {
        "serial_number": serial,
        "product_code": product,
        "product_name": PRODUCTS[product][0],
        "quantity": quantity,
        "license_type": license_type,
    }


def contract_signed(
    customer: str,
    signed_on: date,
    starts_on: date,
    items: list[dict],
    name: str = "Teszt Kft.",
    contract_id: str | None = None,
) -> dict:
    """A contract.signed event."""
    return envelope(
        "contract.signed",
        customer,
        {
            "contract_id": contract_id or f"K-{uuid.uuid4().hex[:8]}",
            "customer_code": customer,
            "signed_on": signed_on.isoformat(),
            "starts_on": starts_on.isoformat(),
            "customer": {
                "name": name,
                "postal_code": "6720",
                "city": "Szeged",
                "street_address": "Kárász utca 5.",
                "tax_number": "11111111-2-06",
                "email": "iroda@teszt.hu",
            },
            "items": items,
        },
    )


def invoice(
    customer: str,
    number: str,
    issued_on: date,
    gross: int,
    kind: str = "other",
    due_days: int = 15,
    support_year: tuple[date, date] | None = None,
    overrun_minutes: int | None = None,
) -> dict:
    """An invoice.issued event; net and VAT derived from the gross at 27%."""
    net = round(gross / 1.27)
    data = {
        "invoice_number": number,
        "customer_code": customer,
        "issued_on": issued_on.isoformat(),
        "due_on": (issued_on + timedelta(days=due_days)).isoformat(),
        "kind": kind,
        "description": f"{kind} {number}",
        "net_amount": net,
        "vat_amount": gross - net,
        "gross_amount": gross,
        "currency": "HUF",
    }
    if support_year:
        data["support_year"] = {"starts_on": support_year[0].isoformat(), "ends_on": support_year[1].isoformat()}
    if overrun_minutes is not None:
        data["overrun_minutes"] = overrun_minutes
    return envelope("invoice.issued", customer, data)


def cancellation(customer: str, number: str, on: date) -> dict:
    """An invoice.cancelled event."""
    return envelope(
        "invoice.cancelled",
        customer,
        {"invoice_number": number, "customer_code": customer, "cancelled_on": on.isoformat(), "reason": "hibás"},
    )


def paid(customer: str, amount: int, on: date, reference: str | None = None) -> dict:
    """A payment.received event."""
    data = {
        "payment_id": f"B-{uuid.uuid4().hex[:8]}",
        "customer_code": customer,
        "received_on": on.isoformat(),
        "amount": amount,
        "method": "bank_transfer",
    }
    if reference:
        data["reference"] = reference
    return envelope("payment.received", customer, data)


def codes(customer: str, serial: str, valid_from: date, valid_until: date, rental: str | None = None) -> dict:
    """A license.codes_issued event."""
    return envelope(
        "license.codes_issued",
        customer,
        {
            "customer_code": customer,
            "serial_number": serial,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
            "rental_code": rental,
            "internet_code": f"NET-{serial}",
        },
    )


def call_event(kind: str, customer: str, call_id: str, at: str, **data: object) -> dict:
    """A support_call.* event; `at` is the event's own timestamp field."""
    stamp = {
        "opened": "opened_at",
        "assigned": "assigned_at",
        "status_changed": "changed_at",
        "work_logged": "performed_at",
        "closed": "closed_at",
        "reopened": "reopened_at",
        "customer_replied": "replied_at",
    }[kind]
    return envelope(
        f"support_call.{kind}", customer, {"call_id": call_id, "customer_code": customer, stamp: at, **data}, time=at
    )
