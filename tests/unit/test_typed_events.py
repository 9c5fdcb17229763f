"""The fast paths of event validation give exactly marshmallow's answer, or step aside.

marshmallow is the oracle: `catalog._load` after `json.loads`. The typed decoder (msgspec,
shared/events/typed.py) and the compiled loaders (shared/events/compiled.py) may only return what it
returns, with the same keys in the same order and values of the same types, or decline (None); they must
never accept what it refuses. Events are the catalog's examples, damaged at random (fixed seed in `make test`).
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.events import catalog
from shared.events.catalog import (
    DATA_SCHEMAS,
    ENVELOPE,
    FAST_DATA,
    FAST_ENVELOPE,
    MAX_DEPTH,
    TYPED_EVENT,
    InvalidEvent,
    load_event,
)
from shared.events.topics import PRICE_LIST_SUBJECT, TOPIC_OF_TYPE
from shared.events.typed import compile_events
from tests.support.events import envelope
from tests.support.examples import EXAMPLES

REFUSED = "refused"
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"
TRICKY: list[Any] = [
    None, True, False, 0, 1, -1, 2, 100, 101, 2**63, 2**64 + 1, 1.0, 1.5, -0.0,
    "", " ", "x", "A" * 32, "A" * 33, "ä" * 10_000, "ä" * 10_001, "C1001", "C 1001", "C1001\n", "é1",
    "2024-02-29", "2023-02-29", "2024-1-5", "20240105", "2024-W01-1", "2024-01-01T00:00",
    "2024-01-01T10:00:00Z", "2024-01-01t10:00:00z", "2024-01-01 10:00:00+01:00", "2024-01-01T10:00:00+0100",
    "2024-01-01T10:00:00+01", "2024-01-01T10:00:00.1234567Z", "2024-01-01T10:00:00", "2024-01-01T24:00:00Z",
    "2024-01-01T23:59:60Z", "2024-01-01T10:00:00-00:00", ARGON2, ARGON2 + "\n", "x" + ARGON2,
    "1.0", "HUF", "huf", "purchase", "rental", "bank_transfer", "phone", "quota_overrun", "annual_support_fee",
    "application/json", "text/plain", "payment.received", "invoice.issued", "price_list.published",
    "a\x00b", "\x00", "\ud800", "é\udfff", "\\u0000", "\U0001f600",
    [], {}, [{}], [1], {"starts_on": "2024-01-01", "ends_on": "2023-01-01"},
    {"starts_on": "2024-01-01", "ends_on": "2025-01-01"},
]  # fmt: skip


def canonical(value: Any) -> Any:
    """Values with their types and key order, datetimes with their offsets: equal only if loaded alike."""
    if isinstance(value, dict):
        return ("dict", tuple((key, canonical(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canonical(item) for item in value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.utcoffset())
    if isinstance(value, date):
        return ("date", value.isoformat())
    return (type(value).__name__, value)


def oracle(value: bytes, storable: bool = True) -> Any:
    """marshmallow's envelope (without `data`) and data, or REFUSED; `storable`: with the check that every string
    can be stored (catalog.refuse_unstorable), which the typed decoder must match and the compiled loaders leave
    to their caller."""
    try:
        env, data = catalog._load(catalog.decode(value))  # noqa: SLF001 - the slow path is the oracle
        if storable:
            catalog.refuse_unstorable(env, data)
    except InvalidEvent:
        return REFUSED
    env = dict(env)
    env.pop("data")
    return canonical((env, data))


def json_loaded_data(value: bytes) -> dict[str, Any]:
    """marshmallow's data of an event it accepts."""
    return catalog._load(catalog.decode(value))[1]  # noqa: SLF001


def compiled(value: bytes) -> Any:
    """The compiled loaders' answer (None when they step aside)."""
    try:
        raw = catalog.decode(value)
    except InvalidEvent:
        return None
    env = FAST_ENVELOPE(raw)
    loader = FAST_DATA.get(env["type"]) if env is not None else None
    data = loader(env["data"]) if loader is not None and env is not None else None
    if env is None or data is None:
        return None
    env = dict(env)
    env.pop("data")
    return canonical((env, data))


