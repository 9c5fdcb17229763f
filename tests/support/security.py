"""The least-privilege identities of the processes the tests start (docs/security.md).

scripts/infra.sh makes the secrets, the Kafka principals and the PostgreSQL roles; the tests' own clients act as
the operator principal and the superuser (the environment scripts/lib.sh exports), while every service process
started by tests/support/system.py gets its own principal and role, as scripts/stack.sh gives them.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from shared import db_roles
from shared.config import with_database
from tests.support.infra import ROOT


def secrets_dir() -> Path:
    """Where scripts/lib.sh keeps the generated secrets."""
    return Path(os.environ.get("PORTAL_SECRETS_DIR", ROOT / ".run" / "secrets"))


def enabled() -> bool:
    """True against the local stack with TLS, SASL, ACLs and roles (scripts/infra.sh); False against a plain
    broker and server (e.g. testcontainers on a laptop), where every process keeps the tests' own identity."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    return protocol == "SASL_SSL" and (secrets_dir() / "pg-postgres").is_file()


def secret(name: str) -> str:
    """One generated secret's value."""
    return (secrets_dir() / name).read_text(encoding="utf-8").strip()


def identity(principal: str, role: str) -> dict[str, str]:
    """The environment of a process acting as Kafka `principal` and PostgreSQL `role` ({} when not enabled)."""
    if not enabled():
        return {}
    return {
        "KAFKA_SASL_USERNAME": principal,
        "KAFKA_SASL_PASSWORD_FILE": str(secrets_dir() / f"kafka-{principal}"),
        "DATABASE_USER": role,
        "DATABASE_PASSWORD_FILE": str(secrets_dir() / f"pg-{role}"),
    }


def publisher_env_and_args(principal: str) -> tuple[dict[str, str], list[str]]:
    """The publisher CLI's Kafka settings and arguments as a producing system: the protocol and CA from the
    environment, the principal and its password file as arguments (({}, []) when not enabled)."""
    if not enabled():
        return {}, []
    env = {name: os.environ[name] for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SSL_CAFILE") if name in os.environ}
    return env, ["--principal", principal, "--password-file", str(secrets_dir() / f"kafka-{principal}")]


def projector_identity(service: str) -> dict[str, str]:
    """A service's projector: its principal, the owner role of its database."""
    return identity(f"projector-{service}", db_roles.owner_role(service))


def api_identity(service: str) -> dict[str, str]:
    """A service's API (the read-only role), or the gateway (the owner of its database)."""
    if service == "gateway":
        return identity("portal", db_roles.owner_role("gateway"))
    return identity(f"api-{service}", db_roles.reader_role(service))


def app_service(app: str) -> str | None:
    """The service of an app target: `gateway.app:...` or `services.<name>.app:...` (None for others)."""
    if app.startswith("gateway."):
        return "gateway"
    if app.startswith("services."):
        return app.split(".")[1]
    return None


def app_identity(app: str) -> dict[str, str]:
    """The identity of an API's process, by its app target (others keep the tests')."""
    service = app_service(app)
    return api_identity(service) if service else {}


def hand_over(server_url: str, database_url: str, service: str) -> None:
    """Give a test database to the service's roles, as scripts/infra.sh does for `portal_<service>`."""
    if not enabled():
        return
    database = database_url.partition("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(server_url, autocommit=True) as conn:
        db_roles.secure_database(conn, with_database(server_url, database), database, service)
