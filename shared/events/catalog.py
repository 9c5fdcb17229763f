"""Validation of raw messages against the CloudEvents envelope and the event catalog."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.events import contract_admin as c
from shared.events import operations as o
from shared.events.compiled import compile_schema
from shared.events.envelope import Event
from shared.events.fields import InvalidEvent, Strict, Timestamp
from shared.events.topics import PRICE_LIST_SUBJECT, TOPIC_OF_TYPE
from shared.events.typed import compile_events
from shared.pgtext import unstorable_char

__all__ = ["InvalidEvent", "DATA_SCHEMAS", "validate_event", "decode", "load_event", "refuse_unstorable"]

DATA_SCHEMAS: dict[str, Schema] = {
    "contract.signed": c.ContractSigned(),
    "contract.item_added": c.ItemAdded(),
    "contract.item_removed": c.ItemRemoved(),
    "contract.item_quantity_changed": c.ItemQuantityChanged(),
    "contract.customer_details_changed": c.CustomerDetailsChanged(),
    "contract.terminated": c.ContractTerminated(),
    "customer.portal_password_set": c.PortalPasswordSet(),
    "customer.portal_password_removed": c.PortalPasswordRemoved(),
    "price_list.published": c.PriceListPublished(),
    "invoice.issued": o.InvoiceIssued(),
    "invoice.cancelled": o.InvoiceCancelled(),
    "payment.received": o.PaymentReceived(),
    "payment.refunded": o.PaymentRefunded(),
    "support_call.opened": o.CallOpened(),
    "support_call.assigned": o.CallAssigned(),
    "support_call.status_changed": o.CallStatusChanged(),
    "support_call.work_logged": o.WorkLogged(),
    "support_call.closed": o.CallClosed(),
    "support_call.reopened": o.CallReopened(),
    "support_call.customer_replied": o.CustomerReplied(),
    "license.codes_issued": o.CodesIssued(),
}
assert set(DATA_SCHEMAS) == set(TOPIC_OF_TYPE), "every catalog type needs a schema"


class Envelope(Strict):
    specversion = fields.String(required=True, validate=validate.Equal("1.0"))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(required=True, validate=validate.OneOf(sorted(DATA_SCHEMAS)))
    time = Timestamp(required=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=32))
    datacontenttype = fields.String(validate=validate.Equal("application/json"))
    data = fields.Dict(required=True)


ENVELOPE = Envelope()


MAX_DEPTH = 256  # arrays and objects in one another; the catalog's events nest four deep


def decode(value: bytes | str) -> dict[str, Any]:
    """Parse a message value as one UTF-8 JSON object.

    Bytes must be UTF-8 (RFC 8259), a leading byte order mark ignored: json.loads would also take UTF-16 and UTF-32,
    and the bytes of a lone surrogate (which no text column can store).

    Beyond syntax, json.loads refuses what CPython cannot hold: an integer of more digits than
    `sys.get_int_max_str_digits()` (4,300 unless configured), and nesting deeper than the recursion limit less the
    caller's depth. So that every reader gives the same answer, nesting deeper than MAX_DEPTH is refused first.
    """
    if _nested_deeper_than(value, MAX_DEPTH):
        raise InvalidEvent(f"not valid UTF-8 JSON: nested more than {MAX_DEPTH} deep")
    try:
        raw = json.loads(value.decode("utf-8-sig") if isinstance(value, bytes) else value)
    except RecursionError:  # not reached below MAX_DEPTH; kept for a caller already deep in its stack
        raise InvalidEvent(f"not valid UTF-8 JSON: nested more than {MAX_DEPTH} deep") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, or an integer over the digits limit
        reason = str(exc)
        if reason.startswith("Exceeds the limit"):
            reason = f"an integer of more than {sys.get_int_max_str_digits():,} digits"
        raise InvalidEvent(f"not valid UTF-8 JSON: {reason}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("not a JSON object")
    return raw


def _nested_deeper_than(value: bytes | str, limit: int) -> bool:
    """True when arrays and objects nest more than `limit` deep (brackets inside strings do not count).

    Counting brackets first keeps this free for ordinary messages; the scan runs only for one with more than
    `limit` of them.
    """
    text = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _messages(err: ValidationError, prefix: str = "") -> str:
    """Flatten marshmallow's nested messages into `field: message; ...`."""
    parts: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                walk(sub, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and node and not all(isinstance(x, str) for x in node):
            for sub in node:
                walk(sub, path)
        else:
            text = " ".join(node) if isinstance(node, list) else str(node)
            parts.append(f"{path or '_schema'}: {text}")

    walk(err.messages, prefix)
    return "; ".join(parts)


FAST_ENVELOPE = compile_schema(ENVELOPE)
FAST_DATA = {kind: loader for kind, schema in DATA_SCHEMAS.items() if (loader := compile_schema(schema))}
TYPED_EVENT = compile_events(ENVELOPE, DATA_SCHEMAS, MAX_DEPTH)


def load_event(
    value: bytes | str, topic: str | None = None, key: str | None = None, partition: int | None = None, offset: int = -1
) -> Event:
    """Decode and validate one message value; raise InvalidEvent with a readable reason.

    A plainly valid event given as bytes (a Kafka message value) is decoded by the typed decoder
    (shared/events/typed.py); anything else by `decode` and `validate_event`, where marshmallow decides and
    words the refusal. Given the record's partition, the event carries its topic, partition and offset.
    """
    typed = TYPED_EVENT(value) if TYPED_EVENT is not None and type(value) is bytes else None
    if typed is None:
        event = validate_event(decode(value), topic, key)
        if partition is None:
            return event
        return dataclasses.replace(event, topic=topic or "", partition=partition, offset=offset)
    env, data = typed
    _check_consistency(env, data, topic, key)
    if partition is None:
        return Event(env["id"], env["type"], env["source"], env["time"], env["subject"], data)
    return Event(
        env["id"], env["type"], env["source"], env["time"], env["subject"], data, topic or "", partition, offset
    )


def validate_event(raw: dict[str, Any], topic: str | None = None, key: str | None = None) -> Event:
    """Validate an envelope and its data; raise InvalidEvent with a readable reason."""
    env = FAST_ENVELOPE(raw) if FAST_ENVELOPE is not None else None
    loader = FAST_DATA.get(env["type"]) if env is not None else None
    data = loader(env["data"]) if loader is not None and env is not None else None
    if env is None or data is None:  # not plainly valid: marshmallow decides, and says why
        env, data = _load(raw)
    refuse_unstorable(env, data)
    _check_consistency(env, data, topic, key)
    return Event(env["id"], env["type"], env["source"], env["time"], env["subject"], data)


def _load(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope and its data loaded by marshmallow; InvalidEvent with the first failing part's messages."""
    try:
        env = ENVELOPE.load(raw)
    except ValidationError as err:
        raise InvalidEvent(f"invalid envelope: {_messages(err)}") from None
    try:
        data = DATA_SCHEMAS[env["type"]].load(env["data"])
    except ValidationError as err:
        raise InvalidEvent(f"invalid data for {env['type']}: {_messages(err, 'data')}") from None
    return env, data


def refuse_unstorable(env: dict[str, Any], data: dict[str, Any]) -> None:
    """Refuse a loaded string that a PostgreSQL text column cannot hold: one with U+0000 (NUL), or with a lone
    surrogate (JSON's `\\ud800` escape unpaired; json.loads keeps it, UTF-8 cannot write it).

    JSON allows both, so the schemas' validators pass them; a projector could then neither store the event nor
    skip it. The typed decoder never returns such a string (it steps aside for a NUL escape, and msgspec
    refuses lone surrogates), so only the slower path runs this walk. Unknown fields are ignored as ever.
    """
    for name, value in env.items():
        if name != "data" and (why := _unstorable(value, name)) is not None:
            raise InvalidEvent(f"invalid envelope: {why}")
    if (why := _unstorable(data, "data")) is not None:
        raise InvalidEvent(f"invalid data for {env['type']}: {why}")


def _unstorable(node: Any, path: str) -> str | None:
    """`path: why` for the first string below `node` that cannot be stored as text, or None."""
    if type(node) is str:
        char = unstorable_char(node)
        if char == "\x00":
            return f"{path}: U+0000 (NUL) cannot be stored"
        if char is not None:
            return f"{path}: a lone surrogate (U+{ord(char):04X}) cannot be stored"
    elif isinstance(node, dict):
        for key, item in node.items():
            if (why := _unstorable(item, f"{path}.{key}")) is not None:
                return why
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if (why := _unstorable(item, f"{path}.{index}")) is not None:
                return why
    return None


def _check_consistency(env: dict[str, Any], data: dict[str, Any], topic: str | None, key: str | None) -> None:
    """Subject, key, topic and data must tell the same story."""
    kind = env["type"]
    if topic is not None and TOPIC_OF_TYPE[kind] != topic:
        raise InvalidEvent(f"type {kind} does not belong on topic {topic}")
    expected = PRICE_LIST_SUBJECT if kind == "price_list.published" else data.get("customer_code")
    if env["subject"] != expected:
        raise InvalidEvent(f"subject {env['subject']!r} differs from {expected!r}")
    if key is not None and key != env["subject"]:
        raise InvalidEvent(f"key {key!r} differs from subject {env['subject']!r}")