def event_bytes(event_type: str, data: dict[str, Any], **extra: Any) -> bytes:
    subject = PRICE_LIST_SUBJECT if event_type == "price_list.published" else data.get("customer_code", "C1001")
    return json.dumps({**envelope(event_type, subject, data, event_id="e-1"), **extra}, ensure_ascii=False).encode()


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and list index below node."""
    found = []
    if isinstance(node, dict):
        for key, item in node.items():
            found += [(*prefix, key), *paths(item, (*prefix, key))]
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += [(*prefix, index), *paths(item, (*prefix, index))]
    return found


@st.composite
def damaged_events(draw: st.DrawFn) -> bytes:
    """A catalog example in its envelope with one to three parts replaced, removed or added."""
    event_type = draw(st.sampled_from(sorted(EXAMPLES)))
    data = copy.deepcopy(EXAMPLES[event_type])
    subject = PRICE_LIST_SUBJECT if event_type == "price_list.published" else data.get("customer_code", "C1001")
    event: dict[str, Any] = envelope(event_type, subject, data, event_id="e-1")
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(event)))
        parent = event
        for step in where[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace":
            parent[where[-1]] = copy.deepcopy(draw(st.sampled_from(TRICKY)))
        elif action == "remove":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["future", "data", "type", "time", "kind"]))] = copy.deepcopy(
                draw(st.sampled_from(TRICKY))
            )
        if not paths(event):
            break
    text = json.dumps(event, ensure_ascii=draw(st.booleans()))  # a lone surrogate is written as its escape (below)
    if draw(st.booleans()):  # a key given twice: json.loads keeps the last one
        text = text[:-1] + ', "specversion": ' + json.dumps(draw(st.sampled_from(["1.0", "0.3"]))) + "}"
    return text.encode("utf-8", "backslashreplace")


def test_every_catalog_type_has_a_typed_decoder_and_a_compiled_loader():
    assert TYPED_EVENT is not None and FAST_ENVELOPE is not None
    assert set(FAST_DATA) == set(DATA_SCHEMAS)
    for event_type, data in EXAMPLES.items():
        value = event_bytes(event_type, data, traceparent="00-abc")
        typed = TYPED_EVENT(value)
        assert typed is not None, event_type
        assert canonical(typed) == oracle(value) == oracle(value, storable=False) == compiled(value), event_type


def single_damages() -> list[bytes]:
    """Every catalog example with one part removed or replaced by each tricky value, and with its keys reversed."""
    out = []
    for event_type in sorted(EXAMPLES):
        data = EXAMPLES[event_type]
        subject = PRICE_LIST_SUBJECT if event_type == "price_list.published" else data.get("customer_code", "C1001")
        event = envelope(event_type, subject, data, event_id="e-1")
        out.append(json.dumps(reversed_keys(event), ensure_ascii=False).encode())  # a lone surrogate: its escape
        for where in paths(event):
            for replacement in [REMOVE, *TRICKY]:
                damaged = copy.deepcopy(event)
                parent = damaged
                for step in where[:-1]:
                    parent = parent[step]
                if replacement is REMOVE:
                    del parent[where[-1]]
                else:
                    parent[where[-1]] = copy.deepcopy(replacement)
                out.append(json.dumps(damaged, ensure_ascii=False).encode("utf-8", "backslashreplace"))
    return out


REMOVE = object()


def reversed_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: reversed_keys(node[key]) for key in reversed(node)}
    if isinstance(node, list):
        return [reversed_keys(item) for item in node]
    return node


def test_every_single_damage_of_every_example_gets_marshmallows_answer_or_steps_aside():
    typed_accepted = 0
    for value in single_damages():
        expected, typed = oracle(value), TYPED_EVENT(value)
        if typed is not None:
            typed_accepted += 1
            assert expected != REFUSED, value
            assert canonical(typed) == expected, value
        fast = compiled(value)
        assert fast is None or fast == oracle(value, storable=False), value
    assert typed_accepted > 2_000  # not vacuous: thousands of damaged events are still valid and typed


def test_a_pattern_is_anchored_at_the_start_as_marshmallow_matches_it():
    from marshmallow import Schema, fields, validate

    class Digits(Schema):
        class Meta:
            unknown = "exclude"

        number = fields.String(required=True, validate=validate.Regexp("[0-9]+"))

    decoder = compile_events(ENVELOPE, {**DATA_SCHEMAS, "payment.received": Digits()}, MAX_DEPTH)
    assert decoder is not None
    for number, accepted in (("12", True), ("1x", True), ("x1", False)):
        value = event_bytes("payment.received", {"number": number, "customer_code": "C1001"})
        assert (decoder(value) is not None) is accepted, number
        assert Digits().validate({"number": number}) == (
            {} if accepted else {"number": ["String does not match expected pattern."]}
        )


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_events())
def test_the_fast_paths_give_marshmallows_answer_or_step_aside(value):
    expected = oracle(value)
    typed = TYPED_EVENT(value)
    event("refused" if expected == REFUSED else "accepted, typed" if typed is not None else "accepted, slow path")
    if typed is not None:
        assert expected != REFUSED, value
        assert canonical(typed) == expected, value
    fast = compiled(value)
    if fast is not None:
        assert fast == oracle(value, storable=False), value


@pytest.mark.parametrize(
    "value",
    [
        event_bytes("payment.received", EXAMPLES["payment.received"])[:-1]
        + b', "x": "\xff"}',  # bad UTF-8, skipped key
        event_bytes("payment.received", EXAMPLES["payment.received"])[:-1] + b', "x": NaN}',  # json.loads takes NaN
        event_bytes("payment.received", EXAMPLES["payment.received"])[:-1] + b', "x": "\\ud800"}',  # a lone surrogate
        b"\xef\xbb\xbf" + event_bytes("payment.received", EXAMPLES["payment.received"]),  # a UTF-8 byte order mark
        event_bytes("work.unknown", {"customer_code": "C1001"}),
        event_bytes("payment.received", EXAMPLES["payment.received"])[:-1] + b', "x": ' + b"7" * 4301 + b"}",
        event_bytes("payment.received", EXAMPLES["payment.received"])[:-1]
        + b', "x": '
        + b"[" * 2000
        + b"]" * 2000
        + b"}",
        event_bytes("payment.received", EXAMPLES["payment.received"])[:-1]
        + b', "x": '
        + b"[" * 300
        + b"]" * 300
        + b"}",
    ],
)
def test_what_msgspec_would_take_differently_goes_the_slow_way(value):
    assert TYPED_EVENT(value) is None
    expected = oracle(value)
    if expected == REFUSED:
        with pytest.raises(InvalidEvent):
            load_event(value)
    else:  # accepted by marshmallow: the slow path gives it
        event = load_event(value)
        assert canonical((event.data,)) == canonical((json_loaded_data(value),))


PAYMENT = event_bytes("payment.received", EXAMPLES["payment.received"])


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (PAYMENT.decode().encode("utf-16"), False),  # json.loads(bytes) would detect it and take it
        (PAYMENT.decode().encode("utf-32-le"), False),
        (PAYMENT[:-1] + b', "future": "\xed\xa0\x80"}', False),  # a surrogate's bytes, in a field nobody reads
        (b"\xef\xbb\xbf" + PAYMENT, True),  # a byte order mark: RFC 8259 lets a parser ignore it
    ],
)
def test_a_message_value_must_be_utf8(value, accepted):
    assert TYPED_EVENT(value) is None
    if accepted:
        assert load_event(value).data == load_event(PAYMENT).data
    else:
        with pytest.raises(InvalidEvent) as refused:
            load_event(value)
        assert refused.value.reason.startswith("not valid UTF-8 JSON: ")


def _with(event_type: str, where: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The catalog example in its envelope with one part replaced."""
    data = copy.deepcopy(EXAMPLES[event_type])
    subject = PRICE_LIST_SUBJECT if event_type == "price_list.published" else data.get("customer_code", "C1001")
    event: dict[str, Any] = envelope(event_type, subject, data, event_id="e-1")
    parent = event
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    return event


