"""Every event type of the catalog: a valid example accepted, each required field enforced."""

from __future__ import annotations

import copy

import pytest
from marshmallow import fields

from shared.events.catalog import DATA_SCHEMAS, InvalidEvent, validate_event
from shared.events.topics import PRICE_LIST_SUBJECT, TOPIC_OF_TYPE
from tests.support.events import envelope
from tests.support.examples import EXAMPLES

WRONG_VALUE = {
    fields.String: 12345,
    fields.Integer: "12",
    fields.Date: "2026-02-30",
    fields.AwareDateTime: "2026-03-01T08:00:00",
    fields.Boolean: "yes",
    fields.Nested: "not an object",
    fields.List: "not a list",
}


def event_of(event_type: str, data: dict) -> dict:
    """A full envelope with the right subject."""
    subject = PRICE_LIST_SUBJECT if event_type == "price_list.published" else data.get("customer_code", "C1001")
    return envelope(event_type, subject, data)


def wrong_value(field: fields.Field) -> object:
    """A value of the wrong shape for a field."""
    for kind, value in WRONG_VALUE.items():
        if isinstance(field, kind):
            return value
    raise AssertionError(f"no wrong value for {field!r}")


def test_every_catalog_type_has_an_example():
    assert set(EXAMPLES) == set(DATA_SCHEMAS) == set(TOPIC_OF_TYPE)


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_valid_example_is_accepted_with_unknown_fields_ignored(event_type):
    data = {**copy.deepcopy(EXAMPLES[event_type]), "future_field": "ignored"}
    raw = {**event_of(event_type, data), "traceparent": "00-abc"}
    event = validate_event(raw, TOPIC_OF_TYPE[event_type], raw["subject"])
    assert event.type == event_type
    assert "future_field" not in event.data
    assert set(event.data) == set(EXAMPLES[event_type])


REQUIRED = [
    (t, name) for t, schema in sorted(DATA_SCHEMAS.items()) for name, field in schema.fields.items() if field.required
]
ALL_FIELDS = [(t, name) for t, schema in sorted(DATA_SCHEMAS.items()) for name in schema.fields if name in EXAMPLES[t]]


@pytest.mark.parametrize(("event_type", "field_name"), REQUIRED)
def test_each_required_field_missing_is_refused_naming_it(event_type, field_name):
    data = copy.deepcopy(EXAMPLES[event_type])
    del data[field_name]
    with pytest.raises(InvalidEvent) as err:
        validate_event(event_of(event_type, data))
    assert f"data.{field_name}" in err.value.reason


@pytest.mark.parametrize(("event_type", "field_name"), ALL_FIELDS)
def test_each_field_malformed_is_refused_naming_it(event_type, field_name):
    data = copy.deepcopy(EXAMPLES[event_type])
    data[field_name] = wrong_value(DATA_SCHEMAS[event_type].fields[field_name])
    raw = event_of(event_type, data)
    if field_name == "customer_code":
        raw["subject"] = "C1001"
    with pytest.raises(InvalidEvent) as err:
        validate_event(raw)
    assert f"data.{field_name}" in err.value.reason


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time", "subject", "data"])
def test_each_envelope_attribute_is_required(attribute):
    raw = event_of("payment.refunded", copy.deepcopy(EXAMPLES["payment.refunded"]))
    del raw[attribute]
    with pytest.raises(InvalidEvent) as err:
        validate_event(raw)
    assert attribute in err.value.reason


@pytest.mark.parametrize(
    ("kind", "missing"),
    [("annual_support_fee", "support_year"), ("quota_overrun", "support_year"), ("quota_overrun", "overrun_minutes")],
)
def test_per_kind_invoice_rules(kind, missing):
    data = {**copy.deepcopy(EXAMPLES["invoice.issued"]), "kind": kind, "overrun_minutes": 30}
    del data[missing]
    with pytest.raises(InvalidEvent) as err:
        validate_event(event_of("invoice.issued", data))
    assert f"data.{missing}" in err.value.reason


def test_rental_fee_invoice_needs_no_support_year():
    data = {k: v for k, v in EXAMPLES["invoice.issued"].items() if k != "support_year"}
    assert validate_event(event_of("invoice.issued", {**data, "kind": "rental_fee"})).data["kind"] == "rental_fee"


@pytest.mark.parametrize("bad_code", ["", "x" * 33, "C 1001", "C1001\n", "Ü1001"])
def test_customer_codes_follow_the_alphabet(bad_code):
    data = {**EXAMPLES["payment.refunded"], "customer_code": bad_code}
    with pytest.raises(InvalidEvent):
        validate_event(envelope("payment.refunded", bad_code or "x", data))


def test_type_on_the_wrong_topic_and_subject_mismatch_are_refused():
    raw = event_of("payment.refunded", EXAMPLES["payment.refunded"])
    with pytest.raises(InvalidEvent, match="does not belong on topic invoices"):
        validate_event(raw, "invoices")
    with pytest.raises(InvalidEvent, match="subject 'C9' differs"):
        validate_event({**raw, "subject": "C9"})


def test_strings_are_not_integers_and_floats_are_not_money():
    for amount in ("190500", 190500.0, True):
        data = {**EXAMPLES["payment.received"], "amount": amount}
        with pytest.raises(InvalidEvent, match="data.amount"):
            validate_event(event_of("payment.received", data))


def test_a_boolean_is_a_json_boolean_not_a_number_or_a_string():
    for chargeable in (1, 0, 1.0, "true"):
        data = {**EXAMPLES["support_call.work_logged"], "chargeable": chargeable}
        with pytest.raises(InvalidEvent, match="data.chargeable"):
            validate_event(event_of("support_call.work_logged", data))
    for chargeable in (True, False):
        data = {**EXAMPLES["support_call.work_logged"], "chargeable": chargeable}
        assert validate_event(event_of("support_call.work_logged", data)).data["chargeable"] is chargeable
