"""Typed decoders (msgspec) compiled from the catalog's marshmallow schemas: a valid event's bytes to its envelope
and data in one pass of C, without `json.loads` and the Python loaders of shared/events/compiled.py.

The rule of compiled.py holds here too. The catalog is declared once, in marshmallow. A decoder is derived from
a schema's own fields and validators and returns exactly what marshmallow's `load` gives, or None; then the
caller takes the slower path, where marshmallow decides and words the refusal. So this path accepts nothing that
marshmallow refuses, and it never words a refusal. What is mapped:

- strings: `Length` to `min_length`/`max_length`, `Regexp` to a pattern anchored as `re.match` anchors it,
  `OneOf` and `Equal` to a `Literal`;
- strict integers (`Range` to `ge`/`gt`/`le`/`lt`), strict booleans, `allow_none`;
- dates and timestamps: decoded as strings, then parsed by the field's own function. msgspec's RFC 3339 parser
  accepts what marshmallow refuses (a lowercase `t` or `z`) and rounds a seventh decimal that marshmallow cuts;
- nested schemas and lists of them; each schema's `@validates_schema` hooks run on the result;
- unknown keys are ignored (EXCLUDE); a key given twice keeps its last value, as with `json.loads`;
- the result's keys come in the schema's order, as marshmallow gives them.

A schema with anything else (pre/post-load hooks, data_key, load_default, other fields or validators) gets no
decoder. The bytes must be UTF-8: msgspec does not check the bytes of keys it skips, and `json.loads` would
refuse them. A message with a `\\u0000` escape goes the slow way, which refuses a NUL that would be stored
(msgspec refuses lone surrogates itself).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

import msgspec
from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

from shared.events.compiled import INVALID, temporal_loader
from shared.events.fields import StrictBool, StrictInt

Post = Callable[[Any], Any]  # a decoded value to the loaded one; raises _Invalid
_PLAIN_FLAGS = re.compile("").flags  # re.UNICODE: what a pattern without flags compiles with
# what a message that is not plainly valid raises on the way (ValueError covers _Invalid and UnicodeDecodeError;
# KeyError and TypeError come from a schema's validators, as in compiled.py)
_NOT_PLAINLY_VALID = (
    msgspec.ValidationError,
    msgspec.DecodeError,
    ValidationError,
    ValueError,
    KeyError,
    TypeError,
    RecursionError,
)


class _Unsupported(Exception):
    """A schema feature this module does not reproduce."""


class _Invalid(ValueError):
    """Not plainly valid: leave it to marshmallow."""


def _string(field: Any) -> Any:
    constraints: dict[str, Any] = {}
    choices: tuple[str, ...] | None = None
    for validator in field.validators:
        kind = type(validator)
        if kind is validate.Length and validator.equal is None:
            if validator.min is not None:
                constraints["min_length"] = validator.min
            if validator.max is not None:
                constraints["max_length"] = validator.max
        elif kind is validate.Regexp and "pattern" not in constraints and validator.regex.flags == _PLAIN_FLAGS:
            constraints["pattern"] = rf"\A(?:{validator.regex.pattern})"  # msgspec searches; marshmallow matches
        elif kind is validate.OneOf and choices is None and all(type(c) is str for c in validator.choices):
            choices = tuple(validator.choices)
        elif kind is validate.Equal and choices is None and type(validator.comparable) is str:
            choices = (validator.comparable,)
        else:
            raise _Unsupported(field.name)
    if choices is not None:
        if constraints:
            raise _Unsupported(field.name)
        return Literal[choices]
    try:
        return Annotated[str, msgspec.Meta(**constraints)] if constraints else str
    except re.error:
        raise _Unsupported(field.name) from None


def _integer(field: Any) -> Any:
    constraints: dict[str, Any] = {}
    for validator in field.validators:
        if type(validator) is not validate.Range:
            raise _Unsupported(field.name)
        if validator.min is not None:
            constraints["ge" if validator.min_inclusive else "gt"] = validator.min
        if validator.max is not None:
            constraints["le" if validator.max_inclusive else "lt"] = validator.max
    return Annotated[int, msgspec.Meta(**constraints)] if constraints else int


def _temporal(field: Any) -> Post:
    """The field's own parser of a string (shared/events/compiled.py), raising _Invalid where marshmallow refuses."""
    parse = temporal_loader(field)
    if parse is None or (field.format or field.DEFAULT_FORMAT) not in ("iso", "iso8601") or field.validators:
        raise _Unsupported(field.name)

    def load(value: str) -> Any:
        out = parse(value)
        if out is INVALID:
            raise _Invalid
        return out

    return load


