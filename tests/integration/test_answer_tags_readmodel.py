"""Answer tags at a service, on real PostgreSQL (shared/web/validators.py): the position is read before the data.

A projector's commit that lands after a request has read its data must leave the answer tagged with the position
before that commit: the next revalidation then sees a new position and gets the new answer. (Read after the data,
the position would tag the older answer as the newer position, and every later revalidation would confirm it.)
The commit is forced at that point: the ledger's balance query is wrapped so the commit runs after it has read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from services.ledger import queries
from services.ledger.projection import PROJECTION
from shared.projection import bookkeeping
from shared.readmodel import connections as db
from shared.web import validators
from tests.support.events import handed_over
from tests.support.readmodel import scratch_schema

DSN = os.environ["DATABASE_URL"]  # set by tests/conftest.py (real PostgreSQL)
SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services" / "ledger" / "schema.sql"
TOKEN = {"X-Internal-Token": "test-token"}
# kafka-python (imported by the app's health checks) calls importlib.resources.read_text/open_text,
# whose warning is attributed to importlib, not kafka, so the pyproject filter misses it.
KAFKA_IMPORT_WARNING = "ignore:.* is deprecated. Use files\\(\\) instead:DeprecationWarning"
pytestmark = pytest.mark.filterwarnings(KAFKA_IMPORT_WARNING)


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    with scratch_schema(SCHEMA_SQL) as connection:
        schema = connection.execute("SELECT current_schema() AS name").fetchone()["name"]
        db.ensure_schema(connection, bookkeeping.RUNTIME_DDL, schema)
        yield connection


@pytest.fixture(scope="module")
def client(conn) -> Iterator[Any]:
    from services.ledger.app import create_app  # here, so the KAFKA_IMPORT_WARNING mark covers the import

    schema = conn.execute("SELECT current_schema() AS name").fetchone()["name"]
    app = create_app({"DATABASE_URL": DSN, "INTERNAL_TOKEN": TOKEN["X-Internal-Token"], "READ_MODEL_SCHEMA": schema})
    yield app.test_client()
    app.extensions["db_pool"].close()


def commit(conn: psycopg.Connection, offset: int, type_: str, **data: object) -> None:
    """One event projected as the runner does: its rows and the partition's next offset in one transaction."""
    with conn.transaction(), conn.cursor() as cur:
        PROJECTION.apply_batch(cur, [handed_over(type_, data)])
        bookkeeping.save_offsets(cur, {("invoices", 0): (offset, None)})


def test_a_commit_after_the_data_was_read_is_not_confirmed_by_the_old_tag(conn, client, monkeypatch) -> None:
    customer = f"C-{uuid4().hex[:8]}"
    amounts = {"net_amount": 1000, "vat_amount": 270, "gross_amount": 1270, "currency": "HUF", "kind": "other"}
    invoice = {"customer_code": customer, "issued_on": date(2026, 5, 1), "due_on": date(2026, 5, 16), **amounts}
    commit(conn, 1, "invoice.issued", invoice_number=f"{customer}-1", description="first", **invoice)
    url = f"/internal/v1/customers/{customer}/balance?as_of=2026-06-30&serial_number=SN-1"
    balance = queries.balance

    def then_a_commit(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = balance(*args, **kwargs)
        commit(conn, 2, "invoice.issued", invoice_number=f"{customer}-2", description="second", **invoice)
        return answer

    monkeypatch.setattr(queries, "balance", then_a_commit)
    first = client.get(url, headers=TOKEN)
    monkeypatch.setattr(queries, "balance", balance)
    assert (first.status_code, first.json["balance"]) == (200, 1270)

    again = client.get(url, headers={**TOKEN, "If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.json["balance"]) == (200, 2540)
    assert again.headers["ETag"] != first.headers["ETag"]
    confirmed = client.get(url, headers={**TOKEN, "If-None-Match": again.headers["ETag"]})
    assert (confirmed.status_code, confirmed.data, confirmed.headers["ETag"]) == (304, b"", again.headers["ETag"])


def test_a_plain_rebuild_to_the_same_offsets_gives_new_tags(conn, client) -> None:
    """A plain rebuild drops the live schema and replays into a new one of the same name: at the same offsets its
    rows may differ (another projection's code), so no tag of the old schema may be confirmed."""
    customer = f"C-{uuid4().hex[:8]}"
    amounts = {"net_amount": 1000, "vat_amount": 270, "gross_amount": 1270, "currency": "HUF", "kind": "other"}
    invoice = {"customer_code": customer, "issued_on": date(2026, 5, 1), "due_on": date(2026, 5, 16), **amounts}
    url = f"/internal/v1/customers/{customer}/balance?as_of=2026-06-30&serial_number=SN-1"
    commit(conn, 7, "invoice.issued", invoice_number=f"{customer}-1", description="first", **invoice)
    before = client.get(url, headers=TOKEN)
    assert client.get(url, headers={**TOKEN, "If-None-Match": before.headers["ETag"]}).status_code == 304

    schema = conn.execute("SELECT current_schema() AS name").fetchone()["name"]
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    db.ensure_schema(conn, SCHEMA_SQL, schema)
    db.ensure_schema(conn, bookkeeping.RUNTIME_DDL, schema)
    commit(conn, 7, "invoice.issued", invoice_number=f"{customer}-1", description="first", **invoice)

    after = client.get(url, headers={**TOKEN, "If-None-Match": before.headers["ETag"]})
    assert (after.status_code, after.json) == (200, before.json)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_the_tag_is_the_position_path_and_query_under_the_code_and_settings() -> None:
    salt = validators.code_and_settings("ledger", {"VENDOR": {"iban": "HU1"}, "INTERNAL_TOKEN": "a"})
    tag = validators.answer_tag(salt, "readmodel", "invoices/0/2", "/p", b"a=1")
    assert len(tag) == 34 and tag.startswith('"') and tag.endswith('"')
    assert tag == validators.answer_tag(salt, "readmodel", "invoices/0/2", "/p", b"a=1")
    others = [
        validators.answer_tag(salt, "readmodel_20261202", "invoices/0/2", "/p", b"a=1"),  # a rebuild's schema
        validators.answer_tag(salt, "readmodel", "invoices/0/3", "/p", b"a=1"),
        validators.answer_tag(salt, "readmodel", "invoices/0/2", "/q", b"a=1"),
        validators.answer_tag(salt, "readmodel", "invoices/0/2", "/p", b"a=2"),
        validators.answer_tag(
            validators.code_and_settings("ledger", {"VENDOR": {"iban": "HU2"}}),
            "readmodel",
            "invoices/0/2",
            "/p",
            b"a=1",
        ),
    ]
    assert len({tag, *others}) == 6
    # secrets do not go into the digest: another token, the same tags
    assert salt == validators.code_and_settings("ledger", {"VENDOR": {"iban": "HU1"}, "INTERNAL_TOKEN": "b"})
