"""Request schemas of the gateway's own operations: the login body (the queries' are in shared/api)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from shared.api.fields import storable_text

MAX_CREDENTIAL_LENGTH = 256


class LoginRequest(Schema):
    """Login body: customer code, serial number, and the password if the customer has one."""

    class Meta:
        unknown = EXCLUDE

    customer_code = fields.String(
        required=True, validate=[validate.Length(min=1, max=MAX_CREDENTIAL_LENGTH), storable_text]
    )
    serial_number = fields.String(
        required=True, validate=[validate.Length(min=1, max=MAX_CREDENTIAL_LENGTH), storable_text]
    )
    password = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=MAX_CREDENTIAL_LENGTH), storable_text]
    )
