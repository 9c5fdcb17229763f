"""flask-smorest wiring: validation errors as 400 problems, problem+json documented, strict dates."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NoReturn

import flask_smorest
from apispec import BasePlugin
from marshmallow import Schema, ValidationError, fields
from webargs.flaskparser import FlaskParser

from shared.web.argmemo import ParsedQueries
from shared.web.problems import PROBLEM_JSON, ProblemError

QUERIES = ParsedQueries()  # the query arguments of the gateway's operations, loaded before (change 28)


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Invalid request"})
    status = fields.Integer(metadata={"example": 400})
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": "Field name -> messages (validation errors only)."},
    )


class ProblemParser(FlaskParser):
    """webargs parser whose validation failures are 400 problems naming the fields."""

    DEFAULT_VALIDATION_STATUS = 400

    def parse(self, argmap: Any, req: Any = None, *, location: str | None = None, **kwargs: Any) -> Any:
        """As webargs parses; a query string a schema loaded before on the same day is not loaded again."""
        parse = super().parse
        if location != "query" or not isinstance(argmap, Schema) or kwargs.get("validate") is not None:
            return parse(argmap, req, location=location, **kwargs)
        req = req or self.get_default_request()
        return QUERIES.load(argmap, req.query_string, lambda: parse(argmap, req, location=location, **kwargs))

    def handle_error(
        self, error: ValidationError, req: Any, schema: Schema, *, error_status_code: int | None, error_headers: Any
    ) -> NoReturn:
        """A malformed request, never a 422 and never a 500."""
        raise ProblemError(
            400, "Invalid request", "One or more request parameters are invalid.", errors=_by_field(error.messages)
        )

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own handling (an empty body is a missing one)
        except (RecursionError, ValueError) as error:
            # what json.loads raises beyond syntax: nesting deeper than the decoder goes, an integer of more than
            # 4,300 digits (CPython's limit on converting a string to an int); not bodies anyone sends
            self._handle_invalid_json_error(error, req)

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise ProblemError(
            400, "Invalid request", "The body is not valid JSON.", errors={"body": ["Invalid JSON body."]}
        )


def _by_field(messages: Any) -> dict[str, Any]:
    """webargs messages are keyed by location first; the contract keys them by field."""
    if not isinstance(messages, dict):
        return {"body": messages}
    flat: dict[str, Any] = {}
    for location, by_field in messages.items():
        flat.update(by_field if isinstance(by_field, dict) else {location: by_field})
    return flat


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest blueprint with the problem parser."""

    ARGUMENTS_PARSER = ProblemParser()


class Api(flask_smorest.Api):
    """flask-smorest Api documenting problem+json as the error body (the default response too)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """The error responses flask-smorest registers (the `default` one among them), as problem+json."""
        success_type: str = self.DEFAULT_RESPONSE_CONTENT_TYPE  # type: ignore[has-type]  # flask-smorest's
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = success_type

    def _register_pagination_header(self) -> None:
        """The API pages with its own `page`/`per_page` body fields, not flask-smorest's header."""


# Headers of the error answers that tell the client what to do next.
ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'The authentication scheme to use: `Bearer realm="portal"` (with `error="invalid_token"` '
            "when a token was sent but is expired or invalid).",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before the next login attempt.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def problem_responses(blp: Blueprint, *statuses: int, **descriptions: str) -> Callable[[Any], Any]:
    """Document problem+json answers of an operation (`descriptions` keyed like `s401`), with their headers."""

    def decorate(view: Any) -> Any:
        for status in statuses:
            description = descriptions.get(f"s{status}", HTTPStatus(status).phrase)
            view = blp.alt_response(
                status,
                schema=ProblemSchema,
                description=description,
                content_type=PROBLEM_JSON,
                headers=ERROR_HEADERS.get(status),
            )(view)
        return view

    return decorate


class OperationIds(BasePlugin):
    """operationId of every operation from its view function: `create_session` -> createSession, a GET view
    named after its resource (`balance`) -> getBalance. Ids must not change: clients generate code from them."""

    VERBS = ("create", "get", "list", "update", "delete")

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        words = rule.endpoint.rsplit(".", 1)[-1].split("_")
        for method, operation in operations.items():
            named = words if words[0] in self.VERBS else [method.lower(), *words]
            operation.setdefault("operationId", named[0] + "".join(w.capitalize() for w in named[1:]))


DESCRIPTION = """The public API of the customer portal of the accounting-software vendor.

A customer logs in with their customer code and a program serial number (and the portal password, if
they set one) and gets a bearer token bound to that customer and serial; every query answers for them
only. Amounts are whole forints (HUF), dates `YYYY-MM-DD` in Budapest time.

Every error is an RFC 9457 problem (`application/problem+json`: `type`, `title`, `status`, `detail`,
and `errors` naming the fields of an invalid request). A 401 carries `WWW-Authenticate`; a 429 carries
`Retry-After` with the seconds to wait."""

API_SETTINGS = {
    "API_TITLE": "Customer portal API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": DESCRIPTION,
            "contact": {"name": "Customer portal operations", "email": "portal-ops@example.hu"},
        },
        # relative: the document is served by the gateway it describes, whatever its address
        "servers": [{"url": "/", "description": "The gateway serving this document"}],
    },
}
BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def build_api(app: Any) -> Api:
    """The Api object: OpenAPI document at /api/v1/openapi.json, bearer security declared."""
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = Api(app, spec_kwargs={"extra_plugins": [OperationIds()]})
    api.spec.components.security_scheme("bearerAuth", BEARER)
    return api
