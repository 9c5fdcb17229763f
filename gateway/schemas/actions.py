"""Request and response schemas of one support call (query 9) and of the customer actions (section 10)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.api.fields import PUBLIC_CODE, storable_text
from shared.api.tickets import CATEGORIES

MAX_SUBJECT, MAX_DESCRIPTION, MAX_MESSAGE = 200, 5000, 5000
MIN_PASSWORD, MAX_PASSWORD = 10, 128


def not_blank(value: str) -> None:
    """Refuse text of spaces only: it says nothing."""
    if not value.strip():
        raise ValidationError("Must not be empty.")


class ActionBody(Schema):
    """Base of the action bodies: unknown fields are ignored."""

    class Meta:
        unknown = EXCLUDE


class NewCall(ActionBody):
    """A new support call from the portal."""

    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    subject = fields.String(required=True, validate=[validate.Length(min=1, max=MAX_SUBJECT), not_blank, storable_text])
    description = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=MAX_DESCRIPTION), storable_text]
    )
    serial_number = fields.String(
        load_default=None,
        allow_none=True,
        validate=PUBLIC_CODE,
        metadata={"description": "One of the customer's serial numbers in force."},
    )


class Reply(ActionBody):
    """The customer's answer on a call."""

    message = fields.String(required=True, validate=[validate.Length(min=1, max=MAX_MESSAGE), not_blank, storable_text])


class PasswordSet(ActionBody):
    """Set or change the portal password (`current_password` when one is set)."""

    current_password = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=256), storable_text]
    )
    new_password = fields.String(
        required=True, validate=[validate.Length(min=MIN_PASSWORD, max=MAX_PASSWORD), storable_text]
    )


class PasswordRemove(ActionBody):
    """Remove the portal password."""

    current_password = fields.String(required=True, validate=[validate.Length(min=1, max=256), storable_text])


class Accepted(Schema):
    """The action was published: its event id (and the new call's id)."""

    event_id = fields.String(required=True)
    call_id = fields.String()


def password_problems(new_password: str, customer_code: str) -> dict[str, Any]:
    """Field errors of a new password beyond its length (it must not contain the customer code)."""
    if customer_code.lower() in new_password.lower():
        return {"new_password": ["Must not contain the customer code."]}
    return {}
