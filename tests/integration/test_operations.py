"""Operations against real Kafka and PostgreSQL: lag, metrics, request ids, dead letters, rebuild while serving.

The ledger service runs as real processes (API under its server + projector) with its own database and
consumer group, on this run's topics.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shared.events.publisher import Publisher
from tests.support import events, security
from tests.support.infra import ROOT
from tests.support.ops import (
    INTERNAL_TOKEN,
    Service,
    Traffic,
    balance,
    ledger_load,
    metrics,
    sample,
    snapshot,
    start_service,
)
from tests.support.procs import log_tail, rows, send_raw, spawn, stacks_of, wait_for

BALANCE_ENDPOINT = "/internal/v1/customers/<path:customer_code>/balance"


@pytest.fixture(scope="module")
def ledger(kafka_bootstrap, topic_prefix, make_database, tmp_path_factory) -> Iterator[Service]:
    """The ledger service (API + projector with a metrics port)."""
    service = start_service(
        "ledger", kafka_bootstrap, topic_prefix, make_database("ops_ledger"), tmp_path_factory.mktemp("ops-logs")
    )
    yield service
    service.system.shutdown()


@pytest.fixture(scope="module")
def publisher(kafka_bootstrap, topic_prefix) -> Iterator[Publisher]:
    p = Publisher(kafka_bootstrap, topic_prefix)
    yield p
    p.close()


def test_lag_counts_messages_and_seconds_since_the_oldest_unapplied_message_and_clears(ledger, publisher):
    ledger.wait_caught_up()
    time.sleep(3)  # the last applied message is now 3 s old; the lag must not count that time
    ledger.system.stop("ledger-projector")
    customer = events.customer_code()
    published_from = time.time()
    assert publisher.publish("payments", [events.payment(customer, 1000 * i) for i in (1, 2, 3)]).sent == 3
    published_to = time.time()
    time.sleep(1)  # the messages' age under test (at least 1 s), not a wait for an event
    asked = time.time()
    lag = wait_for(lambda: (r := ledger.ready()["lag"]) and r["payments"]["seconds"] is not None and r, timeout=10)
    answered = time.time()
    assert lag["payments"]["messages"] == 3
    assert asked - published_to - 0.1 <= lag["payments"]["seconds"] <= answered - published_from + 0.1
    assert lag["invoices"] == {"messages": 0, "seconds": 0.0}
    scraped = metrics(f"{ledger.url}/metrics")
    assert sample(scraped, "projection_lag_messages", topic="payments") == 3
    assert 1.0 <= sample(scraped, "projection_lag_seconds", topic="payments") <= time.time() - published_from + 0.1
    ledger.system.start_projector("ledger")
    report = ledger.wait_caught_up()
    assert report["lag"]["payments"] == {"messages": 0, "seconds": 0.0}
    assert balance(ledger, customer).json()["balance"] == -6000


def test_projector_and_api_metrics_count_applied_and_rejected_events_per_type(
    ledger, publisher, kafka_bootstrap, topic_prefix
):
    ledger.wait_caught_up()
    projector_before, api_before = metrics(ledger.projector_metrics), metrics(f"{ledger.url}/metrics")
    customer = events.customer_code()
    assert publisher.publish("payments", [events.refund(customer, 10), events.refund(customer, 20)]).sent == 2
    send_raw(
        kafka_bootstrap,
        f"{topic_prefix}payments",
        [(customer.encode(), json.dumps(events.refund(customer, -5)).encode())],
    )
    ledger.wait_caught_up()
    assert balance(ledger, customer).status_code == 200

    def grew(before: dict, after: dict, name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    def lags(m: dict) -> dict:
        return {labels: v for (name, labels), v in m.items() if name == "projector_lag_messages"}

    # A partition's gauge appears once the projector knows its end: from a fetch answer, or, for a partition
    # without news since it was assigned, from the broker when the idle projector asks (its stall look: the
    # projector's asked_ends).
    projector = wait_for(
        lambda: (
            (m := metrics(ledger.projector_metrics))
            and grew(projector_before, m, "projector_events_rejected_total", type="payment.refunded")
            and len(lags(m)) == 9  # ledger: 3 topics x 3 partitions
            and m
        )
    )
    assert grew(projector_before, projector, "projector_events_applied_total", type="payment.refunded") == 2
    assert grew(projector_before, projector, "projector_events_rejected_total", type="payment.refunded") == 1
    assert grew(projector_before, projector, "projector_batch_duration_seconds_count") >= 1
    assert set(lags(projector).values()) == {0.0}
    live = rows(ledger.database_url, "SELECT active_schema FROM public.read_model_pointer")[0]["active_schema"]
    assert sample(projector, "projector_read_model_schema", schema=live) == 1
    api = metrics(f"{ledger.url}/metrics")
    assert grew(api_before, api, "projection_events_applied_total", type="payment.refunded") == 2
    assert grew(api_before, api, "projection_events_rejected_total", type="payment.refunded") == 1
    assert grew(api_before, api, "http_requests_total", endpoint=BALANCE_ENDPOINT, method="GET", status="200") == 1
    assert grew(api_before, api, "http_request_duration_seconds_count", endpoint=BALANCE_ENDPOINT, method="GET") == 1
    assert sample(api, "service_ready") == 1


def test_the_request_id_reaches_the_service_log(ledger):
    request_id = f"ops-{uuid.uuid4().hex}"
    answer = requests.get(
        f"{ledger.url}/internal/v1/customers/C-none/balance",
        params={"as_of": "2030-01-01", "serial_number": "SN-1"},
        headers={"X-Internal-Token": INTERNAL_TOKEN, "X-Request-ID": request_id},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == request_id
    log = ledger.system.log_dir / "ledger-api.log"
    lines = wait_for(lambda: [json.loads(line) for line in log.read_text().splitlines() if request_id in line])
    assert [(x["request_id"], x["path"], x["status"]) for x in lines] == [
        (request_id, "/internal/v1/customers/C-none/balance", 200)
    ]


def deadletters(ledger: Service, *args: str) -> subprocess.CompletedProcess:
    """Run the dead-letter CLI for the ledger service."""
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.dead_letters", *args],
        cwd=ROOT,
        env=ledger.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def listed(ledger: Service, *args: str) -> list[dict]:
    result = deadletters(ledger, "list", "--service", "ledger", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_dead_letter_cli_lists_and_republishes_a_fixed_event_which_then_applies(
    ledger, kafka_bootstrap, topic_prefix, tmp_path
):
    customer = events.customer_code()
    broken = events.payment(customer, -700)
    send_raw(kafka_bootstrap, f"{topic_prefix}payments", [(customer.encode(), json.dumps(broken).encode())])
    ledger.wait_caught_up()
    row = next(r for r in listed(ledger) if r["event_id"] == broken["id"])
    assert (row["topic"], row["event_type"], row["republished_at"]) == ("payments", "payment.received", None)
    assert "data.amount: Must be greater than or equal to 1" in row["reason"]
    assert isinstance(row["partition"], int) and isinstance(row["offset"], int)
    assert broken["id"] not in {r["event_id"] for r in listed(ledger, "--since", "2999-01-01T00:00:00+00:00")}
    table = deadletters(ledger, "list", "--service", "ledger", "--pending").stdout
    assert f"payments:{row['partition']}@{row['offset']}" in table and broken["id"] in table

    original = deadletters(ledger, "republish", "--service", "ledger", "--id", str(row["id"]))
    assert original.returncode == 1 and "still invalid, not sent" in original.stderr
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({**broken, "data": {**broken["data"], "amount": 700}}, indent=2))
    sent = deadletters(ledger, "republish", "--service", "ledger", "--id", str(row["id"]), "--file", str(fixed))
    assert sent.returncode == 0, sent.stderr
    assert wait_for(lambda: balance(ledger, customer).json()["balance"] == -700)
    again = next(r for r in listed(ledger) if r["id"] == row["id"])
    assert again["republished_at"] is not None
    twice = deadletters(ledger, "republish", "--service", "ledger", "--id", str(row["id"]), "--file", str(fixed))
    assert twice.returncode == 1 and "was republished at" in twice.stderr


def test_a_projector_waits_while_the_read_model_belongs_to_another_projection_version(ledger, publisher):
    ledger.wait_caught_up()
    pointer = "UPDATE public.read_model_pointer SET version = %(v)s RETURNING version"
    assert rows(ledger.database_url, pointer, {"v": 2}) == [{"version": 2}]  # as a rebuild by newer code does
    assert wait_for(lambda: sample(metrics(ledger.projector_metrics), "projector_waiting") == 1)
    customer = events.customer_code()
    assert publisher.publish("payments", [events.payment(customer, 400)]).sent == 1
    time.sleep(2)  # a window in which nothing may be applied: a claim that something does NOT happen needs one
    assert ledger.ready()["lag"]["payments"]["messages"] == 1  # version 1 writes nothing into a version 2 model
    assert balance(ledger, customer).json()["balance"] == 0
    assert rows(ledger.database_url, pointer, {"v": 1}) == [{"version": 1}]
    assert wait_for(lambda: balance(ledger, customer).json()["balance"] == -400)
    assert sample(metrics(ledger.projector_metrics), "projector_waiting") == 0


def test_rebuild_while_serving_ends_equal_to_a_plain_rebuild_without_a_failed_query(
    ledger, publisher, make_database, kafka_bootstrap, topic_prefix
):
    customers = [events.customer_code() for _ in range(20)]
    for topic, batch in ledger_load(customers).items():
        assert publisher.publish(topic, batch).sent == len(batch)
    send_raw(kafka_bootstrap, f"{topic_prefix}invoices", [(customers[0].encode(), b"{not json")])
    ledger.wait_caught_up()
    expected = {c: balance(ledger, c).json()["balance"] for c in customers}
    assert expected[customers[0]] == 12_700 - 10_000
    old = rows(ledger.database_url, "SELECT active_schema FROM public.read_model_pointer")[0]["active_schema"]
    rows(
        ledger.database_url,
        f'UPDATE "{old}".rejected_events SET republished_at = now() '
        f'WHERE id = (SELECT max(id) FROM "{old}".rejected_events) RETURNING id',
    )
    marked = rows(
        ledger.database_url,
        f'SELECT topic, partition, "offset" FROM "{old}".rejected_events '
        "WHERE republished_at IS NOT NULL ORDER BY 1, 2, 3",
    )

    started = time.monotonic()
    with Traffic(ledger, publisher, customers) as traffic:
        result = ledger.run_projector("--rebuild-shadow", "--grace-seconds", "2")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    report = ledger.wait_caught_up()

    assert len(traffic.answers) >= 100 and len(traffic.late) >= 10
    assert [a for a in traffic.answers if a[1] != 200] == []
    assert [a for a in traffic.answers if a[2] != expected[a[0]]] == []  # never a half-built read model
    pointer = rows(ledger.database_url, "SELECT active_schema, previous_schema FROM public.read_model_pointer")[0]
    new = pointer["active_schema"]
    assert new.startswith("readmodel_") and pointer["previous_schema"] == old
    assert rows(ledger.database_url, "SELECT count(*) AS n FROM pg_namespace WHERE nspname = %(s)s", {"s": old}) == [
        {"n": 0}
    ]
    assert wait_for(lambda: sample(metrics(ledger.projector_metrics), "projector_read_model_schema", schema=new) == 1)
    assert all(balance(ledger, e["subject"]).json()["balance"] == -100 for e in traffic.late[-3:])
    assert (
        rows(
            ledger.database_url,
            f'SELECT topic, partition, "offset" FROM "{new}".rejected_events '
            "WHERE republished_at IS NOT NULL ORDER BY 1, 2, 3",
        )
        == marked
    )

    plain = make_database("ops_plain")
    env = {
        **ledger.env,
        "LEDGER_DATABASE_URL": plain,
        "CONSUMER_GROUP": f"ops-plain-{uuid.uuid4().hex[:6]}",
        "PROJECTOR_METRICS_PORT": "",
    }
    result = ledger.run_projector("--rebuild", "--until-caught-up", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert snapshot(ledger.database_url, new) == snapshot(plain, "readmodel")
    total = sum(r["next_offset"] for r in rows(plain, "SELECT next_offset FROM projector_offsets"))
    print(
        f"\nshadow rebuild of {total} messages while serving {len(traffic.answers)} queries: {seconds:.1f}s "
        f"(incl. 2 s grace); lag after: {report['lag']}"
    )


def test_prometheus_config_is_valid_and_the_alert_rules_fire_as_documented(tmp_path):
    assert shutil.which("promtool"), (
        "promtool is not installed: run `scripts/prereqs.sh test` (apt-get install prometheus)"
    )
    # A copy in which the gateway's token file (a compose secret at /run/secrets/internal_token) exists:
    # promtool checks that every referenced file is there.
    for source in (ROOT / "ops" / "prometheus").iterdir():
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "internal_token").write_text("token\n")
    config = tmp_path / "prometheus.yml"
    config.write_text(config.read_text().replace("/run/secrets/internal_token", str(tmp_path / "internal_token")))
    for command in (["check", "config", "prometheus.yml"], ["test", "rules", "alerts_test.yml"]):
        result = subprocess.run(["promtool", *command], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert (result.returncode, "SUCCESS" in result.stdout) == (0, True), result.stdout + result.stderr


def _plain_rebuild(ledger: Service, make_database, name: str, *extra: str) -> str:  # noqa: ANN001
    """The ledger's read model built from the topics into a new database (`--until-caught-up`); its URL."""
    return _rebuild(ledger, make_database, name, *extra)[0]