def _field(field: Any) -> tuple[Any, Post | None]:
    """The msgspec type of a field and what turns its decoded value into the loaded one (None: nothing)."""
    kind = type(field)
    if isinstance(field, fields.Nested) and isinstance(field.nested, type) and not field.many:
        if field.allow_none or field.unknown is not None or field.validators:
            raise _Unsupported(field.name)
        return _schema(field.schema)
    if kind is fields.List and isinstance(field.inner, fields.Nested) and not field.validators:
        if field.allow_none:
            raise _Unsupported(field.name)
        inner, load_item = _field(field.inner)
        if load_item is None:
            return list[inner], None  # type: ignore[valid-type]

        def load_list(values: list[Any]) -> list[Any]:
            return [load_item(value) for value in values]

        return list[inner], load_list  # type: ignore[valid-type]
    if kind is fields.String:
        out, post = _string(field), None
    elif kind in (fields.Integer, StrictInt) and field.strict:
        out, post = _integer(field), None
    elif kind is StrictBool and not field.validators:
        out, post = bool, None
    elif kind in (fields.Date, fields.AwareDateTime):
        out, post = str, _temporal(field)
    else:
        raise _Unsupported(field.name)
    if not field.allow_none:
        return out, post
    if post is None:
        return out | None, None
    load_value = post

    def load_or_none(value: Any) -> Any:
        return None if value is None else load_value(value)

    return out | None, load_or_none


def _schema(schema: Schema, raw: tuple[str, ...] = ()) -> tuple[Any, Post]:
    """A TypedDict of the schema's fields and the function that completes a decoded dict into `load`'s result.

    Fields named in `raw` are `fields.Dict`s kept undecoded (msgspec.Raw), for a caller that decodes them by
    another field's value.
    """
    hooks = schema._hooks  # noqa: SLF001 - the decorators' registry is how marshmallow finds them
    if schema.unknown != EXCLUDE or hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES] or schema.many:
        raise _Unsupported(type(schema).__name__)
    if any(many or kwargs.get("pass_original") for _, many, kwargs in hooks[VALIDATES_SCHEMA]):
        raise _Unsupported(type(schema).__name__)
    annotations: dict[str, Any] = {}
    plan: list[tuple[str, Post | None]] = []
    required_raw: list[str] = []  # required raw fields: msgspec 0.23 refuses a Raw under Required[] ("Expected `raw`")
    for attr, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None or field.load_default is not missing:
            raise _Unsupported(attr)
        if attr in raw:
            if type(field) is not fields.Dict or field.key_field or field.value_field or field.validators:
                raise _Unsupported(attr)
            annotations[attr] = NotRequired[msgspec.Raw]
            plan.append((attr, None))
            if field.required:
                required_raw.append(attr)
            continue
        out, post = _field(field)
        annotations[attr] = Required[out] if field.required else NotRequired[out]
        plan.append((attr, post))
    validators = [getattr(schema, name) for name, _, _ in hooks[VALIDATES_SCHEMA]]
    shape = TypedDict(f"{type(schema).__name__}Typed", annotations)  # type: ignore[misc]

    def load(decoded: dict[str, Any]) -> dict[str, Any]:
        for attr in required_raw:
            if attr not in decoded:
                raise _Invalid(attr)
        out = {}
        for attr, post in plan:
            if attr in decoded:
                out[attr] = decoded[attr] if post is None else post(decoded[attr])
        for validator in validators:
            validator(out, partial=None, many=False, unknown=EXCLUDE)
        return out

    return shape, load


EventDecoder = Callable[[bytes], "tuple[dict[str, Any], dict[str, Any]] | None"]


def compile_events(
    envelope: Schema, data_schemas: dict[str, Schema], max_depth: int, type_field: str = "type"
) -> EventDecoder | None:
    """A decoder of a message's bytes to (envelope without its `data`, data) as marshmallow loads them, or None
    when not plainly valid.

    The envelope's `data` is decoded by the decoder of the event type it names; a type whose schema cannot be
    compiled always gives None (the slower path). No decoder at all when the envelope cannot be compiled.

    json.loads refuses what msgspec reads: integers of more digits than CPython converts
    (`sys.get_int_max_str_digits`, as it is when the decoder is built) and nesting deeper than the slow path
    allows (`max_depth`). A message with that many digits in a row, or more brackets than `max_depth`, goes the
    slow way.
    """
    try:
        shape, load_envelope = _schema(envelope, raw=("data",))
        read_envelope = msgspec.json.Decoder(shape).decode
    except (_Unsupported, TypeError, ValueError):  # msgspec refuses a type or constraint it cannot express
        return None
    data: dict[str, tuple[Callable[[Any], Any], Post]] = {}
    for kind, schema in data_schemas.items():
        try:
            data_shape, load_data = _schema(schema)
            data[kind] = (msgspec.json.Decoder(data_shape).decode, load_data)
        except (_Unsupported, TypeError, ValueError):
            continue

    digits = sys.get_int_max_str_digits()  # 0: no limit
    long_digits = re.compile(rb"\d{%d}" % (digits + 1)).search if digits else None

    def decode(value: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if value.count(b"{") + value.count(b"[") > max_depth:
            return None
        if b"\\u0000" in value:  # msgspec gives a NUL, which the slow path refuses (catalog.refuse_unstorable)
            return None
        if long_digits is not None and len(value) > digits and long_digits(value):
            return None
        try:
            value.decode("utf-8")  # what json.loads would refuse in a key msgspec skips
            env = load_envelope(read_envelope(value))
            reader = data.get(env[type_field])
            if reader is None:
                return None
            read_data, load_data = reader
            return env, load_data(read_data(env.pop("data")))
        except _NOT_PLAINLY_VALID:
            return None

    return decode
