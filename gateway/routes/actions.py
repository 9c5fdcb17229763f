"""Customer actions (portal section 10): each one validated, then published to Kafka as an event; 202 once acked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from flask import current_app, g, request

from gateway.actions import IDEMPOTENCY_HEADER, action_event, derived_id, idempotency_key, new_call_id
from gateway.auth import require_session
from gateway.clients import customer_path
from gateway.openapi import SECURED, Blueprint, problem_responses
from gateway.routes.sessions import check_credentials
from gateway.routes.support_call import current_call
from gateway.schemas.actions import Accepted, NewCall, PasswordRemove, PasswordSet, Reply, password_problems
from shared.timeutil import today_budapest
from shared.web.problems import ProblemError

blp = Blueprint(
    "actions",
    __name__,
    url_prefix="/api/v1",
    description="Customer actions, published as events (bearer token, Idempotency-Key)",
)
blp.before_request(require_session)
PASSWORD_HASHER = PasswordHasher()  # argon2id, argon2-cffi's defaults (as the contracts service verifies)
KEY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    "description": "The same key again publishes the same event (exactly one effect).",
}


def documented(*extra: int, **descriptions: str) -> Any:
    """The bearer token, the Idempotency-Key header and the problem answers of an action."""

    def decorate(view: Any) -> Any:
        texts = {
            "s401": "Missing, invalid or expired token.",
            "s429": "Too many actions in the last hour; wait the seconds in Retry-After.",
            "s413": "The body is larger than the gateway accepts.",
            "s503": "Kafka did not acknowledge the event: nothing was published.",
            **descriptions,
        }
        view = problem_responses(blp, 400, 401, *extra, 413, 429, 503, **texts)(view)
        return blp.doc(security=SECURED, parameters=[KEY_PARAMETER])(view)

    return decorate


def gateway() -> Any:
    return current_app.extensions["gateway"]


def publish(topic: str, event: dict[str, Any], key: str) -> dict[str, Any]:
    """Count the action against the hourly limit and publish it; the count is withdrawn if Kafka refuses."""
    reservation = gateway().action_limiter.reserve_action(event["subject"], key)
    try:
        gateway().publisher.publish(topic, event)
    except Exception:
        gateway().action_limiter.withdraw(reservation)
        raise
    return {"event_id": event["id"]}


def now() -> str:
    return datetime.now(UTC).isoformat()


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(400, "Invalid request", "One or more request fields are invalid.", errors={field: [message]})


def require_serial_in_force(customer_code: str, serial_number: str) -> None:
    """A 400 naming `serial_number` unless it is an item, in force today, of one of the customer's contracts."""
    contracts = gateway().clients["contracts"]
    params = {"as_of": today_budapest().isoformat()}
    with contracts.request("GET", customer_path(customer_code, "contract-annex"), params=params) as answer:
        annex = answer.json() if answer.status_code == 200 else {"contracts": []}
    serials = {item["serial_number"] for contract in annex["contracts"] for item in contract["items"]}
    if serial_number not in serials:
        raise invalid("serial_number", "Not one of your programs in force.")


@blp.route("/support-calls", methods=["POST"])
@blp.arguments(NewCall())
@blp.response(202, Accepted)
@documented()
def open_call(body: dict[str, Any]) -> dict[str, Any]:
    """Open a support call (`support_call.opened`, channel `portal`); 202 with its `call_id`.

    The call appears in the support event list once the tickets service has projected it. The same
    `Idempotency-Key` sent again publishes the same event and the same `call_id`: one call.
    """
    key, code = idempotency_key(), g.customer_code
    if body["serial_number"] is not None:
        require_serial_in_force(code, body["serial_number"])
    call_id = new_call_id(code, key)
    data = {
        "call_id": call_id,
        "customer_code": code,
        "opened_at": now(),
        "category": body["category"],
        "channel": "portal",
        "subject": body["subject"],
    }
    data.update({name: body[name] for name in ("serial_number", "description") if body[name] is not None})
    return {**publish("support-calls", action_event("support_call.opened", code, key, data), key), "call_id": call_id}


