"""Fixtures of the fault scenarios: fresh topics per test, databases, the local stack's fault switches, logs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from shared.cli.admin import create_topics, delete_topics
from tests.support.faults import local_stack_problem

SOAK = os.environ.get("RELIABILITY_SOAK") == "1"
# The fault tests kill the local broker and stop the local cluster. Against a stack elsewhere they cannot; that is
# said explicitly with PORTAL_REMOTE_STACK=1 (they are then skipped, loudly). Otherwise a stack that is not the
# local one is a failure, not a skip.
REMOTE_STACK = os.environ.get("PORTAL_REMOTE_STACK") == "1"


@pytest.fixture
def fresh_topics(kafka_bootstrap: str) -> Iterator[str]:
    """A topic prefix of this test alone, every catalog and dead-letter topic created (3 partitions)."""
    prefix = f"r{uuid.uuid4().hex[:8]}."
    create_topics(kafka_bootstrap, partitions=3, prefix=prefix)
    yield prefix
    delete_topics(kafka_bootstrap, prefix)


@pytest.fixture
def new_database(make_database):
    """new_database(name) -> URL of a fresh, empty database (dropped at the end of the run)."""
    return lambda name: make_database(f"{name}_{uuid.uuid4().hex[:6]}")


@pytest.fixture
def local_stack(kafka_bootstrap: str, database_url: str) -> None:
    """The broker and the cluster are the local stack's, which these tests may kill and start again."""
    problem = local_stack_problem(kafka_bootstrap, database_url)
    if problem and REMOTE_STACK:
        pytest.skip(f"PORTAL_REMOTE_STACK=1: fault injection needs the local stack (scripts/infra.sh): {problem}")
    if problem:
        pytest.fail(
            f"fault injection needs the local stack (scripts/infra.sh): {problem}. Run the tests with "
            "`make test`; against a stack elsewhere set PORTAL_REMOTE_STACK=1 to skip them",
            pytrace=False,
        )
