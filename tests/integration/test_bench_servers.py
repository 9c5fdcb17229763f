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


@pytest.mark.parametrize("variant", sorted(servers.GEVENT))
def test_a_gevent_variant_answers_and_refuses_like_the_stack(variant: str, tmp_path: Path) -> None:
    with servers.Server(servers.VARIANTS[variant], tmp_path) as server:
        answer = requests.get(f"{server.url}/api/v1/quota", timeout=5)
        said = {case: servers.exchange(server.url, CASES[case][0]) for case in REFUSED}
        again = requests.get(f"{server.url}/api/v1/quota", timeout=5)
        workers = len(server.pids()) - 1  # the master's children

    assert answer.status_code == 200
    assert answer.json()["minutes"] == {"free": 600, "used": 125, "left": 475}
    assert said == {case: f"{CASES[case][1]} application/problem+json" for case in REFUSED}
    assert again.status_code == 200  # the refusals took no worker down
    assert workers == 2
