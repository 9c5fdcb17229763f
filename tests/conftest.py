"""Session fixtures: real Kafka and PostgreSQL, a topic prefix and databases per test run."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql

from tests.support import ast_gc, infra

ast_gc.install()  # CPython 3.11: a collection inside ast.parse can break it (tests/support/ast_gc.py)

# Property-based tests (hypothesis, schemathesis) are deterministic in `make test`: derandomised, so every run
# draws the same cases (a fixed seed per test), and no example database carries cases from run to run.
# `make fuzz` (HYPOTHESIS_PROFILE=fuzz) explores with random seeds and more examples, and prints the seed of a
# failure (`@seed(...)`) so it can be replayed and turned into a fixed case.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"

# The whole-system fixtures (`system`, `publish`, `gateway`) for tests/e2e, tests/reliability, tests/security.
pytest_plugins = ["tests.support.fixtures"]

_CONTAINERS: list = []


def pytest_configure(config: pytest.Config) -> None:
    """Resolve real Kafka and PostgreSQL once, before test modules read the environment."""
    # The tests give the processes they start their own tokens: the local stack's token files (scripts/lib.sh)
    # would make each such process refuse to start (a secret may not come from both places).
    for variable in ("INTERNAL_TOKEN_FILE", "GATEWAY_SECRET_KEY_FILE"):
        os.environ.pop(variable, None)
    only_unit = config.args and all("tests/unit" in str(a) for a in config.args)
    if only_unit or (os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_URL")):
        return
    bootstrap, database_url, containers = infra.resolve()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"] = bootstrap, database_url
    _CONTAINERS.extend(containers)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop containers started for this run (if any)."""
    for container in _CONTAINERS:
        container.stop()


# The explicit opt-outs (documented in the README); each leaves tests out, and the end of the run says so loudly.
OPT_OUTS = {
    "PORTAL_SKIP_BROWSER": "the portal browser tests were not run",
    "PORTAL_REMOTE_STACK": "the fault tests (tests/reliability) were not run: they need the local stack",
}


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """End every run with the number of skipped tests and why, and a loud warning for each opt-out in force."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    total = sum(reasons.values())
    terminalreporter.write_sep("=", f"{total} skipped", yellow=bool(total), green=not total, bold=True)
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:5d}  {reason}", yellow=True)
    for variable, what in OPT_OUTS.items():
        if os.environ.get(variable) == "1":
            terminalreporter.write_line(f"WARNING: {variable}=1 is set: {what}.", red=True, bold=True)


@pytest.fixture(scope="session")
def real_infra() -> tuple[str, str]:
    """(bootstrap servers, server database URL) of a real Kafka and PostgreSQL."""
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def kafka_bootstrap(real_infra: tuple[str, str]) -> str:
    """Bootstrap servers of the real broker."""
    return real_infra[0]


@pytest.fixture(scope="session")
def database_url(real_infra: tuple[str, str]) -> str:
    """URL of the real PostgreSQL server's maintenance database."""
    return real_infra[1]


@pytest.fixture(scope="session")
def run_id() -> str:
    """Short id of this test run; keeps its topics, groups and databases apart."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def topic_prefix(kafka_bootstrap: str, run_id: str) -> Iterator[str]:
    """A topic prefix of this run, with all catalog and dead-letter topics created."""
    from shared.cli.admin import create_topics, delete_topics

    prefix = f"t{run_id}."
    create_topics(kafka_bootstrap, partitions=3, prefix=prefix)
    yield prefix
    delete_topics(kafka_bootstrap, prefix)


@pytest.fixture(scope="session")
def make_database(database_url: str, run_id: str) -> Iterator:
    """Factory of throwaway databases (dropped at the end of the run)."""
    from shared.config import with_database

    created: list[str] = []

    def make(name: str) -> str:
        db = f"t{run_id}_{name}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        created.append(db)
        return with_database(database_url, db)

    yield make
    with psycopg.connect(database_url, autocommit=True) as conn:
        for db in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
