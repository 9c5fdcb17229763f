"""Operations endpoints: /health (every service), /health/live, /health/ready, /metrics.

The gateway is the public front door: /metrics and the details of /health (each service's lag, database,
Kafka, dead-letter counts) answer only a caller with the internal token (`X-Internal-Token`, or
`Authorization: Bearer <internal token>` as Prometheus sends it). Without it /health says only the overall
status and /metrics is a 401 (docs/decisions.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify

from gateway.clients import ServiceClient, ServiceUnavailable
from gateway.operators import operator_request
from shared.web.observability import metrics_text
from shared.web.problems import ProblemError

blueprint = Blueprint("gateway_health", __name__)
SEVERITY = {"ok": 0, "degraded": 1, "down": 2}
REPORTED = ("database", "kafka", "rejected_events")


def service_status(client: ServiceClient, timeout_s: float, lag_limit: int, request_id: str) -> dict[str, Any]:
    """One service's readiness: down if unreachable or not ready, degraded if a topic lags too far."""
    try:
        # keep_alive=False: each /health asks from threads of its own, which end with it
        answer = client.send(
            "GET",
            "/health/ready",
            timeout=(min(timeout_s, 0.5), timeout_s),
            request_id=request_id,
            keep_alive=False,
        )
        report = answer.json()
    except (ServiceUnavailable, ValueError):
        report, answer = None, None
    if not isinstance(report, dict):
        return {"status": "down", "lag": None, **dict.fromkeys(REPORTED)}
    lag = report.get("lag") or {}
    status = "down" if answer is None or answer.status_code != 200 or report.get("status") != "ok" else "ok"
    if status == "ok" and any(_messages(topic) > lag_limit for topic in lag.values()):
        status = "degraded"
    return {"status": status, "lag": lag, **{name: report.get(name) for name in REPORTED}}


def _messages(topic_lag: Any) -> int:
    """Messages behind of one topic's lag entry (0 when not reported)."""
    value = topic_lag.get("messages") if isinstance(topic_lag, dict) else None
    return value if isinstance(value, int) else 0


def worst(statuses: list[str]) -> str:
    """The most severe status."""
    return max(statuses, key=SEVERITY.__getitem__, default="ok")


@blueprint.get("/health")
def health() -> Response:
    """Status and projection lag of every service, asked in parallel."""
    gateway = current_app.extensions["gateway"]
    settings, request_id = current_app.config, g.get("request_id", "")
    clients: dict[str, ServiceClient] = gateway.clients
    with ThreadPoolExecutor(max_workers=len(clients), thread_name_prefix="health") as pool:
        futures = {
            name: pool.submit(
                service_status, client, settings["HEALTH_TIMEOUT_S"], settings["LAG_DEGRADED_MESSAGES"], request_id
            )
            for name, client in clients.items()
        }
        services = {name: future.result() for name, future in futures.items()}
    status = worst([s["status"] for s in services.values()])
    if not operator_request():
        return jsonify(status=status)
    return jsonify(status=status, services=services)


@blueprint.get("/health/live")
def live() -> Response:
    """The process is up."""
    return jsonify(status="ok", service="gateway")


@blueprint.get("/health/ready")
def ready() -> tuple[Response, int]:
    """The gateway's own database (login limits) answers."""
    try:
        current_app.extensions["gateway"].limiter.ping()
    except ProblemError:
        return jsonify(status="down", service="gateway", database="down"), 503
    return jsonify(status="ok", service="gateway", database="ok"), 200


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: request metrics and login counters (operators only)."""
    if not operator_request():
        raise ProblemError(
            401,
            "Unauthorized",
            "The metrics need the internal token.",
            headers={"WWW-Authenticate": 'Bearer realm="operations"'},
        )
    return Response(metrics_text(current_app), mimetype="text/plain; version=0.0.4")
