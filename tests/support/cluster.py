"""The local three-broker Kafka cluster (scripts/cluster.sh) for the cluster scenarios: start it, kill, stop and
start one node, ask who leads which partition, wait until every partition is fully in sync again, and keep the
figures the scenarios measure in .run/cluster-figures.json (scripts/cluster_report.py writes them into
docs/operations.md)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from shared import kafka_security
from shared.cli.admin import admin_client
from shared.cli.cluster import Partition, live_brokers, partitions, wait_healthy
from tests.support.faults import run_dir
from tests.support.infra import ROOT

SCRIPT = ROOT / "scripts" / "cluster.sh"
NODES = (1, 2, 3)
TEST_TOPIC = re.compile(r"^[ks][0-9a-f]{8}\.")  # the prefixes tests/cluster gives its topics


def figures_path() -> Path:
    return run_dir() / "cluster-figures.json"


def save_figures(scenario: str, figures: dict[str, Any]) -> None:
    """Replace one scenario's figures in .run/cluster-figures.json (the other scenarios' are kept)."""
    path = figures_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known[scenario] = {"run": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}
    path.write_text(json.dumps(known, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _script(*args: str, timeout: float = 300) -> str:
    """Run scripts/cluster.sh detached from pytest's session (Ctrl-C never reaches a broker); its stdout."""
    log = run_dir() / "logs" / "cluster-tests.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as err:
        done = subprocess.run(
            [str(SCRIPT), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=True,
            timeout=timeout,
        )
    return done.stdout.decode()


@dataclass
class Cluster:
    """Three KRaft nodes (broker + controller each); node n is broker id n."""

    bootstrap: str

    def pid(self, node: int) -> int | None:
        """The node's process id, if it runs (checked by its command line: a pid file can outlive its process and
        the pid be reused by another)."""
        try:
            pid = int((run_dir() / "cluster" / "pids" / f"node-{node}.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if f"/cluster/node-{node}/server.properties".encode() in cmdline else None

    def running(self) -> list[int]:
        return [n for n in NODES if self.pid(n) is not None]

    def up(self) -> None:
        """Start every node that is down (topics with replication factor 3) and wait until the cluster is whole."""
        _script("up")

    def down(self) -> None:
        _script("down")

    def delete_test_topics(self) -> list[str]:
        """Delete the topics earlier test runs left behind (a run that was interrupted does not clean up)."""
        client = admin_client(self.bootstrap, 60)
        try:
            stale = [t for t in client.list_topics() if TEST_TOPIC.match(t)]
            if stale:
                client.delete_topics(stale)
            return stale
        finally:
            client.close()

    def kill(self, node: int) -> None:
        """SIGKILL one node and wait until it is gone."""
        pid = self.pid(node)
        assert pid is not None, f"node {node} is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while self.pid(node) is not None:
            assert time.monotonic() < deadline, f"node {node} survived SIGKILL"
            time.sleep(0.05)

    def stop(self, node: int) -> None:
        """SIGTERM one node (a controlled shutdown: it hands its leaderships over) and wait until it has exited."""
        _script("stop", str(node), timeout=120)

    def start(self, node: int) -> None:
        _script("start", str(node), timeout=120)

    def wait_whole(self, timeout: float = 240, topics: list[str] | None = None) -> float:
        """Wait until all three brokers are live and every partition's ISR is full; the seconds it took."""
        return wait_healthy(self.bootstrap, len(NODES), timeout, topics)

    def partitions(self, topics: list[str]) -> list[Partition]:
        client = admin_client(self.bootstrap, 60)
        try:
            return partitions(client, topics)
        finally:
            client.close()

    def live(self) -> list[int]:
        client = admin_client(self.bootstrap, 60)
        try:
            return live_brokers(client)
        finally:
            client.close()

    def messages_per_partition(self, topics: list[str]) -> dict[tuple[str, int], int]:
        """End offsets (messages written, as the partitions hold no deletes) of every partition of `topics`."""
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, **kafka_security.client_kwargs()
        )
        try:
            parts = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
            return {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(parts).items()}
        finally:
            consumer.close()

    def busiest_leader(self, topics: list[str]) -> tuple[int, int, int]:
        """(broker, messages in the partitions it leads, partitions it leads) of the broker leading the most
        messages of `topics` right now."""
        messages = self.messages_per_partition(topics)
        led: dict[int, list[int]] = {}
        for p in self.partitions(topics):
            led.setdefault(p.leader, []).append(messages.get((p.topic, p.partition), 0))
        broker = max(led, key=lambda b: (sum(led[b]), len(led[b])))
        return broker, sum(led[broker]), len(led[broker])