@pytest.mark.parametrize(
    ("event_type", "where", "value", "reason"),
    [
        ("payment.received", ("id",), "e-\x00", "invalid envelope: id: U+0000 (NUL) cannot be stored"),
        ("payment.received", ("source",), "\x00", "invalid envelope: source: U+0000 (NUL) cannot be stored"),
        ("payment.received", ("subject",), "C1001\x00", "invalid envelope: subject: U+0000 (NUL) cannot be stored"),
        ("payment.received", ("id",), "é\udfff", "invalid envelope: id: a lone surrogate (U+DFFF) cannot be stored"),
        (
            "payment.received",
            ("data", "reference"),
            "x\ud800y",
            "invalid data for payment.received: data.reference: a lone surrogate (U+D800) cannot be stored",
        ),
        (
            "contract.signed",
            ("data", "customer", "name"),
            "Példa\x00 Kft.",
            "invalid data for contract.signed: data.customer.name: U+0000 (NUL) cannot be stored",
        ),
        (
            "contract.signed",
            ("data", "items", 0, "product_name"),
            "\x00",
            "invalid data for contract.signed: data.items.0.product_name: U+0000 (NUL) cannot be stored",
        ),
    ],
)
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_string_postgresql_cannot_store_is_refused_with_where_it_is(event_type, where, value, reason, ensure_ascii):
    event = _with(event_type, where, value)
    raw = json.dumps(event, ensure_ascii=ensure_ascii).encode("utf-8", "backslashreplace")
    assert (b"\\u0000" if "\x00" in value else b"\\ud") in raw.lower()  # sent as JSON's escape, as JSON demands
    assert TYPED_EVENT(raw) is None
    assert oracle(raw, storable=False) != REFUSED  # marshmallow's schemas alone take it
    for message in (raw, raw.decode("utf-8", "surrogatepass")):  # a message value, and text (the slow path)
        with pytest.raises(InvalidEvent) as refused:
            load_event(message)
        assert refused.value.reason == reason
    with pytest.raises(InvalidEvent) as refused:
        catalog.validate_event(json.loads(raw))  # the portal's own events are checked as dicts (gateway/actions.py)
    assert refused.value.reason == reason