@blp.route("/support-calls/<call_id>/replies", methods=["POST"])
@blp.arguments(Reply())
@blp.response(202, Accepted)
@documented(404, 409, s404="No such call of this customer.", s409="The call is closed.")
def reply(body: dict[str, Any], call_id: str) -> dict[str, Any]:
    """Answer on a call (`support_call.customer_replied`); a closed call is a 409.

    A call waiting for the customer goes back to the helpdesk (`in_progress`); another customer's call or an
    unknown one is a 404, the same answer for both.
    """
    key, code = idempotency_key(), g.customer_code
    if current_call(code, call_id)["status"] == "closed":
        raise ProblemError(409, "Conflict", "The call is closed; open a new call instead.")
    data = {"call_id": call_id, "customer_code": code, "replied_at": now(), "message": body["message"]}
    event = action_event("support_call.customer_replied", code, key, data)
    return {**publish("support-calls", event, key), "call_id": call_id}


def require_current_password(password: str | None) -> None:
    """The customer's current password must match: a wrong one is a 401 counted as a failed login."""
    reservation = gateway().limiter.reserve(g.customer_code, request.remote_addr or "unknown")
    credentials = {"customer_code": g.customer_code, "serial_number": g.serial_number, "password": password}
    try:
        valid, _ = check_credentials(credentials)
    except Exception:
        gateway().limiter.withdraw(reservation)
        raise
    if not valid:
        gateway().metrics["failures"].inc()
        raise ProblemError(
            401,
            "Wrong password",
            "The current portal password is not right.",
            errors={"current_password": ["Does not match."]},
        )
    gateway().limiter.withdraw(reservation)


@blp.route("/portal-password", methods=["PUT"])
@blp.arguments(PasswordSet())
@blp.response(202, Accepted)
@documented(s401="Missing, invalid or expired token, or a wrong current password (counts as a failed login).")
def set_password(body: dict[str, Any]) -> dict[str, Any]:
    """Set or change the portal password (`customer.portal_password_set` with an argon2id hash).

    With a password set, `current_password` must match (a wrong one is a 401 counted as a failed login). Once the
    change is projected, logins need the new password and sessions issued before it are refused.
    """
    key, code = idempotency_key(), g.customer_code
    if gateway().action_limiter.taken(code, key):  # a retry of an accepted change: the same answer, not re-checked
        return {"event_id": str(derived_id(code, "customer.portal_password_set", key))}
    problems = password_problems(body["new_password"], code)
    if problems:
        raise ProblemError(400, "Invalid request", "One or more request fields are invalid.", errors=problems)
    if gateway().password_changes.state(code)["has_password"]:
        if body["current_password"] is None:
            raise invalid("current_password", "Required: a portal password is set.")
        require_current_password(body["current_password"])
    data = {"customer_code": code, "password_hash": PASSWORD_HASHER.hash(body["new_password"])}
    return publish("contracts", action_event("customer.portal_password_set", code, key, data), key)


@blp.route("/portal-password", methods=["DELETE"])
@blp.arguments(PasswordRemove())
@blp.response(202, Accepted)
@documented(
    409,
    s409="No portal password is set.",
    s401="Missing, invalid or expired token, or a wrong current password (counts as a failed login).",
)
def remove_password(body: dict[str, Any]) -> dict[str, Any]:
    """Remove the portal password (`customer.portal_password_removed`).

    `current_password` must match. Once the removal is projected, logins need no password and sessions issued
    before it are refused.
    """
    key, code = idempotency_key(), g.customer_code
    if gateway().action_limiter.taken(code, key):  # a retry of an accepted removal: the same answer
        return {"event_id": str(derived_id(code, "customer.portal_password_removed", key))}
    if not gateway().password_changes.state(code)["has_password"]:
        raise ProblemError(409, "Conflict", "No portal password is set.")
    require_current_password(body["current_password"])
    data = {"customer_code": code}
    return publish("contracts", action_event("customer.portal_password_removed", code, key, data), key)
