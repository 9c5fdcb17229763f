"""The gateway's argument parser and the services' body parser: a body json.loads cannot read is a 400 problem,
never an exception (a 500)."""

from __future__ import annotations

import pytest
from flask import Flask, request
from marshmallow import Schema, fields

from gateway.openapi import ProblemParser
from shared.web.problems import ProblemError


class Login(Schema):
    customer_code = fields.String()


@pytest.mark.parametrize(
    "body",
    [
        b'{"customer_code": ' + b"1" * 4301 + b"}",  # ValueError: over CPython's 4,300 digits
        b"[" * 5000 + b"]" * 5000,  # RecursionError
        b"{",  # JSONDecodeError
        b"\xff\xfe{}",  # not UTF-8
    ],
)
def test_unreadable_json_is_a_400_problem(body):
    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data=body, content_type="application/json"):
        with pytest.raises(ProblemError) as refused:
            ProblemParser().parse(Login(), request, location="json")
    assert (refused.value.status, refused.value.title) == (400, "Invalid request")


def test_an_empty_body_is_a_missing_one_not_invalid_json():
    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data=b"", content_type="application/json"):
        assert ProblemParser().parse(Login(), request, location="json") == {}


@pytest.mark.parametrize(
    "body", [b'{"customer_code": ' + b"1" * 4301 + b"}", b"[" * 5000 + b"]" * 5000, b"{", b"[1]", b""]
)
def test_a_services_body_json_cannot_read_is_a_400_problem(body):
    from shared.web.app import parse_json

    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data=body, content_type="application/json"):
        with pytest.raises(ProblemError) as refused:
            parse_json(Login())
    assert (refused.value.status, refused.value.detail) == (400, "The body must be a JSON object.")


def test_a_readable_body_loads_in_both_parsers():
    from shared.web.app import parse_json

    app = Flask(__name__)
    with app.test_request_context("/", method="POST", data=b'{"customer_code": "C1"}', content_type="application/json"):
        assert ProblemParser().parse(Login(), request, location="json") == {"customer_code": "C1"}
    body = b'{"customer_code": "C1", "other": [1, {"a": 2}]}'  # the services ignore unknown fields
    with app.test_request_context("/", method="POST", data=body, content_type="application/json"):
        assert parse_json(Login()) == {"customer_code": "C1"}