@pytest.mark.parametrize("value", ["\\u0000", "C:\\x00", "\U0001f600 Kft.", "Fő\u00a0utca"])
def test_what_only_looks_like_an_unstorable_string_is_taken(value):
    """A backslash before `u0000` is text; a surrogate pair is one character (typed path or not, the same answer)."""
    raw = json.dumps(_with("payment.received", ("data", "reference"), value)).encode()
    event = load_event(raw)
    assert event.data["reference"] == value
    assert load_event(raw.decode()).data == event.data


@pytest.mark.parametrize(
    "stamp",
    ["2026-01-05T08:00:00+01:00", "2026-01-05t08:00:00z", "2026-01-05 08:00:00Z", "2026-01-05T08:00:00+0100",
     "2026-01-05T08:00:00.1234567Z", "2026-01-05T08:00:00", "20260105T080000Z", "2026-01-05T08:00Z"],
)  # fmt: skip
def test_timestamps_are_read_by_marshmallows_own_parser(stamp):
    """msgspec's RFC 3339 parser would take some of these where marshmallow refuses, and round a seventh decimal."""
    value = event_bytes("support_call.opened", {**EXAMPLES["support_call.opened"], "opened_at": stamp})
    expected, typed = oracle(value), TYPED_EVENT(value)
    assert (REFUSED if typed is None else canonical(typed)) == expected


def test_a_schema_the_compiler_does_not_know_gets_no_typed_decoder():
    class WithHook(type(ENVELOPE)):  # type: ignore[misc]
        from marshmallow import post_load

        @post_load
        def _hook(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
            return data

    assert compile_events(WithHook(), DATA_SCHEMAS, MAX_DEPTH) is None
    skipped = compile_events(ENVELOPE, {**DATA_SCHEMAS, "payment.received": WithHook()}, MAX_DEPTH)
    assert skipped is not None
    value = event_bytes("payment.received", EXAMPLES["payment.received"])
    assert skipped(value) is None
    assert skipped(event_bytes("payment.refunded", EXAMPLES["payment.refunded"])) is not None


def test_load_event_checks_topic_subject_and_key_on_the_typed_path():
    value = event_bytes("payment.received", EXAMPLES["payment.received"])
    assert TYPED_EVENT(value) is not None
    assert load_event(value, TOPIC_OF_TYPE["payment.received"], "C1001").data["amount"] == 190_500
    with pytest.raises(InvalidEvent, match="does not belong on topic"):
        load_event(value, "contracts", "C1001")
    with pytest.raises(InvalidEvent, match="key 'C2' differs"):
        load_event(value, TOPIC_OF_TYPE["payment.received"], "C2")
