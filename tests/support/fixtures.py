"""Whole-system fixtures shared by tests/e2e, tests/reliability and tests/security (a pytest plugin).

The system (four services, API + projector each, and the gateway) is started once per session, on the
first test that needs it, and stopped at the end of the run. `record(**figures)` keeps what a reliability
or security scenario measured: printed in the run's summary and appended to .run/test-figures.jsonl.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shared.events.publisher import Publisher
from tests.support.faults import run_dir
from tests.support.infra import ROOT
from tests.support.system import System, start_system

FIGURES: list[dict] = []
RUN_STARTED = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # names the run in .run/test-figures.jsonl


@pytest.fixture(scope="session")
def system(kafka_bootstrap, topic_prefix, make_database, run_id, tmp_path_factory) -> Iterator[System]:
    """Four services (API + projector each) and the gateway, as real processes."""
    log_dir = tmp_path_factory.mktemp("system-logs")
    running = start_system(kafka_bootstrap, topic_prefix, make_database, log_dir, run_id)
    yield running
    running.shutdown()
    if os.environ.get("KEEP_E2E_LOGS"):
        print(f"e2e logs in {log_dir}")


@pytest.fixture(scope="session")
def publish(kafka_bootstrap, topic_prefix, system) -> Iterator:
    """publish(topic, events) through the validating publisher, then wait for the projections."""
    publisher = Publisher(kafka_bootstrap, topic_prefix)

    def send(topic: str, events: list[dict], wait: bool = True) -> None:
        report = publisher.publish(topic, events)
        assert report.refused == [], report.refused
        if wait:
            system.wait_caught_up()

    yield send
    publisher.close()


@pytest.fixture(scope="session")
def gateway(system) -> str:
    """Base URL of the gateway."""
    return system.gateway


def login(gateway: str, customer: str, serial: str, password: str | None = None) -> dict[str, str]:
    """Log in and return the Authorization header."""
    body = {"customer_code": customer, "serial_number": serial}
    if password is not None:
        body["password"] = password
    response = requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def record(request: pytest.FixtureRequest):
    """record(**figures): what the scenario measured, printed in the run's summary."""
    started = time.monotonic()

    def add(**figures: object) -> None:
        FIGURES.append(
            {
                "test": request.node.nodeid,
                "run": RUN_STARTED,
                "seconds": round(time.monotonic() - started, 1),
                **figures,
            }
        )

    return add


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest hook
    """Print the recorded figures and append them to .run/test-figures.jsonl, from which
    `scripts/reliability_report.py` (make reliability-report) writes the figures of docs/reliability.md."""
    if not FIGURES:
        return
    terminalreporter.section("recorded figures")
    for row in FIGURES:
        terminalreporter.write_line(json.dumps(row, ensure_ascii=False, default=str))
    out = Path(os.environ.get("PORTAL_RUN_DIR", ROOT / ".run")) / "test-figures.jsonl"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a", encoding="utf-8") as handle:
            for row in FIGURES:
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    except OSError:
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201 - pytest hook
    """Mark the figures a test recorded with its outcome (a figure of a failed test is not a result)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        for row in FIGURES:
            if row["test"] == item.nodeid and "passed" not in row:
                row["passed"] = report.passed


@pytest.fixture
def logs(request: pytest.FixtureRequest) -> Path:
    """A folder for the processes of one test: .run/test-logs/<test>/ (emptied first, kept afterwards)."""
    folder = run_dir() / "test-logs" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
