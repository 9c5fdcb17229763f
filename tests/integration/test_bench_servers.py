"""bench.servers' gevent variants (change 31 of docs/performance.md, measured, not adopted) serve the measured app
and refuse malformed HTTP as the stack's threaded worker does: a comparison of their CPU is then one of servers
doing the same work. gunicorn only, no Kafka or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from bench import servers
from tests.security.test_malformed_http import CASES

# one case of each refusal kind of shared.web.http_server.REFUSALS, and a parse error (400)
REFUSED = ("request line garbage", "request line over 4 KiB", "more than 100 headers", "unknown expectation")
WORKERS = {
    "gunicorn, gevent worker (change 31)": "bench.gevent_workers.ProblemGeventWorker",
    "gunicorn, gevent worker taking turns (change 31)": "bench.gevent_workers.TurnsGeventWorker",
}


def test_every_gevent_variant_is_tested() -> None:
    assert set(WORKERS) == set(servers.GEVENT)


@pytest.mark.parametrize(("variant", "worker"), sorted(WORKERS.items()))
def test_a_gevent_variant_answers_and_refuses_like_the_stack(variant: str, worker: str, tmp_path: Path) -> None:
    with servers.Server(servers.VARIANTS[variant], tmp_path) as server:
        pids = sorted(server.pids())
        answer = requests.get(f"{server.url}/api/v1/quota", timeout=5)
        said = {case: servers.exchange(server.url, CASES[case][0]) for case in REFUSED}
        again = requests.get(f"{server.url}/api/v1/quota", timeout=5)
        after = sorted(server.pids())

    assert f"Using worker: {worker}" in (tmp_path / "servers.log").read_text()  # the variant's class, not the stack's
    assert answer.status_code == 200
    assert answer.json()["minutes"] == {"free": 600, "used": 125, "left": 475}
    assert said == {case: f"{CASES[case][1]} application/problem+json" for case in REFUSED}
    assert again.status_code == 200
    assert len(pids) == 3 and after == pids  # the master and its 2 workers: no worker died over the refusals
