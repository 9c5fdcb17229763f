"""Field types and checks of the API schemas: strict dates, storable text, the from/to period."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shared.pgtext import unstorable_char

ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
# A customer code or serial number, written so that both Python and ECMA-262 (the OpenAPI document's regex
# dialect) read it alike: `(?!\n)` keeps Python's `$` from accepting a trailing newline.
PUBLIC_CODE = validate.Regexp(r"^[A-Za-z0-9_/-]{1,32}(?!\n)$", error="Must be 1-32 characters of A-Z a-z 0-9 - _ /.")


class StrictDate(fields.Date):
    """A `YYYY-MM-DD` date only (Python's fromisoformat also takes `20260301` and week dates)."""

    default_error_messages = {"invalid": "Not a valid date; use YYYY-MM-DD."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not ISO_DATE.match(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def storable_text(value: str) -> None:
    """Refuse text that no code, serial or password contains and PostgreSQL cannot hold: NUL, lone surrogates."""
    char = unstorable_char(value)
    if char == "\x00":
        raise ValidationError("Must not contain NUL characters.")
    if char is not None:
        raise ValidationError("Must be valid Unicode text.")


class QueryArgs(Schema):
    """Base of the query-string schemas: unknown parameters are ignored."""

    class Meta:
        unknown = EXCLUDE


class PeriodArgs(QueryArgs):
    """A query with an optional `from` … `to` period; `to` before `from` is refused."""

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("Must not be before 'from'.", "to")
