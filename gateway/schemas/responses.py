"""Response schemas of the gateway's own operations (the queries' answers are declared in shared/api)."""

from __future__ import annotations

from marshmallow import Schema, fields


class SessionCreated(Schema):
    """A new session: the bearer token and what it is bound to."""

    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    customer_code = fields.String(required=True)
    serial_number = fields.String(required=True)
    customer_name = fields.String(allow_none=True)
