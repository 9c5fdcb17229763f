"""RFC 9457 problem details: one helper, one shape, everywhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Raise to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        type_: str = "about:blank",
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers, self.type = errors, headers or {}, type_


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    type_: str = "about:blank",
) -> Response:
    """Build the problem+json response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail or title}
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def register_problem_handlers(app: Flask) -> None:
    """Every error of the app, expected or not, leaves as problem+json."""

    @app.errorhandler(ProblemError)
    def _problem(err: ProblemError) -> Response:
        return problem_response(err.status, err.title, err.detail, err.errors, err.headers, err.type)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        errors = _webargs_messages(err)
        title = "Invalid request" if errors else (err.name or "Error")
        response = problem_response(err.code or 500, title, err.description, errors)
        allowed = getattr(err, "valid_methods", None)  # MethodNotAllowed's
        if err.code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        if type(err).__module__ == "gunicorn.http.errors":
            # A malformed chunked body, or a client gone mid-body: gunicorn raises these while the app reads
            # the body, so they reach the app, not gunicorn's own refusal page (shared/web/http_server.py).
            return problem_response(400, "Bad Request", f"The request body is malformed: {type(err).__name__}.")
        current_app.logger.exception("unhandled error")
        return problem_response(500, "Internal Server Error", "An unexpected error occurred.")


def _webargs_messages(err: HTTPException) -> dict[str, Any] | None:
    """Field messages that flask-smorest/webargs attach to a 422/400."""
    data = getattr(err, "data", None)
    messages = (data or {}).get("messages") if isinstance(data, dict) else None
    if not messages:
        return None
    flat: dict[str, Any] = {}
    for location_messages in messages.values():
        flat.update(location_messages if isinstance(location_messages, dict) else {"_": location_messages})
    return flat
