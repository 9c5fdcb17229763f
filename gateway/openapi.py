"""flask-smorest wiring: validation errors as 400 problems, problem+json documented, strict dates."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NoReturn

import flask_smorest
from marshmallow import Schema, ValidationError, fields
from webargs.flaskparser import FlaskParser

from shared.web.problems import PROBLEM_JSON, ProblemError


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
        except RecursionError as error:  # nested deeper than the decoder goes: not a body anyone sends
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
    """flask-smorest Api documenting problem+json as the error body."""

    ERROR_SCHEMA = ProblemSchema


def problem_responses(blp: Blueprint, *statuses: int, **descriptions: str) -> Callable[[Any], Any]:
    """Document problem+json answers of an operation (`descriptions` keyed like `s401`)."""

    def decorate(view: Any) -> Any:
        for status in statuses:
            description = descriptions.get(f"s{status}", HTTPStatus(status).phrase)
            view = blp.alt_response(status, schema=ProblemSchema, description=description, content_type=PROBLEM_JSON)(
                view
            )
        return view

    return decorate


API_SETTINGS = {
    "API_TITLE": "Customer portal API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}
BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def build_api(app: Any) -> Api:
    """The Api object: OpenAPI document at /api/v1/openapi.json, bearer security declared."""
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", BEARER)
    return api
