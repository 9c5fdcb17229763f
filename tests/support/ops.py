"""One service (API + projector) as real processes for the operations tests, and reading its metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from shared.events.publisher import Publisher
from tests.support import domain, events, security
from tests.support.infra import ROOT
from tests.support.procs import rows
from tests.support.system import System, free_port

INTERNAL_TOKEN = "ops-internal-token"
LEDGER_TABLES = {
    "invoice": "invoice_number",
    "invoice_cancellation": "invoice_number",
    "payment": "payment_id",
    "refund": "refund_id",
    "license_code": "event_id",
}


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

    def run_projector(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        """Run the service's projector command to its end (e.g. --rebuild-shadow)."""
        return subprocess.run(
            [sys.executable, "-m", f"services.{self.name}.projector", *args],
            cwd=ROOT,
            env=env or {**self.env, **security.projector_identity(self.name)},  # as the projector's own role
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def start_service(name: str, kafka_bootstrap: str, topic_prefix: str, database_url: str, log_dir: Path) -> Service:
    """API and projector of one service with their own database and consumer group."""
    metrics_port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "PYTHONPATH": str(ROOT),
        "PROJECTOR_POLL_TIMEOUT_MS": "100",
        # under `<prefix><service>`: the consumer groups the service's principal may use (docs/security.md)
        "CONSUMER_GROUP": f"{topic_prefix}{name}.ops-{uuid.uuid4().hex[:6]}",
        f"{name.upper()}_DATABASE_URL": database_url,
        "PROJECTOR_METRICS_PORT": str(metrics_port),
    }
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
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


# ---- the ledger: its balance answer, a load, a snapshot of its read model, traffic during a rebuild ----


def balance(ledger: Service, customer: str, session: requests.Session | None = None) -> requests.Response:
    """The ledger's balance answer for a customer (serial SN-1, as of 2030-01-01)."""
    return (session or requests).get(
        f"{ledger.url}/internal/v1/customers/{customer}/balance",
        params={"as_of": "2030-01-01", "serial_number": "SN-1"},
        headers={"X-Internal-Token": INTERNAL_TOKEN},
        timeout=10,
    )


def ledger_load(customers: list[str]) -> dict[str, list[dict]]:
    """Invoices, payments, a cancellation and license codes for some customers."""
    load: dict[str, list[dict]] = {"invoices": [], "payments": [], "license-codes": []}
    for n, customer in enumerate(customers):
        number = f"SZ-{uuid.uuid4().hex[:8]}"
        load["invoices"] += [
            domain.invoice(customer, number, date(2026, 1, 10), 12_700 * (n + 1)),
            domain.invoice(customer, f"{number}-2", date(2026, 2, 10), 5_000),
        ]
        load["invoices"].append(domain.cancellation(customer, f"{number}-2", date(2026, 2, 12)))
        load["payments"] += [domain.paid(customer, 10_000, date(2026, 1, 20), reference=number)]
        load["license-codes"].append(domain.codes(customer, "SN-1", date(2026, 1, 1), date(2026, 12, 31)))
    return load


def snapshot(dsn: str, schema: str) -> dict[str, list]:
    """A read model's tables as sorted rows (without arrival numbers and timestamps of the bookkeeping)."""
    found: dict[str, list] = {}
    for table, key in LEDGER_TABLES.items():
        data = rows(dsn, f'SELECT * FROM "{schema}".{table} ORDER BY {key}')
        found[table] = [{k: v for k, v in r.items() if k != "arrival"} for r in data]
    found["applied_events"] = rows(dsn, f'SELECT * FROM "{schema}".applied_events ORDER BY event_id')
    found["projection_counters"] = rows(dsn, f'SELECT * FROM "{schema}".projection_counters ORDER BY event_type')
    found["projector_offsets"] = rows(
        dsn, f'SELECT topic, partition, next_offset FROM "{schema}".projector_offsets ORDER BY topic, partition'
    )
    found["rejected_events"] = rows(
        dsn,
        f'SELECT topic, partition, "offset", event_id, reason FROM '
        f'"{schema}".rejected_events ORDER BY topic, partition, "offset"',
    )
    return found


class Traffic:
    """Queries the API in a loop (and publishes new payments) until stopped; records every answer."""

    def __init__(self, ledger: Service, publisher: Publisher, customers: list[str]) -> None:
        self.ledger, self.publisher, self.customers = ledger, publisher, customers
        self.answers: list[tuple[str, int, int | None]] = []
        self.late: list[dict] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._query), threading.Thread(target=self._publish)]

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _query(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                for customer in self.customers:
                    answer = balance(self.ledger, customer, session)
                    self.answers.append((customer, answer.status_code, answer.json().get("balance")))

    def _publish(self) -> None:
        while not self.stop.wait(0.05):
            event = events.payment(events.customer_code(), 100)
            assert self.publisher.publish("payments", [event]).sent == 1
            self.late.append(event)
