"""Response schemas of the contract annex and the expected annual support fee."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.responses import LICENSE_TYPES


class AnnexCustomer(Schema):
    """Customer details in force on `as_of`."""

    customer_code = fields.String()
    name = fields.String()
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    street_address = fields.String(allow_none=True)
    tax_number = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ContractItem(Schema):
    """An item in force on `as_of`."""

    serial_number = fields.String()
    product_code = fields.String()
    product_name = fields.String(allow_none=True)
    quantity = fields.Integer()
    license_type = fields.String(validate=validate.OneOf(LICENSE_TYPES))


class AnnexContract(Schema):
    """A contract in force on `as_of`."""

    contract_id = fields.String()
    signed_on = fields.Date()
    starts_on = fields.Date()
    items = fields.List(fields.Nested(ContractItem))


class ReportTo(Schema):
    """Where the vendor takes annex corrections."""

    email = fields.String(metadata={"example": "adminisztracio@szamado.hu"})


class ContractAnnex(Schema):
    """The contract annex as of a date."""

    customer_code = fields.String()
    as_of = fields.Date()
    customer = fields.Nested(AnnexCustomer)
    contracts = fields.List(fields.Nested(AnnexContract))
    discrepancy_note = fields.String()
    report_to = fields.Nested(ReportTo)


class FeeLine(ContractItem):
    """An item and its annual support fee."""

    annual_fee = fields.Integer(allow_none=True)
    price_missing = fields.Boolean()


class ContractFee(Schema):
    """Expected fee of one contract on its next anniversary."""

    contract_id = fields.String()
    anniversary_date = fields.Date()
    price_list_valid_from = fields.Date(allow_none=True)
    lines = fields.List(fields.Nested(FeeLine))
    net_total = fields.Integer()
    vat_rate = fields.Integer(allow_none=True)
    vat_amount = fields.Integer(allow_none=True)
    gross_total = fields.Integer(allow_none=True)


class ExpectedFee(Schema):
    """Expected annual support fee per contract in force."""

    customer_code = fields.String()
    as_of = fields.Date()
    contracts = fields.List(fields.Nested(ContractFee))
