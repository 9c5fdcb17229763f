"""One service (API + projector) as real processes for the operations tests, and reading its metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.infra import ROOT
from tests.support.system import System, free_port

INTERNAL_TOKEN = "ops-internal-token"


@dataclass
class Service:
    """A running service: its processes, URLs, database and environment."""

    name: str
    system: System
    database_url: str
    metrics_port: int

    @property
    def env(self) -> dict[str, str]:
        return self.system.env

    @property
    def url(self) -> str:
        return self.system.url(self.name)

    @property
    def projector_metrics(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def get(self, path: str, **params: Any) -> requests.Response:
        """GET on the internal API with the internal token."""
        return requests.get(self.url + path, params=params, headers={"X-Internal-Token": INTERNAL_TOKEN}, timeout=10)

    def ready(self) -> dict[str, Any]:
        """/health/ready with fresh end offsets."""
        return self.get("/health/ready", fresh="1").json()

    def wait_caught_up(self, timeout: float = 90) -> dict[str, Any]:
        """Wait until every topic's lag is 0; the last readiness report."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.ready()
            if report.get("status") == "ok" and all(t["messages"] == 0 for t in report["lag"].values()):
                return report
            assert time.monotonic() < deadline, f"{self.name} did not catch up: {report}"
            time.sleep(0.2)

    def run_projector(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
                      ) -> subprocess.CompletedProcess:
        """Run the service's projector command to its end (e.g. --rebuild-shadow)."""
        return subprocess.run([sys.executable, "-m", f"services.{self.name}.projector", *args], cwd=ROOT,
                              env=env or self.env, capture_output=True, text=True, timeout=timeout)


def start_service(name: str, kafka_bootstrap: str, topic_prefix: str, database_url: str, log_dir: Path) -> Service:
    """API and projector of one service with their own database and consumer group."""
    metrics_port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TOPIC_PREFIX": topic_prefix,
           "INTERNAL_TOKEN": INTERNAL_TOKEN, "PYTHONPATH": str(ROOT), "PROJECTOR_POLL_TIMEOUT_MS": "100",
           "CONSUMER_GROUP": f"ops-{name}-{uuid.uuid4().hex[:6]}", f"{name.upper()}_DATABASE_URL": database_url,
           "PROJECTOR_METRICS_PORT": str(metrics_port)}
    log_dir.mkdir(parents=True, exist_ok=True)
    system = System(env, log_dir, {name: free_port()})
    system.start_projector(name)
    system.start_api(name)
    service = Service(name, system, database_url, metrics_port)
    try:
        _wait_http(f"{service.url}/health/live")
        _wait_http(service.projector_metrics)
    except AssertionError:
        system.shutdown()
        raise AssertionError(f"{name} did not start; see {log_dir}") from None
    return service


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def metrics(url: str) -> dict[tuple[str, frozenset], float]:
    """Samples of a Prometheus text page: (sample name, labels) -> value."""
    text = requests.get(url, timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
