"""Login: `POST /api/v1/sessions` checks the credentials with the contracts service and issues a token."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request

from gateway.auth import issue_token
from gateway.clients import ServiceUnavailable
from gateway.login_slots import LoginsBusy
from gateway.openapi import Blueprint, problem_responses
from gateway.ratelimit import RateLimited
from gateway.schemas.args import LoginRequest
from gateway.schemas.responses import SessionCreated
from shared.timeutil import today_budapest
from shared.web.problems import ProblemError

log = logging.getLogger("gateway.login")
blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Login")


def invalid_credentials() -> ProblemError:
    """The one answer to every failed credential check, whatever part was wrong."""
    return ProblemError(
        401,
        "Invalid credentials",
        "The customer code, serial number or password is not valid.",
        headers={"WWW-Authenticate": 'Bearer realm="portal"'},
    )


def check_credentials(credentials: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether the credentials may log in today, and the customer's name if so."""
    contracts = current_app.extensions["gateway"].clients["contracts"]
    settings = current_app.config
    answer = contracts.request(
        "POST",
        "/internal/v1/credentials/check",
        json={**credentials, "today": today_budapest().isoformat()},
        # Its own read timeout: the check slots bound how many logins wait, so a slow verification on a busy
        # machine may take longer than a query without tying up the gateway's threads.
        timeout=(settings["SERVICE_CONNECT_TIMEOUT_S"], settings["LOGIN_CHECK_TIMEOUT_S"]),
    )
    try:
        verdict = answer.json() if answer.status_code == 200 else None
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("valid"), bool):
        # Not an answer to the question: the check could not be made, which is no failed login.
        log.error("unusable credentials check answer", extra={"status": answer.status_code})
        raise ServiceUnavailable("contracts")
    return verdict["valid"], verdict.get("customer_name")


@blp.route("/sessions", methods=["POST"])
@blp.arguments(LoginRequest())
@blp.response(201, SessionCreated)
@problem_responses(
    blp,
    400,
    401,
    429,
    503,
    s401="Invalid credentials (whatever part was wrong).",
    s429="Too many failed attempts, or too many logins being checked at once; wait the seconds in Retry-After.",
)
def create_session(credentials: dict[str, Any]) -> dict[str, Any]:
    """Log in with customer code, serial number and (if the customer has one) password.

    Answers a bearer token for the other operations, bound to the customer and that serial number, and when
    it expires. Wrong credentials are a 401 whatever part was wrong; after too many failures for a customer
    code or from an address, a 429 with `Retry-After`; also a quick 429 with `Retry-After` when more logins
    arrive than can be checked soon (argon2id is CPU-bound).
    """
    gateway = current_app.extensions["gateway"]
    try:
        gateway.login_slots.acquire()  # a quick 429 when the checks running already fill the machine
    except LoginsBusy:
        gateway.metrics["busy"].inc()
        raise
    try:
        valid, customer_name = _limited_check(gateway, credentials)
    finally:
        gateway.login_slots.release()
    if not valid:
        gateway.metrics["failures"].inc()
        raise invalid_credentials()
    return session_body(credentials["customer_code"], credentials["serial_number"], customer_name)


def _limited_check(gateway: Any, credentials: dict[str, Any]) -> tuple[bool, str | None]:
    """The brute-force limits, then the check; a failed check stays counted as a failure."""
    try:
        reservation = gateway.limiter.reserve(credentials["customer_code"], request.remote_addr or "unknown")
    except RateLimited:
        gateway.metrics["rate_limited"].inc()
        raise
    try:
        valid, customer_name = check_credentials(credentials)
    except Exception:
        gateway.limiter.withdraw(reservation)  # not checked, so not a failure
        raise
    if valid:
        gateway.limiter.withdraw(reservation)
    return valid, customer_name


def session_body(customer_code: str, serial_number: str, customer_name: str | None) -> dict[str, Any]:
    """The 201 body: a fresh token bound to the customer and serial number."""
    settings = current_app.config
    token, expires_at = issue_token(
        settings["GATEWAY_SECRET_KEY"], customer_code, serial_number, settings["TOKEN_TTL_MINUTES"]
    )
    return {
        "token": token,
        "expires_at": expires_at,
        "customer_code": customer_code,
        "serial_number": serial_number,
        "customer_name": customer_name,
    }
