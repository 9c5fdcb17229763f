"""Kafka and PostgreSQL set-up: topics (idempotent), databases per service, readiness waits.

python -m shared.cli.admin wait-kafka [--timeout 60]
python -m shared.cli.admin create-topics [--partitions 3] [--replication-factor 1]
python -m shared.cli.admin create-databases ledger tickets quota contracts gateway
"""

from __future__ import annotations

import argparse
import sys

import psycopg
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from psycopg import sql

from shared import config, kafka_security
from shared.events.topics import TOPICS, dead_letter, physical
from shared.projection.dead_letters import MAX_MESSAGE_BYTES
from shared.retry import Backoff, retry

TOPIC_CONFIG = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
DLQ_CONFIG = {**TOPIC_CONFIG, "max.message.bytes": str(MAX_MESSAGE_BYTES)}


def admin_client(bootstrap: str, timeout_s: float = 60.0) -> KafkaAdminClient:
    """An admin client, waiting until the broker answers."""

    def connect() -> KafkaAdminClient:
        client = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=5000,
            **kafka_security.client_kwargs(),
        )
        try:
            client.list_topics()
        except BaseException:
            client.close()  # its IO thread would otherwise retry (and draw random numbers) for the process's life
            raise
        return client

    try:
        return retry(
            connect, on=KafkaError, what="Kafka", backoff=Backoff(first_s=0.25, max_s=2.0, deadline_s=timeout_s)
        )
    except KafkaError as exc:
        raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s: {exc}") from exc


def create_topics(bootstrap: str, partitions: int, prefix: str = "", replication: int | None = None) -> list[str]:
    """Create the catalog topics and their dead-letter topics if absent, with the principals' ACLs on them when
    the broker authenticates (shared/kafka_security.py); returns those created.
    `replication`: copies of every partition (default TOPIC_REPLICATION_FACTOR: 1, a three-broker cluster 3)."""
    replicas = config.get("TOPIC_REPLICATION_FACTOR") if replication is None else replication
    client = admin_client(bootstrap)
    try:
        if kafka_security.client_kwargs():
            kafka_security.grant(client, prefix)
        existing = set(client.list_topics())
        wanted = [NewTopic(physical(t, prefix), partitions, replicas, topic_configs=TOPIC_CONFIG) for t in TOPICS]
        wanted += [
            NewTopic(physical(dead_letter(t), prefix), partitions, replicas, topic_configs=DLQ_CONFIG) for t in TOPICS
        ]
        missing = [t for t in wanted if t.name not in existing]
        for topic in missing:
            try:
                client.create_topics([topic])
            except TopicAlreadyExistsError:
                pass
        return [t.name for t in missing]
    finally:
        client.close()


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete the prefixed topics of one test run."""
    if not prefix:
        raise ValueError("refusing to delete unprefixed (production) topics")
    client = admin_client(bootstrap)
    try:
        names = [n for n in client.list_topics() if n.startswith(prefix)]
        if names:
            client.delete_topics(names)
        if kafka_security.client_kwargs():
            client.delete_acls(kafka_security.acls(prefix))
    finally:
        client.close()


def create_databases(server_url: str, names: list[str]) -> list[str]:
    """Create `portal_<name>` databases if absent; returns those created."""
    created = []
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            db = f"portal_{name}" if not name.startswith("portal_") else name
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
                created.append(db)
    return created


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="portal-admin",
        description="Kafka topics and PostgreSQL databases of the "
        "portal (KAFKA_BOOTSTRAP_SERVERS, TOPIC_PREFIX, DATABASE_URL from the environment)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser(
        "wait-kafka",
        help="wait until the Kafka broker answers",
        description="Wait until the Kafka broker at KAFKA_BOOTSTRAP_SERVERS answers.",
    )
    wait.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (default 60)")
    topics = sub.add_parser(
        "create-topics",
        help="create every catalog and dead-letter topic that is missing",
        description="Create every catalog topic and its .dlq topic that is missing "
        "(with TOPIC_PREFIX in front of the names).",
    )
    topics.add_argument(
        "--partitions",
        type=int,
        default=config.get("TOPIC_PARTITIONS"),
        help="partitions of a new topic (default TOPIC_PARTITIONS or 3)",
    )
    topics.add_argument(
        "--replication-factor",
        type=int,
        default=config.get("TOPIC_REPLICATION_FACTOR"),
        help="copies of every partition (default TOPIC_REPLICATION_FACTOR or 1; 3 on a three-broker cluster)",
    )
    dbs = sub.add_parser(
        "create-databases",
        help="create the named databases that are missing",
        description="Create the named databases on the server of DATABASE_URL, if missing.",
    )
    dbs.add_argument("names", nargs="+", help="database names, e.g. portal_ledger")
    args = parser.parse_args(argv)
    bootstrap = config.get("KAFKA_BOOTSTRAP_SERVERS")
    if args.command == "wait-kafka":
        admin_client(bootstrap, args.timeout).close()
        print(f"Kafka answers at {bootstrap}")
    elif args.command == "create-topics":
        created = create_topics(bootstrap, args.partitions, config.get("TOPIC_PREFIX"), args.replication_factor)
        print(f"topics created: {', '.join(created) or 'none (all present)'}")
    else:
        server = config.with_credentials(
            config.required("DATABASE_URL"), config.get("DATABASE_USER"), config.get("DATABASE_PASSWORD")
        )
        created = create_databases(server, args.names)
        print(f"databases created: {', '.join(created) or 'none (all present)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
