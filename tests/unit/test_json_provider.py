"""The APIs' JSON answers through orjson (shared/web/jsonprovider.py): the values Flask's own provider writes."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from shared.web.jsonprovider import use_orjson


@dataclasses.dataclass
class Line:
    label: str
    amount: int


def _apps() -> tuple[Flask, Flask]:
    """An app with the stack's provider and one with Flask's own, keys unsorted and UTF-8 unescaped like ours."""
    ours, flasks = Flask("ours"), Flask("flasks")
    use_orjson(ours)
    flasks.json = DefaultJSONProvider(flasks)
    flasks.json.sort_keys = False  # type: ignore[attr-defined]
    flasks.json.ensure_ascii = False  # type: ignore[attr-defined]
    return ours, flasks


# A service answer's shape: nested objects and lists, Hungarian text, amounts, a null, booleans, a float.
ANSWER = {
    "customer_code": "C000123",
    "as_of": "2026-11-30",
    "currency": "HUF",
    "lines": [
        {"label": "Nyitó egyenleg", "amount": -12345, "paid": False},
        {"label": "Átutalás „OTP” – díj", "amount": 67890, "paid": True, "note": None},
    ],
    "rate": 0.27,
    "codes": {"rental": "ABCD-1234", "internet": None},
}


def _body(app: Flask, value: object) -> bytes:
    with app.app_context():
        return jsonify(value).get_data()


def test_a_service_answer_is_byte_for_byte_what_flask_writes():
    ours, flasks = _apps()
    assert _body(ours, ANSWER) == _body(flasks, ANSWER)
    assert _body(ours, ANSWER).endswith(b"}\n")
    assert "Átutalás „OTP”".encode() in _body(ours, ANSWER)  # UTF-8, not \\u escapes


def test_keys_keep_the_order_given():
    ours, _ = _apps()
    value = {"z": 1, "a": 2, "m": {"y": 3, "b": 4}}
    assert _body(ours, value) == b'{"z":1,"a":2,"m":{"y":3,"b":4}}\n'


def test_values_flask_converts_come_out_as_flask_writes_them():
    ours, flasks = _apps()
    value = {
        "day": date(2026, 11, 26),  # an HTTP date, as Flask writes a date (our answers carry ISO strings)
        "when": datetime(2026, 11, 26, 8, 30, tzinfo=timezone.utc),
        "price": Decimal("12345.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "line": Line("díj", 100),
        "keys": {1: "one", 2: "two"},
        "pair": (1, 2),
    }
    assert json.loads(_body(ours, value)) == json.loads(_body(flasks, value))
    assert json.loads(_body(ours, value))["day"] == "Thu, 26 Nov 2026 00:00:00 GMT"


def test_an_integer_beyond_64_bits_is_still_written():
    ours, _ = _apps()
    assert _body(ours, {"n": 2**70}) == b'{"n":1180591620717411303424}\n'


def test_a_value_json_cannot_carry_is_refused_as_json_dumps_refuses_it():
    ours, _ = _apps()
    with pytest.raises(TypeError, match="not JSON serializable"):
        _body(ours, {"x": object()})


def test_dumps_with_arguments_orjson_lacks_goes_to_flask_s_encoder():
    ours, _ = _apps()
    with ours.app_context():
        assert ours.json.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "b": 1,\n  "a": 2\n}'
        assert ours.json.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'
        assert ours.json.loads('{"a": [1, 2]}') == {"a": [1, 2]}
