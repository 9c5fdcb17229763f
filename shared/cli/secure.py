"""Least-privilege set-up of the local stack (scripts/infra.sh runs it at every start; idempotent).

python -m shared.cli.secure postgres --socket-dir DIR --port PORT --secrets DIR contracts ledger ... gateway
    the superuser's TCP password, a role per service (shared/db_roles.py) with its password from
    `<secrets>/pg-<role>`, and `portal_<service>` databases owned by their roles
python -m shared.cli.secure postgres --from-env --secrets DIR contracts ledger ... gateway
    the same as the superuser named by the environment (docker-compose.yml's init), its password left alone
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


def secure_postgres(superuser_dsn: str, secrets: Path, services: list[str], superuser_password: bool) -> None:
    """Roles, passwords and databases per service, as the superuser.

    `superuser_password`: also set the superuser's own TCP password from `<secrets>/pg-postgres` (the local
    stack, whose superuser signs in through the Unix socket; in Docker the image sets it from its secret).
    """
    with psycopg.connect(superuser_dsn, autocommit=True) as conn:
        if superuser_password:
            conn.execute(
                sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(read_secret(secrets, "pg-postgres")))
            )
        for service in services:
            for role in db_roles.roles_of(service):
                db_roles.ensure_role(conn, role, read_secret(secrets, f"pg-{role}"))
            database = f"portal_{service}"
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            db_roles.secure_database(conn, config.with_database(superuser_dsn, database), database, service)


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
    server = pg.add_mutually_exclusive_group(required=True)
    server.add_argument("--socket-dir", help="the superuser `postgres` through this Unix socket folder (with --port)")
    server.add_argument(
        "--from-env", action="store_true", help="the superuser of DATABASE_URL, DATABASE_USER, DATABASE_PASSWORD[_FILE]"
    )
    pg.add_argument("--port", type=int, default=5432)
    pg.add_argument("--secrets", type=Path, required=True)
    pg.add_argument("services", nargs="+")
    kafka = sub.add_parser("kafka", help="SCRAM credentials and ACLs")
    kafka.add_argument("--secrets", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "postgres":
        if args.socket_dir:
            dsn = f"postgresql:///postgres?host={args.socket_dir}&port={args.port}&user=postgres"
        else:
            dsn = config.with_credentials(
                config.get("DATABASE_URL"), config.get("DATABASE_USER"), config.get("DATABASE_PASSWORD")
            )
        secure_postgres(dsn, args.secrets, args.services, superuser_password=bool(args.socket_dir))
        print(f"PostgreSQL roles and databases secured: {', '.join(args.services)}")
    else:
        count = secure_kafka(config.get("KAFKA_BOOTSTRAP_SERVERS"), args.secrets)
        print(f"Kafka principals and {count} ACLs in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
