"""One support call with its story (portal query 9): scoped to the token's customer, answered by tickets."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, current_app, g

from gateway.auth import require_session
from gateway.clients import Answer, customer_path, relay_problem
from gateway.openapi import SECURED, Blueprint, problem_responses
from shared.api.tickets import SupportCallDetail
from shared.web.problems import ProblemError

blp = Blueprint("support_call", __name__, url_prefix="/api/v1", description="One support call (bearer token)")
blp.before_request(require_session)


def call_path(customer_code: str, call_id: str) -> str:
    """The tickets service's path of one call of the customer (the call id quoted whole)."""
    return customer_path(customer_code, f"support-calls/{quote(call_id, safe='')}")


def fetch_call(customer_code: str, call_id: str) -> Answer:
    """The tickets service's answer about one call of the customer (200 or its 4xx problem)."""
    tickets = current_app.extensions["gateway"].clients["tickets"]
    return tickets.request("GET", call_path(customer_code, call_id))


def current_call(customer_code: str, call_id: str) -> dict[str, Any]:
    """The call as projected now; a 404 problem when it is not the customer's (or unknown)."""
    with fetch_call(customer_code, call_id) as answer:
        if answer.status_code == 404:
            raise ProblemError(404, "Not Found", "No such support call.")
        if answer.status_code != 200:
            raise ProblemError(answer.status_code, "Invalid request", "The call could not be read.")
        return answer.json()


@blp.route("/support-calls/<call_id>", methods=["GET"])
@blp.response(200, SupportCallDetail)
@problem_responses(
    blp,
    400,
    401,
    404,
    503,
    s401="Missing, invalid or expired token.",
    s404="No such call of this customer (another customer's call gets the same answer).",
    s503="The tickets service is unavailable.",
)
@blp.doc(security=SECURED)
def support_call(call_id: str) -> Response:
    """One support call: the list's fields, its description and its history in time order.

    Every event of the call with its own facts: who took it, each status change and its note, work logs, the
    customer's replies, closing and reopening. Another customer's call or an unknown one: the same 404.
    """
    with fetch_call(g.customer_code, call_id) as answer:
        if answer.ok:
            return Response(answer.content, status=200, mimetype="application/json")
        return relay_problem(answer)
