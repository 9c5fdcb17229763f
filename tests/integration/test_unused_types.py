"""A catalog type a projection does not use is skipped and counted, never retried or dead-lettered.

The real quota projection runs against the real broker and database: events of types it has no handler for
(assignments, status changes, closings, contract events) are interleaved with the ones it uses, on the same
partitions. It must reach the end of every partition, apply what it uses, and count the rest.
"""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
from psycopg.rows import dict_row

from services.quota.projection import PROJECTION
from shared.events.publisher import Publisher
from shared.projection.runner import Projector, ProjectorSettings
from tests.support import domain
from tests.support.events import customer_code

UNUSED = ("support_call.assigned", "support_call.status_changed", "support_call.closed", "contract.signed")


def test_quota_skips_types_it_does_not_use_and_does_not_stall(kafka_bootstrap, topic_prefix, make_database):
    code, call = customer_code(), f"H-{uuid.uuid4().hex[:6]}"
    c = domain.call_event
    calls = [
        c("opened", code, call, "2026-03-01T09:00:00Z", category="bug_report", channel="phone", subject="Nyomtatás"),
        c("assigned", code, call, "2026-03-01T09:05:00Z", assignee="Kiss Anna"),
        c(
            "work_logged",
            code,
            call,
            "2026-03-01T10:00:00Z",
            work_id=f"{call}-W1",
            staff="Kiss Anna",
            minutes=25,
            description="hibakeresés",
            chargeable=True,
        ),
        c("status_changed", code, call, "2026-03-01T10:05:00Z", status="waiting_for_customer"),
        c(
            "work_logged",
            code,
            call,
            "2026-03-02T10:00:00Z",
            work_id=f"{call}-W2",
            staff="Kiss Anna",
            minutes=15,
            description="javítás",
            chargeable=True,
        ),
        c("closed", code, call, "2026-03-02T11:00:00Z", resolution="Javítva"),
    ]
    contracts = [domain.contract_signed(code, date(2025, 1, 1), date(2025, 1, 1), [domain.item(f"{code}-1")])]
    publisher = Publisher(kafka_bootstrap, topic_prefix)
    try:
        assert publisher.publish("support-calls", calls).sent == len(calls)
        assert publisher.publish("contracts", contracts).sent == 1
    finally:
        publisher.close()

    dsn = make_database(f"unused_{uuid.uuid4().hex[:6]}")
    settings = ProjectorSettings(
        service="quota",
        database_url=dsn,
        bootstrap_servers=kafka_bootstrap,
        topics=list(PROJECTION.topics),
        ddl=PROJECTION.ddl,
        group_id=f"{topic_prefix}unused-{uuid.uuid4().hex[:6]}",
        topic_prefix=topic_prefix,
        poll_timeout_ms=100,
        stop_when_caught_up=True,
        publish_dead_letters=False,
    )
    projector = Projector(settings, PROJECTION)
    projector.run()  # returns only once every partition of the three topics is applied to its end

    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        conn.execute("SET search_path TO readmodel")
        work = conn.execute(
            "SELECT work_id, minutes FROM quota_work_log WHERE customer_code = %s ORDER BY work_id", (code,)
        ).fetchall()
        subject = conn.execute("SELECT subject FROM quota_support_call WHERE call_id = %s", (call,)).fetchone()
        rejected = conn.execute("SELECT count(*) AS n FROM rejected_events WHERE event_key = %s", (code,)).fetchone()
    assert work == [{"work_id": f"{call}-W1", "minutes": 25}, {"work_id": f"{call}-W2", "minutes": 15}]
    assert subject == {"subject": "Nyomtatás"}
    assert rejected == {"n": 0}
    sample = projector.metrics.registry.get_sample_value
    unused = {kind: sample("projector_events_unused_total", {"type": kind}) for kind in UNUSED}
    assert all(count is not None and count >= 1 for count in unused.values()), unused
    assert sample("projector_batch_failures_total") == 0
