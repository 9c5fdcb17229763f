"""Structured JSON logs with a request id, and Prometheus request metrics."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

from shared import config

REQUEST_ID_HEADER = "X-Request-ID"
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, extra fields included."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the whole process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(logging.WARNING)


def register_request_logging(app: Flask, service: str) -> None:
    """Log one line per request and record request metrics; keep the caller's request id."""
    registry = CollectorRegistry()
    app.extensions["metrics_registry"] = registry
    requests = Counter("http_requests_total", "HTTP requests", ["endpoint", "method", "status"], registry=registry)
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["endpoint", "method"],
        registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    )
    log = logging.getLogger(f"{service}.http")

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "(unmatched)"
        requests.labels(endpoint, request.method, response.status_code).inc()
        latency.labels(endpoint, request.method).observe(elapsed)
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if not endpoint.startswith(("/health", "/metrics")):
            log.info(
                "request",
                extra={
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 2),
                },
            )
        return response


def register_scrape_collector(app: Flask, collector: Collector) -> None:
    """A collector read at scrape time (from the database): once per scrape, whatever the workers."""
    app.extensions.setdefault("scrape_registry", CollectorRegistry()).register(collector)


def metrics_text(app: Flask) -> bytes:
    """The Prometheus text of this process group.

    In multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set for every API by scripts/stack.sh) the counters and
    histograms of every worker are read from the directory and added up; otherwise this process's own.
    """
    scrape = app.extensions.get("scrape_registry")
    if config.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        if "multiprocess_registry" not in app.extensions:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            app.extensions["multiprocess_registry"] = registry
        own = generate_latest(app.extensions["multiprocess_registry"])
    else:
        own = generate_latest(app.extensions["metrics_registry"])
    return own + (generate_latest(scrape) if scrape is not None else b"")
