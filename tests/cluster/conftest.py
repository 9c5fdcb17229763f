"""The three-broker cluster of scripts/cluster.sh, started for these scenarios and stopped after the last of them
if they started it (package scope: its three brokers do not run beside the rest of the suite). Its ports:
PORTAL_CLUSTER_BASE_PORT (29092) and the five after it, all on 127.0.0.1."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest

from tests.support.cluster import Cluster, _script

REMOTE_STACK = os.environ.get("PORTAL_REMOTE_STACK") == "1"


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    """The local three-broker cluster, whole (every node live, every partition fully in sync)."""
    if REMOTE_STACK:
        pytest.skip("PORTAL_REMOTE_STACK=1: the cluster scenarios start three local brokers (scripts/cluster.sh)")
    cluster = Cluster(_script("bootstrap").strip())
    started_here = not cluster.running()
    cluster.up()
    cluster.delete_test_topics()
    yield cluster
    # A Kafka client left open here would retry the stopped cluster for the rest of the run, drawing from the
    # `random` module in its IO thread, which hypothesis (tests/security/test_schemathesis.py) reports as a
    # strategy using `random`: every client the scenarios made must be closed by now.
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("kafka-io-")]
    if started_here:
        cluster.down()
    assert not leaked, f"Kafka clients left open by the cluster scenarios: {leaked}"


@pytest.fixture
def whole(cluster: Cluster) -> Cluster:
    """The cluster with all three nodes up and every partition in sync before the scenario starts (an earlier
    scenario that failed may have left a node down)."""
    for node in (1, 2, 3):
        if cluster.pid(node) is None:
            cluster.start(node)
    cluster.wait_whole()
    return cluster


@pytest.fixture
def new_database(make_database):
    """new_database(name) -> URL of a fresh, empty database (dropped at the end of the run)."""
    return lambda name: make_database(f"{name}_{uuid.uuid4().hex[:6]}")
