"""Schemas of the contract administration events (topic `contracts`)."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.events.fields import Date, Strict, StrictInt, code, money, one_of, text


class CustomerBlock(Strict):
    name = text(required=True)
    postal_code = text(required=True)
    city = text(required=True)
    street_address = text(required=True)
    tax_number = fields.String()
    email = fields.String()


class Item(Strict):
    serial_number = code(required=True)
    product_code = text(required=True)
    product_name = text(required=True)
    quantity = StrictInt(required=True, validate=validate.Range(min=1))
    license_type = one_of("purchase", "rental", required=True)


class ContractSigned(Strict):
    contract_id = text(required=True)
    customer_code = code(required=True)
    signed_on = Date(required=True)
    starts_on = Date(required=True)
    customer = fields.Nested(CustomerBlock, required=True)
    items = fields.List(fields.Nested(Item), required=True)


class ItemAdded(Strict):
    contract_id = text(required=True)
    customer_code = code(required=True)
    effective_on = Date(required=True)
    item = fields.Nested(Item, required=True)


class ItemRemoved(Strict):
    contract_id = text(required=True)
    customer_code = code(required=True)
    effective_on = Date(required=True)
    serial_number = code(required=True)


class ItemQuantityChanged(ItemRemoved):
    quantity = StrictInt(required=True, validate=validate.Range(min=1))


class CustomerDetailsChanged(Strict):
    customer_code = code(required=True)
    effective_on = Date(required=True)
    name = text()
    postal_code = text()
    city = text()
    street_address = text()
    tax_number = fields.String()
    email = fields.String()


class ContractTerminated(Strict):
    contract_id = text(required=True)
    customer_code = code(required=True)
    terminated_on = Date(required=True)


class PortalPasswordSet(Strict):
    customer_code = code(required=True)
    password_hash = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[^$]+\$[^$]+$", error="Must be an argon2id PHC string."
        ),
    )


class PortalPasswordRemoved(Strict):
    customer_code = code(required=True)


class Product(Strict):
    product_code = text(required=True)
    product_name = text(required=True)
    annual_fee = money(required=True, validate=validate.Range(min=0))
    additional_unit_fee = money(required=True, validate=validate.Range(min=0))


class QuotaTier(Strict):
    min_annual_fee = money(required=True, validate=validate.Range(min=0))
    minutes = StrictInt(required=True, validate=validate.Range(min=0))


class PriceListPublished(Strict):
    valid_from = Date(required=True)
    currency = one_of("HUF", required=True)
    vat_rate = StrictInt(required=True, validate=validate.Range(min=0, max=100))
    products = fields.List(fields.Nested(Product), required=True)
    quota_tiers = fields.List(fields.Nested(QuotaTier), required=True)
