"""A service stopped: its gateway queries answer 503, the other services' queries keep working; started again,
everything answers without restarting the gateway. The times are recorded figures, not assertions (a loaded
machine must not fail a test); a hung service's 503 is proof that the gateway's read timeout fired."""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from tests.support.customers import rich_customer
from tests.support.fixtures import login
from tests.support.procs import wait_for
from tests.support.system import INTERNAL_TOKEN, wait_live

QUERIES = {
    "balance": "ledger",
    "support-calls": "tickets",
    "quota": "quota",
    "contract-annex": "contracts",
    "expected-fee": "contracts",
}


@pytest.fixture(scope="module")
def customer(publish) -> dict:
    return rich_customer(publish, name="Kiesés Kft.")


def ask(gateway: str, path: str, auth: dict) -> tuple[int, float, requests.Response]:
    started = time.monotonic()
    # Longer than the gateway's own service timeout (10 s in the tests' system), so the gateway answers first.
    response = requests.get(f"{gateway}/api/v1/{path}", headers=auth, timeout=30)
    return response.status_code, time.monotonic() - started, response


def children(pid: int) -> list[int]:
    """Pids of a process's children (the API server's workers)."""
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


def logged_in(gateway: str, customer: dict) -> dict | None:
    """The Authorization header of a session, or None while the gateway cannot log in yet."""
    answer = requests.post(
        f"{gateway}/api/v1/sessions",
        json={"customer_code": customer["code"], "serial_number": customer["serials"][0]},
        timeout=10,
    )
    return {"Authorization": f"Bearer {answer.json()['token']}"} if answer.status_code == 201 else None


def all_answer(gateway: str, auth: dict) -> bool:
    return all(ask(gateway, path, auth)[0] == 200 for path in QUERIES)


@pytest.mark.parametrize("service", ["contracts", "ledger", "tickets", "quota"])
@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_a_stopped_service_fails_only_its_queries(system, gateway, customer, service, how, record):
    # The system is whole before the fault: an earlier test may have stopped PostgreSQL, and the gateway's pool
    # reconnects with a back-off of its own.
    auth = wait_for(lambda: logged_in(gateway, customer), timeout=60)
    assert all_answer(gateway, auth)
    gateway_proc = system.procs["gateway-api"]
    proc = system.procs[f"{service}-api"]
    timings = {}
    try:
        if how == "stopped":
            system.stop(f"{service}-api")
        else:  # the whole service crashes: the server's main process and its worker, at once
            for pid in [proc.pid, *children(proc.pid)]:  # the main first: it would replace a worker killed alone
                os.kill(pid, signal.SIGKILL)
            proc.wait(timeout=10)
            system.procs.pop(f"{service}-api")
        for path, owner in QUERIES.items():
            status, seconds, response = ask(gateway, path, auth)
            timings[path] = round(seconds, 3)
            if owner == service:
                assert status == 503, (path, response.text)
                assert response.headers["Content-Type"].startswith("application/problem+json")
                assert response.json()["status"] == 503
            else:
                assert status == 200, (path, status, response.text)
        login_answer = requests.post(
            f"{gateway}/api/v1/sessions",
            json={"customer_code": customer["code"], "serial_number": customer["serials"][0]},
            timeout=10,
        )
        assert login_answer.status_code == (503 if service == "contracts" else 201)
        health = requests.get(f"{gateway}/health", headers={"X-Internal-Token": INTERNAL_TOKEN}, timeout=10).json()
        assert health["services"][service]["status"] == "down"
        assert all(health["services"][s]["status"] != "down" for s in QUERIES.values() if s != service)
    finally:
        if f"{service}-api" not in system.procs:
            system.start_api(service)
        wait_live(system.url(service))
    back = time.monotonic()
    wait_for(lambda: all_answer(gateway, auth), timeout=60)  # recovered without restarting the gateway
    assert system.procs["gateway-api"] is gateway_proc and gateway_proc.poll() is None, "the gateway was restarted"
    record(service=service, how=how, seconds_by_query=timings, recovered_after_live_s=round(time.monotonic() - back, 2))


def test_a_hung_service_is_503_after_the_gateway_timeout(system, gateway, customer, record):
    """SIGSTOP: the port still accepts connections but nothing answers; the gateway's read timeout decides."""
    auth = login(gateway, customer["code"], customer["serials"][0])
    pids = [system.procs["ledger-api"].pid, *children(system.procs["ledger-api"].pid)]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        status, seconds, _ = ask(gateway, "balance", auth)
        other_status, other_seconds, _ = ask(gateway, "quota", auth)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    # The ledger never answers while stopped: a 503 can only come from the gateway's own read timeout (10 s in
    # the tests' system, tests/support/system.py).
    assert status == 503
    assert other_status == 200
    assert ask(gateway, "balance", auth)[0] == 200
    record(balance_while_hung_s=round(seconds, 2), quota_meanwhile_s=round(other_seconds, 3))
