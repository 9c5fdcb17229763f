"""The APIs' servers as the stack runs them: gunicorn (shared/web/gunicorn_conf.py, the gateway's) and Granian
(shared/web/serve.py, the services'): JSON log lines only, one scrape counts every worker; under Granian a dead
worker is replaced and bad settings stop the server."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
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


def running(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


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


def serve(
    env: dict[str, str], tmp_path: Path, port: int, app: str = LEDGER, metrics: bool = True, **extra: str
) -> subprocess.Popen:
    """An API under Granian as the stack starts it, with one worker, logging to ledger-api.log; without
    `metrics` no PROMETHEUS_MULTIPROC_DIR is given (as in docker compose)."""
    env = {**env, **({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")} if metrics else {}), **extra}
    if not metrics:
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return spawn(
        ["-m", "shared.web.serve", "--workers", "1", "--bind", f"127.0.0.1:{port}", app],
        env,
        tmp_path / "ledger-api.log",
    )


def log_records(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "ledger-api.log").read_text().splitlines() if line.strip()]


def ended(proc: subprocess.Popen, timeout: float = 60) -> int:
    try:
        return proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("INTERNAL_TOKEN", "change-me", "INTERNAL_TOKEN is a known default"),  # every service's
        ("VENDOR_ACCOUNT_NUMBER", "123", "VENDOR_ACCOUNT_NUMBER: not a Hungarian account number"),  # the ledger's
    ],
)
def test_a_bad_setting_stops_granian_before_any_worker_with_one_line(ledger_env, tmp_path, setting, value, message):
    proc = serve(ledger_env, tmp_path, free_port(), **{setting: value})
    assert ended(proc) == 4  # shared/config.py's status for a bad setting
    lines = (tmp_path / "ledger-api.log").read_text().splitlines()
    assert len([line for line in lines if message in line]) == 1, lines
    assert not [line for line in lines if "Spawning worker" in line], lines


def test_a_worker_that_cannot_load_the_app_stops_granian_after_one_replacement(ledger_env, tmp_path):
    """Each worker fails while loading the application: the failure is a JSON line with its traceback, the
    replacement fails too, and Granian stops instead of respawning forever."""
    proc = serve(ledger_env, tmp_path, free_port(), app="tests.support.failing_app:create_app()")
    assert ended(proc) == 1  # Granian's status when a replaced worker dies again within seconds
    records = log_records(tmp_path)  # every line JSON
    failures = [r for r in records if r["msg"].startswith("the application tests.support.failing_app")]
    assert len(failures) >= 2, records  # the worker, and at least one replacement
    assert all(r["level"] == "error" and "this application cannot start" in r["exc"] for r in failures)
    assert any(r["msg"] == "Worker crash loop detected, exiting" for r in records), records


def test_granian_refuses_a_port_that_is_taken(ledger_env, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = serve(ledger_env, tmp_path, taken.getsockname()[1])
        assert ended(proc) == 1
    records = log_records(tmp_path)
    assert any(r["level"] == "error" and "Address already in use" in r["msg"] for r in records), records


def test_without_a_metrics_directory_one_is_made_and_the_workers_count_in_it(ledger_env, tmp_path):
    """As in docker compose: no PROMETHEUS_MULTIPROC_DIR given. The launcher makes one before anything imports
    prometheus_client, so the worker's requests are counted where the scrape reads."""
    port = free_port()
    proc = serve(ledger_env, tmp_path, port, metrics=False)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_live(url)
        before = _served(requests.get(f"{url}/metrics", timeout=10).text)
        for _ in range(3):
            assert requests.get(f"{url}/health/live", timeout=5).status_code == 200
        assert _served(requests.get(f"{url}/metrics", timeout=10).text) == before + 3
    finally:
        proc.terminate()
        assert ended(proc, timeout=30) == 0


def test_granian_s_workers_end_with_their_main_process(ledger_env, tmp_path):
    """SIGKILL of the main process (it cannot stop its workers then): the workers end too, and the port is free
    for the next start (Granian's workers would otherwise go on answering on it)."""
    port = free_port()
    proc = serve(ledger_env, tmp_path, port)
    try:
        wait_live(f"http://127.0.0.1:{port}")
        workers = children(proc.pid)
        assert len(workers) == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(lambda: not running(workers[0]), timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # nobody listens on it any more
