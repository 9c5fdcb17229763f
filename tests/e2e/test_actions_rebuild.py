"""Portal actions are events like any other: a rebuild from the topics gives the same read models, and a
catalog type a service does not use (support_call.customer_replied) stalls neither quota nor ledger."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

import psycopg
import requests

from shared.readmodel import connections as db
from shared.readmodel import pointer
from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.actions import act, visible_call
from tests.support.events import customer_code
from tests.support.infra import ROOT

SIGNED = today_budapest() - timedelta(days=100)
# What each read model holds, in the order that matters; bigserial columns left out (a live projector's
# sequences have gaps from retried batches, a rebuild's have none).
TABLES = {
    "tickets": {
        "support_call": "SELECT * FROM support_call ORDER BY customer_code, call_id",
        "support_call_work": "SELECT * FROM support_call_work ORDER BY work_id",
        "support_call_history": "SELECT event_id, customer_code, call_id, kind, at, facts FROM support_call_history"
        " ORDER BY customer_code, call_id, at, applied",
    },
    "contracts": {
        "portal_password_changes": "SELECT customer_code, password_hash, changed_at FROM portal_password_changes"
        " ORDER BY customer_code, arrival",
        "contracts": "SELECT contract_id, customer_code, signed_on, starts_on FROM contracts ORDER BY contract_id",
        "customer_detail_changes": "SELECT customer_code, effective_on, details FROM customer_detail_changes"
        " ORDER BY customer_code, arrival",
    },
}


def snapshot(database_url: str, service: str) -> dict[str, list[dict]]:
    with db.connect(database_url, autocommit=True) as conn:
        pointer.use_active_schema(conn, db.READ_MODEL_SCHEMA)
        return {name: conn.execute(query).fetchall() for name, query in TABLES[service].items()}


def rebuilt(service: str, system, make_database) -> str:  # noqa: ANN001
    """A clean rebuild of the service's read model from the topics, in a new database (fresh consumer group)."""
    url = make_database(f"rebuild_{service}_{uuid.uuid4().hex[:6]}")
    env = {
        **system.env,
        f"{service.upper()}_DATABASE_URL": url,
        "CONSUMER_GROUP": f"rebuild-{uuid.uuid4().hex[:8]}",
        "PROJECTOR_METRICS_PORT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}.projector", "--until-caught-up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return url


def test_a_rebuild_of_tickets_and_contracts_gives_the_same_state(gateway, publish, system, make_database):
    code = customer_code()
    publish("contracts", [domain.contract_signed(code, SIGNED, SIGNED, [domain.item(f"{code}-1")])])
    auth = login(gateway, code, f"{code}-1")
    opened = act(gateway, "POST", "/support-calls", auth, {"category": "help_request", "subject": "Újraépítés"})
    call_id = opened.json()["call_id"]
    visible_call(gateway, auth, call_id)
    publish(
        "support-calls",
        [
            domain.call_event(
                "status_changed", code, call_id, "2030-01-01T10:00:00Z", status="waiting_for_customer", note="Kérdés"
            )
        ],
    )
    assert act(gateway, "POST", f"/support-calls/{call_id}/replies", auth, {"message": "Válasz"}).status_code == 202
    assert act(gateway, "PUT", "/portal-password", auth, {"new_password": "újraépített-1"}).status_code == 202
    system.wait_caught_up()
    for service in ("tickets", "contracts"):
        live = snapshot(system.env[f"{service.upper()}_DATABASE_URL"], service)
        assert snapshot(rebuilt(service, system, make_database), service) == live, service
    auth = login(gateway, code, f"{code}-1", "újraépített-1")  # the change ended the old session
    history = [h["kind"] for h in visible_call(gateway, auth, call_id)["history"]]
    assert history == ["opened", "customer_replied", "status_changed"]  # the reply (now) precedes 2030


def test_a_catalog_type_quota_and_ledger_do_not_use_stalls_neither(gateway, publish, system):
    code = customer_code()
    c = domain.call_event
    publish(
        "support-calls",
        [
            c("opened", code, f"{code}-R", "2026-03-01T08:00:00Z", category="other", channel="phone", subject="s"),
            c("customer_replied", code, f"{code}-R", "2026-03-01T09:00:00Z", message="a reply"),
            c(
                "work_logged",
                code,
                f"{code}-R",
                "2026-03-01T10:00:00Z",
                work_id=f"{code}-W",
                staff="Anna",
                minutes=5,
                description="after the reply",
                chargeable=True,
            ),
        ],
        wait=False,
    )
    system.wait_caught_up()  # every projection (quota's, ledger's) at lag 0: nothing stalled
    operator = {"X-Internal-Token": system.env["INTERNAL_TOKEN"]}  # the details of /health are for operators
    lags = requests.get(f"{gateway}/health", headers=operator, timeout=10).json()["services"]
    assert all(lag["messages"] == 0 for s in ("quota", "ledger") for lag in lags[s]["lag"].values()), lags
    with psycopg.connect(system.env["QUOTA_DATABASE_URL"]) as conn:
        pointer.use_active_schema(conn, db.READ_MODEL_SCHEMA)
        worked = conn.execute("SELECT minutes FROM quota_work_log WHERE work_id = %s", (f"{code}-W",)).fetchall()
        refused = conn.execute(
            "SELECT count(*) FROM rejected_events WHERE event_type = %s", ("support_call.customer_replied",)
        ).fetchone()
    assert worked == [(5,)] and refused == (0,)
