"""Least privilege against the real broker and database (docs/security.md): each principal and role may do what
its part needs, and each refusal is the broker's or the server's own, checked by its error.

Kafka: the topics of a prefix of their own (with the ACLs `create_topics` grants for it), so nothing here
reaches the running system's projectors. PostgreSQL: the running system's databases, given to their roles.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError, SaslAuthenticationFailedError, TopicAuthorizationFailedError

from shared import config, db_roles
from shared.cli.admin import create_topics, delete_topics
from shared.events.topics import physical
from tests.support import security
from tests.support.faults import run_dir
from tests.support.infra import ROOT
from tests.support.procs import wait_for
from tests.support.system import GUNICORN_CONF, free_port

pytestmark = pytest.mark.skipif(
    not security.enabled(), reason="needs the local stack's TLS, SASL and roles (scripts/infra.sh)"
)


def as_principal(name: str, password: str | None = None) -> dict:
    """kafka-python settings of one principal over TLS (its generated password unless given)."""
    return {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": config.get("KAFKA_SSL_CAFILE"),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": name,
        "sasl_plain_password": password if password is not None else security.secret(f"kafka-{name}"),
    }


@pytest.fixture(scope="module")
def prefix(kafka_bootstrap: str, topic_prefix: str) -> Iterator[str]:
    """Topics of this module only, with every principal's ACLs for them."""
    own = f"{topic_prefix}lp{uuid.uuid4().hex[:4]}."
    create_topics(kafka_bootstrap, partitions=1, prefix=own)
    yield own
    delete_topics(kafka_bootstrap, own)


def produce(bootstrap: str, topic: str, principal: str) -> None:
    """Send one message as `principal` and wait for the broker's answer."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_block_ms=30000, **as_principal(principal))
    try:
        producer.send(topic, key=b"C1", value=b'{"probe": true}').get(timeout=30)
    finally:
        producer.close()


def read_one(bootstrap: str, topic: str, principal: str, group: str | None = None) -> list:
    """Read `topic`'s partition 0 from the start as `principal` (raises what the broker answers)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **as_principal(principal),
    )
    try:
        consumer.assign([TopicPartition(topic, 0)])
        return wait_for(lambda: [r for batch in consumer.poll(timeout_ms=500).values() for r in batch], timeout=60)
    finally:
        consumer.close()


def test_a_producer_without_credentials_is_refused(kafka_bootstrap, prefix, caplog):
    # no TLS and no SASL: the TLS listener never answers a plaintext client
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        KafkaProducer(bootstrap_servers=kafka_bootstrap, max_block_ms=5000)
    # TLS with a wrong password: the broker refuses the SCRAM exchange. The broker's own log says so; the client
    # may see the refusal (error 58) or only the closed connection, depending on what it read first.
    caplog.set_level(logging.WARNING, logger="kafka")
    broker_log = run_dir() / "logs" / "kafka.log"
    refused_before = _refusals(broker_log)
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        KafkaProducer(bootstrap_servers=kafka_bootstrap, max_block_ms=5000, **as_principal("bank", "x" * 64))
    client_saw = [arg for r in caplog.records for arg in r.args or () if isinstance(arg, SaslAuthenticationFailedError)]
    if broker_log.exists():
        wait_for(lambda: _refusals(broker_log) > refused_before, timeout=30)
    else:  # a broker elsewhere (PORTAL_REMOTE_STACK): only the client's side can be seen
        assert client_saw and "invalid credentials" in str(client_saw[0])
    # and the right password works
    produce(kafka_bootstrap, physical("payments", prefix), "bank")


def _refusals(broker_log: Path) -> int:
    """SCRAM refusals the broker has logged so far."""
    if not broker_log.exists():
        return 0
    text = broker_log.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if "Failed authentication" in line and "invalid credentials" in line)


PRODUCERS = {
    "billing": "invoices",
    "bank": "payments",
    "helpdesk": "support-calls",
    "contract-admin": "contracts",
    "licensing": "license-codes",
}


@pytest.mark.parametrize(("principal", "topic"), PRODUCERS.items())
def test_each_producer_writes_only_its_topic(kafka_bootstrap, prefix, principal, topic):
    produce(kafka_bootstrap, physical(topic, prefix), principal)
    other = "payments" if topic != "payments" else "invoices"
    with pytest.raises(TopicAuthorizationFailedError):
        produce(kafka_bootstrap, physical(other, prefix), principal)


def test_the_portal_may_publish_its_events(kafka_bootstrap, prefix):
    produce(kafka_bootstrap, physical("support-calls", prefix), "portal")
    produce(kafka_bootstrap, physical("contracts", prefix), "portal")  # customer.portal_password_* events


def test_the_portal_may_not_publish_a_payment(kafka_bootstrap, prefix):
    for topic in ("payments", "invoices", "license-codes"):
        with pytest.raises(TopicAuthorizationFailedError):
            produce(kafka_bootstrap, physical(topic, prefix), "portal")


def test_the_portal_may_not_read_topics(kafka_bootstrap, prefix):
    with pytest.raises(TopicAuthorizationFailedError):
        read_one(kafka_bootstrap, physical("support-calls", prefix), "portal")


def test_the_tickets_projector_may_not_read_payments(kafka_bootstrap, prefix):
    produce(kafka_bootstrap, physical("payments", prefix), "bank")
    with pytest.raises(TopicAuthorizationFailedError):
        read_one(kafka_bootstrap, physical("payments", prefix), "projector-tickets", group=f"{prefix}tickets")
    # its own topic, in its own group, it reads; and it may not write there, only to the dead letters
    produce(kafka_bootstrap, physical("support-calls", prefix), "helpdesk")
    assert read_one(kafka_bootstrap, physical("support-calls", prefix), "projector-tickets", group=f"{prefix}tickets")
    produce(kafka_bootstrap, physical("support-calls.dlq", prefix), "projector-tickets")
    with pytest.raises(TopicAuthorizationFailedError):
        produce(kafka_bootstrap, physical("support-calls", prefix), "projector-tickets")


