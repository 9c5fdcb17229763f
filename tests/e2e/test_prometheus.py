"""Prometheus, configured as `make run` configures it, scrapes every process of a running system."""

from __future__ import annotations

import time

from tests.support.prometheus import api, prometheus_for
from tests.support.system import SERVICES

EVERY_PROCESS = {("services", s) for s in SERVICES} | {("projectors", s) for s in SERVICES} | {("gateway", "gateway")}


def _until(check, timeout: float = 90):  # noqa: ANN001
    """Poll `check()` (returns (done, value)) until done; the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        done, value = check()
        if done or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def _services_with(url: str, expr: str) -> set[str]:
    return {
        row["metric"].get("service", "") for row in api(url, "query", query=f"count by (service) ({expr})")["result"]
    }


def test_prometheus_scrapes_every_process_with_the_alert_rules_loaded(system, tmp_path):
    with prometheus_for(system, tmp_path / "prometheus") as url:

        def targets():
            active = api(url, "targets", state="active")["activeTargets"]
            seen = {(t["labels"]["job"], t["labels"]["service"]): t["health"] for t in active}
            return set(seen) == EVERY_PROCESS and all(h == "up" for h in seen.values()), seen

        health = _until(targets)
        assert health == {key: "up" for key in EVERY_PROCESS}

        wanted = {
            "projection_lag_messages": set(SERVICES),  # API: lag from the read model
            "projector_lag_messages": set(SERVICES),  # projector: lag per partition
            "projector_batch_duration_seconds_count": set(SERVICES),
            'http_requests_total{job="services"}': set(SERVICES),
            'http_request_duration_seconds_bucket{job="services"}': set(SERVICES),
            'http_requests_total{job="gateway"}': {"gateway"},
            "up": set(SERVICES) | {"gateway"},
        }

        def present():
            found = {expr: _services_with(url, expr) for expr in wanted}
            return found == wanted, found

        assert _until(present) == wanted

        rules = api(url, "rules", type="alert")["groups"]
        names = {rule["name"] for group in rules for rule in group["rules"]}
        assert {
            "InstanceDown",
            "ServiceMissing",
            "DeadLettersAppearing",
            "ProjectorMissing",
            "ServerErrors",
            "SlowRequests",
            "LoginLimitSpike",
            "ProjectorBatchesFailing",
        } <= names
        assert all(rule["health"] == "ok" for group in rules for rule in group["rules"]), rules
