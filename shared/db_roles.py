"""PostgreSQL roles per service: an owner role per database, a read-only role per service API.

- `portal_<service>` owns the database `portal_<service>` and everything in it; the projector (and the
  gateway, in its own database) connects as it. No other role but the superuser may connect there.
- `portal_<service>_reader` may connect to that database and SELECT, nothing else: the service's API. The
  read models are rebuilt into new schemas (shared/readmodel/), so the owner's default privileges give the
  reader USAGE on every schema and SELECT on every table the owner creates later.
- The superuser stays for the scripts (Unix socket) and the operators' CLIs; no service connects as it.

`secure_database` is idempotent and also upgrades a database made before the roles existed (its objects,
owned by the superuser, are handed to the owner role).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

SERVICES_WITH_READER = ("contracts", "ledger", "tickets", "quota")  # the gateway's process writes its tables


def owner_role(service: str) -> str:
    """The role owning a service's database (projector; the gateway)."""
    return f"portal_{service}"


def reader_role(service: str) -> str:
    """The read-only role of a service's API."""
    return f"portal_{service}_reader"


def roles_of(service: str) -> list[str]:
    """The roles of one service."""
    return [owner_role(service)] + ([reader_role(service)] if service in SERVICES_WITH_READER else [])


def ensure_role(conn: psycopg.Connection, role: str, password: str) -> None:
    """Create a login role (no other attribute) or reset its password."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)
        )
    )


def secure_database(server: psycopg.Connection, database_dsn: str, database: str, service: str) -> None:
    """Hand `database` to the service's owner role and let only it (and its reader) connect.

    `server` is a superuser connection (autocommit) to any database; `database_dsn` a superuser DSN of `database`.
    """
    owner, db = sql.Identifier(owner_role(service)), sql.Identifier(database)
    server.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, owner))
    server.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    if service in SERVICES_WITH_READER:
        server.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, sql.Identifier(reader_role(service))))
    with psycopg.connect(database_dsn, autocommit=True) as conn:
        _hand_over(conn, service)


def _hand_over(conn: psycopg.Connection, service: str) -> None:
    owner = owner_role(service)
    schemas = [
        r[0]
        for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
        ).fetchall()
    ]
    for schema in schemas:
        if schema != "public":
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), sql.Identifier(owner)))
    # tables, views and sequences made before the roles existed (by the superuser)
    for schema, name in conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT LIKE 'pg\\_%%' "
        "AND n.nspname <> 'information_schema' AND pg_get_userbyid(c.relowner) <> %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')",
        (owner,),
    ).fetchall():
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(
                sql.Identifier(schema), sql.Identifier(name), sql.Identifier(owner)
            )
        )
    if service not in SERVICES_WITH_READER:
        return
    reader = sql.Identifier(reader_role(service))
    for statement in (
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} GRANT USAGE ON SCHEMAS TO {reader}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} GRANT SELECT ON TABLES TO {reader}",
    ):
        conn.execute(sql.SQL(statement).format(owner=sql.Identifier(owner), reader=reader))
    for schema in schemas:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), reader))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), reader))
