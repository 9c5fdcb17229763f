"""Contract administration: price lists, contracts, item and customer changes, portal passwords."""

from __future__ import annotations

from datetime import date

from demo.catalog import PriceList
from demo.dates import moment
from demo.envelope import PRICE_LIST_SUBJECT, Fact
from demo.model import CUSTOMER_FIELDS, Contract, Customer


def price_list_fact(price_list: PriceList) -> Fact:
    """`price_list.published`, a month before it comes into force."""
    products = [
        {
            "product_code": p.code,
            "product_name": p.name,
            "annual_fee": p.annual_fee,
            "additional_unit_fee": p.additional_unit_fee,
        }
        for p in price_list.products.values()
    ]
    data = {
        "valid_from": price_list.valid_from.isoformat(),
        "currency": "HUF",
        "vat_rate": price_list.vat_rate,
        "products": products,
        "quota_tiers": [{"min_annual_fee": fee, "minutes": minutes} for fee, minutes in price_list.quota_tiers],
    }
    return Fact("contracts", "price_list.published", moment(price_list.published_on, 8), PRICE_LIST_SUBJECT, data)


def customer_facts(customer: Customer) -> list[Fact]:
    """Every contracts-topic fact of one customer."""
    facts = []
    for contract in customer.contracts:
        facts += contract_facts(customer, contract)
    for effective_on, change in customer.details_changes:
        data = {"customer_code": customer.code, "effective_on": effective_on.isoformat(), **change}
        facts.append(fact(customer, "contract.customer_details_changed", effective_on, 10, data))
    if customer.password_hash and customer.password_set_on:
        data = {"customer_code": customer.code, "password_hash": customer.password_hash}
        facts.append(fact(customer, "customer.portal_password_set", customer.password_set_on, 16, data))
    if customer.password_removed_on:
        data = {"customer_code": customer.code}
        facts.append(fact(customer, "customer.portal_password_removed", customer.password_removed_on, 16, data))
    return facts


def fact(customer: Customer, event_type: str, day: date, hour: int, data: dict) -> Fact:
    """A contracts-topic fact of the customer at `hour` UTC on a day."""
    return Fact("contracts", event_type, moment(day, hour), customer.code, data)


def contract_facts(customer: Customer, contract: Contract) -> list[Fact]:
    """Signing, later item changes and termination of one contract."""
    details = customer.details_on(contract.signed_on)
    signed = {
        "contract_id": contract.contract_id,
        "customer_code": customer.code,
        "signed_on": contract.signed_on.isoformat(),
        "starts_on": contract.starts_on.isoformat(),
        "customer": {name: details[name] for name in CUSTOMER_FIELDS},
        "items": [item.as_data() for item in contract.items if item.signed],
    }
    facts = [fact(customer, "contract.signed", contract.signed_on, 9, signed)]
    head = {"contract_id": contract.contract_id, "customer_code": customer.code}
    for item in contract.items:
        if not item.signed:
            data = head | {"effective_on": item.added_on.isoformat(), "item": item.as_data()}
            facts.append(fact(customer, "contract.item_added", item.added_on, 8, data))
        for effective_on, quantity in item.quantity_changes:
            data = head | {"effective_on": effective_on.isoformat(), "serial_number": item.serial_number}
            facts.append(
                fact(customer, "contract.item_quantity_changed", effective_on, 11, data | {"quantity": quantity})
            )
        if item.removed_on:
            data = head | {"effective_on": item.removed_on.isoformat(), "serial_number": item.serial_number}
            facts.append(fact(customer, "contract.item_removed", item.removed_on, 12, data))
    if contract.terminated_on:
        data = head | {"terminated_on": contract.terminated_on.isoformat()}
        facts.append(fact(customer, "contract.terminated", contract.terminated_on, 7, data))
    return facts