def connect_as(database_url: str, role: str, password: str | None = None) -> psycopg.Connection:
    """A TCP connection to `database_url`'s database as `role` with its generated password (unless given)."""
    password = password if password is not None else security.secret(f"pg-{role}")
    return psycopg.connect(config.with_credentials(database_url, role, password))


def test_the_quota_api_role_may_not_read_the_ledger_database(system):
    ledger, quota = system.env["LEDGER_DATABASE_URL"], system.env["QUOTA_DATABASE_URL"]
    for role in (db_roles.reader_role("quota"), db_roles.owner_role("quota"), db_roles.reader_role("tickets")):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            connect_as(ledger, role)
    # in its own database it reads, and nothing else
    wait_for(lambda: _has_pointer(quota))
    with connect_as(quota, db_roles.reader_role("quota")) as conn:
        assert conn.execute("SELECT count(*) FROM public.read_model_pointer").fetchone()[0] >= 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM public.read_model_pointer")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE SCHEMA intruder")


def test_compose_init_secures_a_service_as_the_superuser_named_by_the_environment(database_url, tmp_path):
    """docker-compose.yml's init: `secure postgres --from-env` makes the role and its database, as the superuser of
    DATABASE_URL / DATABASE_USER / DATABASE_PASSWORD, and leaves that superuser's own password alone."""
    service = f"lp{uuid.uuid4().hex[:6]}"  # a role and a database of this test only, dropped at the end
    role, database = db_roles.owner_role(service), f"portal_{service}"
    password = uuid.uuid4().hex
    (tmp_path / f"pg-{role}").write_text(password + "\n")
    env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_USER": "", "DATABASE_PASSWORD": ""}
    env.pop("DATABASE_PASSWORD_FILE", None)
    args = [sys.executable, "-m", "shared.cli.secure", "postgres", "--from-env", "--secrets", str(tmp_path), service]
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        own = config.with_database(database_url, database)
        with connect_as(own, role, password) as conn:
            conn.execute("CREATE TABLE mine (n integer)")  # it owns its database
            assert conn.execute("SELECT current_user").fetchone()[0] == role
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            connect_as(config.with_database(database_url, "portal_ledger"), role, password)
        with psycopg.connect(database_url) as conn:  # the superuser's password is what it was
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def _has_pointer(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT to_regclass('public.read_model_pointer') IS NOT NULL").fetchone()[0]


def test_the_api_role_reads_a_schema_its_owner_makes_later(system):
    """A rebuild makes a new schema as the owner: the API's role can read it at once, and only read it."""
    quota = system.env["QUOTA_DATABASE_URL"]
    schema = f"lp_rebuild_{uuid.uuid4().hex[:6]}"
    with connect_as(quota, db_roles.owner_role("quota")) as owner:
        owner.execute(f"CREATE SCHEMA {schema}")
        owner.execute(f"CREATE TABLE {schema}.t (n integer)")
        owner.execute(f"INSERT INTO {schema}.t VALUES (7)")
        owner.commit()
    try:
        with connect_as(quota, db_roles.reader_role("quota")) as reader:
            assert reader.execute(f"SELECT n FROM {schema}.t").fetchall() == [(7,)]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(f"UPDATE {schema}.t SET n = 8")
    finally:
        with connect_as(quota, db_roles.owner_role("quota")) as owner:
            owner.execute(f"DROP SCHEMA {schema} CASCADE")


def test_no_service_process_is_connected_as_the_superuser(system):
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        databases = [
            system.env[f"{s.upper()}_DATABASE_URL"].rsplit("/", 1)[1].split("?")[0]
            for s in ("contracts", "ledger", "tickets", "quota", "gateway")
        ]
        rows = conn.execute(
            "SELECT datname, usename, bool_or(r.rolsuper) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid "
            "WHERE datname = ANY(%s) GROUP BY datname, usename",
            (databases,),
        ).fetchall()
    assert rows, "no service connected"
    assert not [row for row in rows if row[2]], rows
    users = {row[1] for row in rows}
    assert {"portal_ledger", "portal_ledger_reader", "portal_gateway"} <= users, users


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_SECRET_KEY", "dev-gateway-secret-change-me-0123456789", "GATEWAY_SECRET_KEY is a known default"),
        ("INTERNAL_TOKEN", "change-me", "INTERNAL_TOKEN is a known default"),
        ("INTERNAL_TOKEN", "short-token", "INTERNAL_TOKEN is shorter than 16 bytes"),
    ],
)
def test_a_service_started_with_a_default_secret_refuses_to_start(system, variable, value, message):
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.run(
        [
            gunicorn,
            "-c",
            GUNICORN_CONF,
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{free_port()}",
            "gateway.app:create_app()",
        ],
        cwd=ROOT,
        env={**system.env, variable: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    errors = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if '"level": "error"' in line or "[ERROR]" in line or "Traceback" in line
    ]
    assert len(errors) == 1 and message in errors[0], errors
    # a projector ends with the same one line and exit status 4
    done = subprocess.run(
        [sys.executable, "-m", "services.ledger.projector"],
        cwd=ROOT,
        env={**system.env, "INTERNAL_TOKEN": "", "KAFKA_SASL_PASSWORD": "change-me", "KAFKA_SASL_PASSWORD_FILE": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == config.BAD_SETTINGS_EXIT
    assert done.stderr.strip().splitlines() == [
        "error: environment variable KAFKA_SASL_PASSWORD is a known default value; generate one (openssl rand -hex 32)"
    ]
