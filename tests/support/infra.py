"""Where the tests find real Kafka and PostgreSQL: the environment, testcontainers, or the local stack."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def docker_available() -> bool:
    """True when a Docker engine answers (a laptop, other CI); never on these machines."""
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def from_testcontainers() -> tuple[str, str, list]:
    """Start Kafka and PostgreSQL containers; returns (bootstrap, database_url, containers)."""
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    postgres = PostgresContainer("postgres:16", driver=None)
    kafka.start()
    postgres.start()
    return kafka.get_bootstrap_server(), postgres.get_connection_url(), [kafka, postgres]


def from_local_stack() -> tuple[str, str]:
    """Start (or reuse) the project's own Kafka and PostgreSQL via scripts/infra.sh."""
    subprocess.run([str(ROOT / "scripts" / "infra.sh"), "up"], check=True, stdout=subprocess.DEVNULL)
    port_kafka = os.environ.get("PORTAL_KAFKA_PORT", "9092")
    port_pg = os.environ.get("PORTAL_PG_PORT", "54329")
    return f"127.0.0.1:{port_kafka}", f"postgresql://postgres@127.0.0.1:{port_pg}/postgres"


def resolve() -> tuple[str, str, list]:
    """Environment first, then Docker, then the local stack."""
    bootstrap, database_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    if bootstrap and database_url:
        return bootstrap, database_url, []
    if docker_available():
        return from_testcontainers()
    return (*from_local_stack(), [])
