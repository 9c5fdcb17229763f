"""Field types and the base schema shared by every event schema."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

CODE_REGEX = r"\A[A-Za-z0-9_/\-]{1,32}\Z"
CODE_MESSAGE = "Must be 1-32 characters of A-Z a-z 0-9 - _ /."
CODE = validate.Regexp(CODE_REGEX, error=CODE_MESSAGE)


class InvalidEvent(ValueError):
    """An event that breaks the contract: it is dead-lettered with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Strict(Schema):
    """Base: unknown fields are ignored, as the contract demands."""

    class Meta:
        unknown = EXCLUDE


class StrictInt(fields.Integer):
    """An integer that refuses strings, floats and booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def code(**kw: Any) -> fields.String:
    """A customer code or serial number field."""
    return fields.String(validate=CODE, **kw)


def text(**kw: Any) -> fields.String:
    """A free-text field that must not be empty."""
    return fields.String(validate=validate.Length(min=1, max=10_000), **kw)


def money(**kw: Any) -> StrictInt:
    """An integer amount of forints."""
    return StrictInt(**kw)


def one_of(*choices: str, **kw: Any) -> fields.String:
    """A string restricted to the given enum values."""
    return fields.String(validate=validate.OneOf(choices), **kw)


Date = fields.Date
Timestamp = fields.AwareDateTime


class StrictBool(fields.Boolean):
    """A JSON boolean; strings and numbers are refused (marshmallow's own Boolean takes 1 and 0, since 1 == True).

    Its `truthy` and `falsy` sets are not consulted: only `true` and `false` load.
    """

    def __init__(self, **kwargs: Any) -> None:
        if "truthy" in kwargs or "falsy" in kwargs:
            raise TypeError("StrictBool takes only JSON booleans: no truthy or falsy sets")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid", input=value)
        return value


def strict_bool(**kw: Any) -> StrictBool:
    """A JSON boolean; strings and numbers are refused."""
    return StrictBool(**kw)
