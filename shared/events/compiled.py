"""Precompiled loaders for the common case: a valid event, loaded without marshmallow's schema machinery.

A loader is compiled from a marshmallow schema's own fields and validators, so the catalog is still
declared once. It returns what `schema.load` would, or None whenever anything is not plainly valid:
then the caller runs `schema.load` itself, which gives the refusal and its reason. So the fast path
accepts exactly what marshmallow accepts and never words a refusal. Schemas using features the
compiler does not know (pre/post-load hooks, field validators by decorator, data_key, load_default)
get no fast loader at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, utils, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

from shared.events.fields import StrictBool, StrictInt

Loader = Callable[[Any], Any]
INVALID = object()  # "not plainly valid": leave it to marshmallow (also for shared/events/typed.py)


def _field_loader(name: str, field: fields.Field) -> Loader:
    """The value as `field.deserialize` gives it, or INVALID."""
    if isinstance(field, fields.Nested) and isinstance(field.nested, type) and not field.many:
        inner = compile_schema(field.schema)
        if inner is None or field.allow_none or field.unknown is not None or field.validators:
            raise _Unsupported(name)

        def load_nested(value: Any) -> Any:
            out = inner(value)
            return INVALID if out is None else out

        return load_nested
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested) and not field.validators:
        item = _field_loader(name, field.inner)

        def load_list(value: Any) -> Any:
            if type(value) is not list:
                return INVALID
            out = [item(entry) for entry in value]
            return INVALID if any(entry is INVALID for entry in out) else out

        return load_list
    if isinstance(field, fields.Nested | fields.List):
        raise _Unsupported(name)
    convert = _converter(field)
    checks = [_check(v) for v in field.validators]
    allow_none = field.allow_none

    def load_plain(value: Any) -> Any:
        if value is None:
            return None if allow_none else INVALID
        value = convert(value)
        if value is INVALID:
            return INVALID
        for check in checks:
            if not check(value):
                return INVALID
        return value

    return load_plain


def _converter(field: Any) -> Loader:
    """What `field._deserialize` does to a plainly valid value (INVALID otherwise)."""
    kind = type(field)
    if kind is fields.String:
        return lambda v: v if type(v) is str else INVALID
    if isinstance(field, fields.Integer) and field.strict and kind in (fields.Integer, StrictInt):
        return lambda v: v if type(v) is int else INVALID
    if kind is StrictBool:
        return lambda v: v if type(v) is bool else INVALID
    temporal = temporal_loader(field)
    if temporal is not None:
        return temporal

    def generic(v: Any) -> Any:
        try:
            return field._deserialize(v, field.name, None)  # noqa: SLF001 - validators run separately
        except ValidationError:
            return INVALID

    return generic


def temporal_loader(field: Any) -> Loader | None:
    """A Date's or AwareDateTime's parsing of a string, as its `_deserialize` does it (INVALID where that refuses);
    None for any other field, and for one that parses otherwise (no string function, a default time zone)."""
    kind = type(field)
    if kind not in (fields.Date, fields.AwareDateTime):
        return None
    parse = field.DESERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    aware = kind is fields.AwareDateTime
    if parse is None or (aware and field.default_timezone is not None):
        return None

    def temporal(v: Any) -> Any:
        if type(v) is not str:
            return INVALID
        try:
            out = parse(v)
        except (TypeError, AttributeError, ValueError):
            return INVALID
        return INVALID if aware and not utils.is_aware(out) else out

    return temporal


def _check(validator: Any) -> Callable[[Any], bool]:
    """A predicate that is True exactly when the validator would pass the value."""
    kind = type(validator)
    if kind is validate.Length and validator.equal is None:
        low, high = validator.min, validator.max
        return lambda v: (low is None or len(v) >= low) and (high is None or len(v) <= high)
    if kind is validate.Regexp:
        match = validator.regex.match
        return lambda v: match(v) is not None
    if kind is validate.Equal:
        expected = validator.comparable
        return lambda v: v == expected

    def generic(v: Any) -> bool:
        try:
            validator(v)
        except ValidationError:
            return False
        return True

    return generic


class _Unsupported(Exception):
    """A schema feature the compiler does not reproduce."""


def compile_schema(schema: Schema) -> Callable[[Any], dict[str, Any] | None] | None:
    """A fast loader equivalent to `schema.load` on valid input (None when input is not plainly valid)."""
    hooks = schema._hooks  # noqa: SLF001 - the decorators' registry is how marshmallow finds them
    if schema.unknown != EXCLUDE or hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES] or schema.many:
        return None
    try:
        plan = []
        for attr, field in schema.load_fields.items():
            if field.data_key is not None or field.attribute is not None or field.load_default is not missing:
                return None
            plan.append((attr, field.required, _field_loader(attr, field)))
    except _Unsupported:
        return None
    validators = [getattr(schema, name) for name, many, _ in hooks[VALIDATES_SCHEMA] if not many]
    if any(kwargs.get("pass_original") for _, _, kwargs in hooks[VALIDATES_SCHEMA]) or any(
        many for _, many, _ in hooks[VALIDATES_SCHEMA]
    ):
        return None

    def load(data: Any) -> dict[str, Any] | None:
        if type(data) is not dict:
            return None
        out = {}
        for attr, required, loader in plan:
            if attr not in data:
                if required:
                    return None
                continue
            value = loader(data[attr])
            if value is INVALID:
                return None
            out[attr] = value
        try:
            for validator in validators:
                validator(out, partial=None, many=False, unknown=EXCLUDE)
        except (ValidationError, KeyError, TypeError):
            return None
        return out

    return load