def _rebuild(ledger: Service, make_database, name: str, *extra: str) -> tuple[str, str]:  # noqa: ANN001
    """`--until-caught-up` (with `extra` arguments) into a new database of its own group: its URL and the log."""
    database = make_database(name)
    env = {
        **ledger.env,
        "LEDGER_DATABASE_URL": database,
        "CONSUMER_GROUP": f"ops-{name}-{uuid.uuid4().hex[:6]}",
        "PROJECTOR_METRICS_PORT": "",
    }
    result = ledger.run_projector("--until-caught-up", *extra, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return database, result.stderr


def _log_lines(stderr: str) -> list[dict]:
    """The JSON lines of a command's log (tracebacks and other plain lines left out)."""
    found = []
    for line in stderr.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return [line for line in found if isinstance(line, dict)]


def _members_started(stderr: str) -> set[int]:
    return {line["member"] for line in _log_lines(stderr) if line["msg"] == f"member {line.get('member')} of 3 started"}


def test_a_rebuild_by_three_members_ends_equal_to_a_rebuild_by_one(ledger, publisher, make_database):
    customers = [events.customer_code() for _ in range(30)]
    for topic, batch in ledger_load(customers).items():
        assert publisher.publish(topic, batch).sent == len(batch)
    ledger.wait_caught_up()
    one = _plain_rebuild(ledger, make_database, "members_one")
    database, stderr = _rebuild(ledger, make_database, "members_three", "--processes", "3")
    assert _members_started(stderr) == {1, 2, 3}
    three = snapshot(database, "readmodel")
    assert three == snapshot(one, "readmodel")
    assert sum(len(rows) for rows in three.values()) > 300
    # One group shares the messages: members of separate groups would each fetch all of them (three times in
    # all). A partition that moves in a rebalance may be fetched again from its stored offset, no more.
    messages = sum(row["next_offset"] for row in three["projector_offsets"])
    batches = [line for line in _log_lines(stderr) if line["msg"] == "batch applied"]
    fetched = sum(b["applied"] + b["skipped"] + b["unused"] + b["rejected"] for b in batches)
    assert messages <= fetched < 2 * messages


def test_a_shadow_rebuild_by_three_members_while_events_arrive_switches_to_a_read_model_equal_to_a_plain_one(
    ledger, publisher, make_database, tmp_path
):
    ledger.wait_caught_up()
    old = rows(ledger.database_url, "SELECT active_schema FROM public.read_model_pointer")[0]["active_schema"]
    customers = [events.customer_code() for _ in range(10)]
    for topic, batch in ledger_load(customers).items():
        assert publisher.publish(topic, batch).sent == len(batch)
    log = tmp_path / "rebuild.log"  # the command's log, to read when it fails
    command = ["-m", "services.ledger.projector", "--rebuild-shadow", "--processes", "3", "--grace-seconds", "0"]
    with Traffic(ledger, publisher, customers) as traffic:  # payments published all along
        proc = spawn(command, {**ledger.env, **security.projector_identity("ledger")}, log, new_session=True)
        try:
            returncode = proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            stacks = stacks_of(proc, log, group=True)
            os.killpg(proc.pid, signal.SIGKILL)  # the command and its members
            proc.wait()
            raise AssertionError(
                f"the rebuild did not end within 300 s; its log:\n{log_tail(log, 60)}\nits threads:\n{stacks}"
            ) from None
    stderr = log.read_text()
    assert returncode == 0, stderr[-3000:]
    assert len(traffic.late) >= 10 and [a for a in traffic.answers if a[1] != 200] == []
    assert "filling the shadow with 3 members" in stderr
    assert _members_started(stderr) == {1, 2, 3}
    new = rows(ledger.database_url, "SELECT active_schema FROM public.read_model_pointer")[0]["active_schema"]
    assert new != old
    assert rows(ledger.database_url, "SELECT count(*) AS n FROM pg_namespace WHERE nspname = %(s)s", {"s": old}) == [
        {"n": 0}
    ]
    ledger.wait_caught_up()
    assert snapshot(ledger.database_url, new) == snapshot(
        _plain_rebuild(ledger, make_database, "members_plain"), "readmodel"
    )


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (forked members inherit their parent's)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_a_shadow_rebuild_stopped_while_its_members_fill_it_drops_the_shadow_and_leaves_no_member(ledger, tmp_path):
    ledger.wait_caught_up()
    old = rows(ledger.database_url, "SELECT active_schema FROM public.read_model_pointer")[0]["active_schema"]
    marker = f"OPS_MEMBERS_MARK={uuid.uuid4().hex}"
    env = {
        **ledger.env,
        **security.projector_identity("ledger"),
        "PROJECTOR_HOLD_AT": "1",  # every member holds inside its first batch's transaction
        marker.split("=")[0]: marker.split("=")[1],
    }
    log = tmp_path / "rebuild.log"
    proc = spawn(["-m", "services.ledger.projector", "--rebuild-shadow", "--processes", "3"], env, log)
    try:
        wait_for(lambda: "holding before the commit" in log.read_text(), timeout=120)
        assert len(_processes_with(marker)) >= 2  # the command and its members
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            for pid in _processes_with(marker):  # members held in their transactions would stay for good
                os.kill(pid, signal.SIGKILL)
    text = log.read_text()
    assert "rebuild stopped before the switch" in text and "was dropped" in text
    assert "stopped while held before the commit" in text
    assert _processes_with(marker) == []
    pointer = rows(ledger.database_url, "SELECT active_schema FROM public.read_model_pointer")[0]
    assert pointer["active_schema"] == old
    assert rows(ledger.database_url, "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'readmodel%%'") == [
        {"n": 1}
    ]
    assert balance(ledger, events.customer_code()).status_code == 200  # the live read model still answers
