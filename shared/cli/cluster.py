"""The state of a replicated Kafka cluster: live brokers, partition leaders, under-replicated partitions.

python -m shared.cli.cluster status                       brokers, controller, under-replicated partitions
python -m shared.cli.cluster wait [--brokers 3] [--timeout 180]
    wait until that many brokers are registered (not fenced) and every partition's ISR holds all its replicas

Used by scripts/cluster.sh (the local three-broker cluster) and by its tests (tests/cluster); against a
production cluster `status` is what to look at before and after restarting a broker (a rolling restart goes to
the next broker only when `under-replicated` is 0 again).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from shared import config
from shared.cli.admin import admin_client


@dataclass(frozen=True)
class Partition:
    """One partition's leader (-1: none), replicas and in-sync replicas."""

    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


def live_brokers(client: KafkaAdminClient) -> list[int]:
    """Ids of the registered brokers that are not fenced."""
    return sorted(b["broker_id"] for b in client.describe_cluster()["brokers"] if not b.get("is_fenced", False))


def controller(client: KafkaAdminClient) -> int:
    """Id of the active controller as the brokers report it."""
    return int(client.describe_cluster()["controller_id"])


def partitions(client: KafkaAdminClient, topics: list[str] | None = None) -> list[Partition]:
    """Every partition of `topics` (None: every topic, internal ones included)."""
    found = []
    for topic in client.describe_topics(topics):
        for p in topic["partitions"]:
            found.append(
                Partition(
                    topic["name"],
                    p["partition_index"],
                    p["leader_id"],
                    tuple(p["replica_nodes"]),
                    tuple(p["isr_nodes"]),
                )
            )
    return sorted(found, key=lambda p: (p.topic, p.partition))


def healthy(client: KafkaAdminClient, brokers: int, topics: list[str] | None = None) -> str | None:
    """Why the cluster is not whole yet (None: `brokers` live brokers, every partition led and fully in sync)."""
    live = live_brokers(client)
    if len(live) < brokers:
        return f"{len(live)} of {brokers} brokers live ({live})"
    parts = partitions(client, topics)
    behind = [p for p in parts if p.under_replicated or p.leader < 0]
    if behind:
        return f"{len(behind)} of {len(parts)} partitions under-replicated or leaderless, e.g. {behind[0]}"
    return None


def wait_healthy(bootstrap: str, brokers: int, timeout_s: float, topics: list[str] | None = None) -> float:
    """Wait until the cluster is whole (see `healthy`); the seconds it took. Raises TimeoutError with the reason."""
    started = time.monotonic()
    client = admin_client(bootstrap, timeout_s)
    why: str | None = "not asked yet"
    try:
        while True:
            try:
                why = healthy(client, brokers, topics)
            except KafkaError as exc:  # a broker going or coming: ask again
                why = repr(exc)
            if why is None:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"the Kafka cluster at {bootstrap} is not whole after {timeout_s:.0f}s: {why}")
            time.sleep(0.25)
    finally:
        client.close()


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m shared.cli.cluster", description="State of the Kafka cluster at KAFKA_BOOTSTRAP_SERVERS."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="live brokers, the controller and the under-replicated partitions")
    wait = sub.add_parser("wait", help="wait until every broker is live and every partition fully in sync")
    wait.add_argument("--brokers", type=int, default=3, help="brokers that must be live (default 3)")
    wait.add_argument("--timeout", type=float, default=180.0, help="give up after this many seconds (default 180)")
    args = parser.parse_args(argv)
    bootstrap = config.get("KAFKA_BOOTSTRAP_SERVERS")
    if args.command == "wait":
        try:
            seconds = wait_healthy(bootstrap, args.brokers, args.timeout)
        except TimeoutError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"Kafka cluster whole at {bootstrap} ({args.brokers} brokers, every partition in sync) in {seconds:.1f}s")
        return 0
    client = admin_client(bootstrap, 30)
    try:
        parts = partitions(client)
        under = [p for p in parts if p.under_replicated]
        print(f"live brokers: {live_brokers(client)}; active controller: {controller(client)}")
        print(
            f"partitions: {len(parts)}; under-replicated: {len(under)}; leaderless: {sum(p.leader < 0 for p in parts)}"
        )
        for p in under[:20]:
            print(f"  {p.topic}-{p.partition}: leader {p.leader}, replicas {list(p.replicas)}, in sync {list(p.isr)}")
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
