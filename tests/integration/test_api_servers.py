"""The APIs' servers as the stack runs them: gunicorn (shared/web/gunicorn_conf.py, the gateway's) and Granian
(shared/web/serve.py, the services'): JSON log lines only, one scrape counts every worker; under Granian a dead
worker is replaced and bad settings stop the server."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
import requests

from tests.support.infra import ROOT
from tests.support.procs import spawn, wait_for
from tests.support.system import INTERNAL_TOKEN, System, free_port, wait_live

LEDGER = "services.ledger.app:create_app()"
# What each server logs (as JSON lines) when it starts a worker, listens, and shuts down.
STARTS = {
    "gunicorn": ("gunicorn.error", "Booting worker", "Listening at", "Shutting down"),
    "granian": ("_granian", "Spawning worker-", "Listening at", "Shutting down granian"),
}


def _served(metrics: str) -> float:
    match = re.search(
        r'^http_requests_total\{endpoint="/health/live",method="GET",status="200"\} (\S+)$', metrics, re.M
    )
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def ledger_env(make_database, kafka_bootstrap, topic_prefix, request) -> dict[str, str]:
    name = re.sub(r"\W", "_", request.node.name)[-40:].lower()  # a database of each test's own
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "PYTHONPATH": str(ROOT),
        "LEDGER_DATABASE_URL": make_database(name),
    }


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_two_workers_are_counted_in_one_scrape_and_the_server_logs_json(ledger_env, tmp_path, server):
    system = System(ledger_env, tmp_path, {"ledger": free_port()})
    getattr(system, server)("ledger-api", LEDGER, system.ports["ledger"], workers=2)
    try:
        url = system.url("ledger")
        wait_live(url)
        before = _served(requests.get(f"{url}/metrics", timeout=10).text)
        metrics_dir = tmp_path / "metrics" / "ledger-api"
        sent = 0

        def both_workers_wrote() -> bool:
            # a new connection each, until both workers have accepted one (the kernel picks who accepts)
            nonlocal sent
            assert requests.get(f"{url}/health/live", timeout=5, headers={"Connection": "close"}).status_code == 200
            sent += 1
            writers = {re.sub(r"^\D+_(\d+)\.db$", r"\1", p.name) for p in metrics_dir.glob("counter_*.db")}
            return len(writers) == 2

        wait_for(both_workers_wrote, timeout=60, interval=0)
        for _ in range(6):  # whichever worker answers the scrape, it counts both workers' requests
            assert _served(requests.get(f"{url}/metrics", timeout=10).text) == before + sent
    finally:
        system.shutdown()
    lines = [line for line in Path(tmp_path / "ledger-api.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, the server's own too
    messages = [(r["logger"], r["msg"]) for r in records]
    logger, booting, listening, stopping = STARTS[server]
    assert sum(1 for name, msg in messages if name == logger and msg.startswith(booting)) == 2, messages
    assert any(name == logger and msg.startswith(listening) for name, msg in messages), messages
    assert any(name == logger and msg.startswith(stopping) for name, msg in messages), messages
    assert not [m for m in messages if m[0] in ("gunicorn.access", "granian.access") or "Control socket" in m[1]]


def test_granian_replaces_a_worker_that_dies(ledger_env, tmp_path):
    system = System(ledger_env, tmp_path, {"ledger": free_port()})
    system.start_api("ledger", workers=2)  # as the stack: Granian
    try:
        url = system.url("ledger")
        wait_live(url)
        main = system.procs["ledger-api"].pid
        workers = wait_for(lambda: (pids := children(main)) and len(pids) == 2 and pids, timeout=30)
        os.kill(workers[0], signal.SIGKILL)
        replaced = wait_for(
            lambda: (pids := children(main)) and len(pids) == 2 and workers[0] not in pids and pids, timeout=30
        )
        assert workers[1] in replaced
        for _ in range(20):
            assert requests.get(f"{url}/health/live", timeout=5, headers={"Connection": "close"}).status_code == 200
        assert system.procs["ledger-api"].poll() is None
    finally:
        system.shutdown()


def test_granian_stops_when_the_service_s_settings_are_bad(ledger_env, tmp_path):
    """A default internal token: every worker refuses to start, and the server exits instead of respawning."""
    log = tmp_path / "ledger-api.log"
    proc = spawn(
        ["-m", "shared.web.serve", "--workers", "1", "--bind", f"127.0.0.1:{free_port()}", LEDGER],
        {**ledger_env, "INTERNAL_TOKEN": "change-me", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
        log,
    )
    try:
        assert proc.wait(timeout=60) == 1  # Granian's status when its workers crash in a loop
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert text.count("INTERNAL_TOKEN is a known default") >= 2  # the worker, and at least one replacement
    assert "Worker crash loop detected" in text
