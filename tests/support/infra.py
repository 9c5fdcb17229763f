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


KAFKA_IMAGE = "apache/kafka:4.1.1"  # the broker version of scripts/kafka/pom.xml and docker-compose.yml
POSTGRES_IMAGE = "postgres:16"
KAFKA_STARTED = r"Kafka Server started"

# The broker settings of scripts/kafka/server.properties, as the apache/kafka image takes them (KAFKA_<NAME>).
KAFKA_SETTINGS = {
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
    "KAFKA_LISTENERS": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
    "KAFKA_NUM_PARTITIONS": "3",
    "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "10",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
    "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    "KAFKA_MESSAGE_MAX_BYTES": "4194304",
    "KAFKA_REPLICA_FETCH_MAX_BYTES": "4194304",
}


def kafka_container(
    host_port: int, host: str | None = None, image: str = KAFKA_IMAGE, docker_client_kw: dict | None = None
):  # noqa: ANN201 - testcontainers is imported lazily
    """A single-node KRaft broker of the apache/kafka image, through testcontainers' generic container.

    Its client listener is published on `host_port` of the Docker host and advertised there (a broker
    tells its clients where to reconnect, so the port is chosen before the container starts).
    """
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    host = host or os.environ.get("TC_HOST", "127.0.0.1")
    container = DockerContainer(image, docker_client_kw=docker_client_kw)
    for key, value in {**KAFKA_SETTINGS, "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{host_port}"}.items():
        container.with_env(key, value)
    container.with_bind_ports(9092, host_port)
    container.waiting_for(LogMessageWaitStrategy(KAFKA_STARTED).with_startup_timeout(120))
    return container


def postgres_container(image: str = POSTGRES_IMAGE, docker_client_kw: dict | None = None):  # noqa: ANN201
    """PostgreSQL for the tests (user/password `portal`, maintenance database `postgres`)."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # before testcontainers 4.15 the modules were not under `community`
        from testcontainers.postgres import PostgresContainer

    return PostgresContainer(
        image, username="portal", password="portal", dbname="postgres", driver=None, docker_client_kw=docker_client_kw
    )


def from_testcontainers() -> tuple[str, str, list]:
    """Start Kafka and PostgreSQL containers; returns (bootstrap, database_url, containers)."""
    from tests.support.system import free_port

    port = free_port()
    kafka = kafka_container(port)
    postgres = postgres_container()
    kafka.start()
    postgres.start()
    return f"{kafka.get_container_host_ip()}:{port}", postgres.get_connection_url(), [kafka, postgres]


def from_local_stack() -> tuple[str, str]:
    """Start (or reuse) the project's own Kafka and PostgreSQL via scripts/infra.sh."""
    subprocess.run([str(ROOT / "scripts" / "infra.sh"), "up"], check=True, stdout=subprocess.DEVNULL)
    port_kafka = os.environ.get("PORTAL_KAFKA_PORT", "9092")
    port_pg = os.environ.get("PORTAL_PG_PORT", "54329")
    # the operator principal and the superuser, with the secrets scripts/lib.sh made (docs/security.md)
    secrets = Path(os.environ.get("PORTAL_SECRETS_DIR", ROOT / ".run" / "secrets"))
    os.environ.setdefault("PORTAL_SECRETS_DIR", str(secrets))
    os.environ.setdefault("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    os.environ.setdefault(
        "KAFKA_SSL_CAFILE", str(Path(os.environ.get("PORTAL_TLS_DIR", ROOT / ".run" / "tls")) / "ca.pem")
    )
    os.environ.setdefault("KAFKA_SASL_USERNAME", "operator")
    if not os.environ.get("KAFKA_SASL_PASSWORD"):
        os.environ.setdefault("KAFKA_SASL_PASSWORD_FILE", str(secrets / "kafka-operator"))
    password = (secrets / "pg-postgres").read_text(encoding="utf-8").strip()
    return f"127.0.0.1:{port_kafka}", f"postgresql://postgres:{password}@127.0.0.1:{port_pg}/postgres"


def resolve() -> tuple[str, str, list]:
    """Environment first, then Docker, then the local stack."""
    bootstrap, database_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    if bootstrap and database_url:
        return bootstrap, database_url, []
    if docker_available():
        return from_testcontainers()
    return (*from_local_stack(), [])
