"""Least-privilege set-up of the local stack (scripts/infra.sh runs it at every start; idempotent).

python -m shared.cli.secure postgres --socket-dir DIR --port PORT --secrets DIR contracts ledger ... gateway
    the superuser's TCP password, a role per service (shared/db_roles.py) with its password from
    `<secrets>/pg-<role>`, and `portal_<service>` databases owned by their roles
python -m shared.cli.secure kafka --secrets DIR
    every principal's SCRAM-SHA-512 credential (`<secrets>/kafka-<principal>`) and the ACLs of
    shared/kafka_security.py, as the operator (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD[_FILE])
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg
from psycopg import sql

from shared import config, db_roles, kafka_security
from shared.cli.admin import admin_client


def read_secret(secrets: Path, name: str) -> str:
    """One secret file's value (made by scripts/lib.sh)."""
    return (secrets / name).read_text(encoding="utf-8").strip()


def secure_postgres(socket_dir: str, port: int, secrets: Path, services: list[str]) -> None:
    """Roles, passwords and databases per service, through the superuser's Unix socket."""
    socket_dsn = f"postgresql:///postgres?host={socket_dir}&port={port}&user=postgres"
    with psycopg.connect(socket_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(read_secret(secrets, "pg-postgres")))
        )
        for service in services:
            for role in db_roles.roles_of(service):
                db_roles.ensure_role(conn, role, read_secret(secrets, f"pg-{role}"))
            database = f"portal_{service}"
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            db_roles.secure_database(
                conn, f"postgresql:///{database}?host={socket_dir}&port={port}&user=postgres", database, service
            )


def secure_kafka(bootstrap: str, secrets: Path) -> int:
    """Upsert every principal's SCRAM credential and create the ACLs; the number of ACLs."""
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    client = admin_client(bootstrap)
    try:
        upserts = [
            UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, read_secret(secrets, f"kafka-{name}"))
            for name in kafka_security.PRINCIPALS
            if name not in kafka_security.SUPER_USERS
        ]
        client.alter_user_scram_credentials(upserts)
        return kafka_security.grant(client)
    finally:
        client.close()


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m shared.cli.secure", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pg = sub.add_parser("postgres", help="roles and databases per service")
    pg.add_argument("--socket-dir", required=True)
    pg.add_argument("--port", type=int, required=True)
    pg.add_argument("--secrets", type=Path, required=True)
    pg.add_argument("services", nargs="+")
    kafka = sub.add_parser("kafka", help="SCRAM credentials and ACLs")
    kafka.add_argument("--secrets", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "postgres":
        secure_postgres(args.socket_dir, args.port, args.secrets, args.services)
        print(f"PostgreSQL roles and databases secured: {', '.join(args.services)}")
    else:
        count = secure_kafka(config.get("KAFKA_BOOTSTRAP_SERVERS"), args.secrets)
        print(f"Kafka principals and {count} ACLs in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
