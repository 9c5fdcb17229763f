"""gunicorn as the stack runs it (shared/web/gunicorn_conf.py): JSON log lines only, and one scrape counts every worker."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import requests

from tests.support.infra import ROOT
from tests.support.system import INTERNAL_TOKEN, System, free_port, wait_live

REQUESTS = 60


def _served(metrics: str) -> float:
    match = re.search(
        r'^http_requests_total\{endpoint="/health/live",method="GET",status="200"\} (\S+)$', metrics, re.M
    )
    return float(match.group(1)) if match else 0.0


def test_two_workers_are_counted_in_one_scrape_and_gunicorn_logs_json(
    make_database, kafka_bootstrap, topic_prefix, tmp_path
):
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "PYTHONPATH": str(ROOT),
        "LEDGER_DATABASE_URL": make_database("gunicorn"),
    }
    system = System(env, tmp_path, {"ledger": free_port()})
    system.start_api("ledger", workers=2)
    try:
        url = system.url("ledger")
        wait_live(url)
        before = _served(requests.get(f"{url}/metrics", timeout=10).text)
        for _ in range(REQUESTS):  # a new connection each: the two workers take turns accepting
            assert requests.get(f"{url}/health/live", timeout=5, headers={"Connection": "close"}).status_code == 200
        metrics_dir = tmp_path / "metrics" / "ledger-api"
        writers = {re.sub(r"^\D+_(\d+)\.db$", r"\1", p.name) for p in metrics_dir.glob("counter_*.db")}
        assert len(writers) == 2, writers  # both workers served requests (and wrote their counters)
        for _ in range(6):  # whichever worker answers the scrape, it counts both workers' requests
            assert _served(requests.get(f"{url}/metrics", timeout=10).text) == before + REQUESTS
    finally:
        system.shutdown()
    lines = [line for line in Path(tmp_path / "ledger-api.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, gunicorn's own too
    messages = [(r["logger"], r["msg"]) for r in records]
    assert sum(1 for logger, msg in messages if logger == "gunicorn.error" and msg.startswith("Booting worker")) == 2
    assert any(logger == "gunicorn.error" and msg.startswith("Listening at") for logger, msg in messages)
    assert any(logger == "gunicorn.error" and msg.startswith("Shutting down") for logger, msg in messages)
    assert not [m for m in messages if m[0] == "gunicorn.access" or "Control socket" in m[1]], messages
