"""Health and metrics endpoints of every service: /health/live, /health/ready, /metrics."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, Response, current_app, jsonify, request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg.rows import DictRow

from shared.projection import bookkeeping
from shared.projection.lag import EndOffsets, projection_lag
from shared.readmodel import connections as db
from shared.readmodel import pointer
from shared.readmodel.connections import one
from shared.web.observability import metrics_text, register_scrape_collector

log = logging.getLogger("health")


def readiness(app: Flask, topics: list[str], fresh: bool = False) -> dict[str, Any]:
    """Database and Kafka reachability plus projection lag per topic (`fresh`: no cached end offsets)."""
    report: dict[str, Any] = {"database": "down", "kafka": "down", "lag": {}, "rejected_events": None}
    offsets: EndOffsets = app.extensions["end_offsets"]
    ends: dict[tuple[str, int], int] | None = None
    stored: dict[tuple[str, int], int] | None = None
    try:
        ends = offsets.get(topics, fresh)
        report["kafka"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable here
        report["kafka_error"] = str(exc)
    try:
        with _connection(app) as conn:
            row = one(conn.execute("SELECT count(*) AS n, current_schema() AS live FROM rejected_events"))
            report["rejected_events"], report["read_model_schema"] = row["n"], row["live"]
            stored = bookkeeping.stored_offsets(conn)
            report["database"] = "ok"
    except (psycopg.Error, TimeoutError) as exc:
        report["database_error"] = str(exc)
    if ends is not None and stored is not None:
        report["lag"] = projection_lag(ends, stored, topics, offsets.publish_times)
    report["status"] = "ok" if report["database"] == "ok" and report["kafka"] == "ok" else "down"
    return report


class ProjectionCollector(Collector):
    """Prometheus metrics read from the read model's bookkeeping at scrape time."""

    def __init__(self, app: Flask, topics: list[str]) -> None:
        self.app, self.topics = app, topics

    def collect(self):  # noqa: ANN201 - prometheus protocol
        applied = CounterMetricFamily("projection_events_applied", "Events applied", labels=["type"])
        rejected = CounterMetricFamily("projection_events_rejected", "Events rejected", labels=["type"])
        lag = GaugeMetricFamily("projection_lag_messages", "Messages not yet applied", labels=["topic"])
        lag_s = GaugeMetricFamily(
            "projection_lag_seconds", "Age of the oldest message not yet applied", labels=["topic"]
        )
        up = GaugeMetricFamily("service_ready", "1 when database and Kafka are reachable")
        report = readiness(self.app, self.topics)
        up.add_metric([], 1 if report["status"] == "ok" else 0)
        try:
            with _connection(self.app) as conn:
                for row in conn.execute("SELECT event_type, applied, rejected FROM projection_counters"):
                    applied.add_metric([row["event_type"]], row["applied"])
                    rejected.add_metric([row["event_type"]], row["rejected"])
        except (psycopg.Error, TimeoutError):
            pass
        for topic, value in report["lag"].items():
            lag.add_metric([topic], value["messages"])
            if value["seconds"] is not None:
                lag_s.add_metric([topic], value["seconds"])
        yield from (applied, rejected, lag, lag_s, up)


def register_health(app: Flask, service: str, ddl: Path, topics: list[str]) -> None:
    """Add the health and metrics routes and make sure the read model's tables exist."""
    app.extensions["end_offsets"] = EndOffsets(
        app.config["KAFKA_BOOTSTRAP_SERVERS"], app.config.get("TOPIC_PREFIX", "")
    )
    register_scrape_collector(app, ProjectionCollector(app, topics))
    _ensure_tables(app, ddl)

    @app.get("/health/live")
    def live() -> Response:
        """The process is up."""
        return jsonify(status="ok", service=service)

    @app.get("/health/ready")
    def ready() -> tuple[Response, int]:
        """Database and Kafka reachable, with the projection lag per topic."""
        report = readiness(current_app, topics, fresh=request.args.get("fresh") == "1")
        return jsonify(service=service, **report), 200 if report["status"] == "ok" else 503

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus text format."""
        return Response(metrics_text(current_app), mimetype="text/plain; version=0.0.4")


def _connection(app: Flask) -> AbstractContextManager[psycopg.Connection[DictRow]]:
    """A pooled connection to the live read model, for health and metrics."""
    return app.extensions["db_pool"].connection(timeout=2)  # pointed at the live schema by the pool's check


def _ensure_tables(app: Flask, ddl: Path) -> None:
    """Create the schema so queries work before the projector's first start (best effort)."""
    try:
        with db.connect(app.config["DATABASE_URL"], app.config["READ_MODEL_SCHEMA"]) as conn:
            # the projector creates the pointer (with its projection version); without one the name is the schema
            live = pointer.live(conn, app.config["READ_MODEL_SCHEMA"]).schema
            db.ensure_schema(conn, ddl, live)
            db.ensure_schema(conn, bookkeeping.RUNTIME_DDL, live)
    except psycopg.OperationalError as exc:
        log.warning("database not reachable at start; tables not ensured: %s", exc)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
        # a read-only role (docs/security.md): the projector, owner of the database, creates the read model
        log.info("read-only database role: the projector creates the read model")
