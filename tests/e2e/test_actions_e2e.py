"""Customer actions through the gateway, Kafka and the projections: one effect per key, 404/409, 400s, limit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests

from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.actions import act, call_detail, new_key, visible_call
from tests.support.events import customer_code

TODAY = today_budapest()
SIGNED = TODAY - timedelta(days=200)


def new_customer(publish, serials: int = 1) -> str:
    code = customer_code()
    items = [domain.item(f"{code}-{n}") for n in range(1, serials + 1)]
    publish("contracts", [domain.contract_signed(code, SIGNED, SIGNED, items)])
    return code


@pytest.fixture(scope="module")
def customer(publish):
    """A customer with one call waiting for them and one closed call."""
    code = new_customer(publish)
    c = domain.call_event
    publish(
        "support-calls",
        [
            c(
                "opened",
                code,
                f"{code}-W",
                "2026-03-01T08:00:00Z",
                category="bug_report",
                channel="phone",
                subject="Nem nyomtat",
            ),
            c(
                "status_changed",
                code,
                f"{code}-W",
                "2026-03-01T09:00:00Z",
                status="waiting_for_customer",
                note="Milyen nyomtatója van?",
            ),
            c(
                "opened",
                code,
                f"{code}-X",
                "2026-03-02T08:00:00Z",
                category="help_request",
                channel="email",
                subject="Zárás",
            ),
            c("closed", code, f"{code}-X", "2026-03-02T09:00:00Z", resolution="Megválaszolva"),
        ],
    )
    return code


@pytest.fixture(scope="module")
def auth(gateway, customer):
    return login(gateway, customer, f"{customer}-1")


NEW_CALL = {"category": "bug_report", "subject": "A bérletkód nem fogadja el", "description": "Hibaüzenet: 42"}


def test_a_new_call_is_published_and_becomes_visible_with_its_story(gateway, customer, auth):
    body = {**NEW_CALL, "serial_number": f"{customer}-1"}
    response = act(gateway, "POST", "/support-calls", auth, body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["call_id"].startswith("WEB-") and answer["event_id"]
    call = visible_call(gateway, auth, answer["call_id"])
    assert (call["channel"], call["status"], call["category"]) == ("portal", "registered", "bug_report")
    assert (call["subject"], call["description"], call["serial_number"]) == (
        NEW_CALL["subject"],
        NEW_CALL["description"],
        f"{customer}-1",
    )
    assert [entry["kind"] for entry in call["history"]] == ["opened"]


def test_the_same_key_twice_makes_one_call(gateway, system, customer, auth):
    key = new_key()
    body = {**NEW_CALL, "subject": f"Egyszer {key}"}
    first = act(gateway, "POST", "/support-calls", auth, body, key=key)
    second = act(gateway, "POST", "/support-calls", auth, body, key=key)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    system.wait_caught_up()
    listed = requests.get(f"{gateway}/api/v1/support-calls", params={"q": key}, headers=auth, timeout=10).json()
    assert [call["call_id"] for call in listed["calls"]] == [first.json()["call_id"]]


def test_the_same_key_concurrently_to_two_gateway_processes_makes_one_call(gateway, system, customer, auth):
    other = system.start_gateway("gateway-actions-2")
    key, body = new_key(), {**NEW_CALL, "subject": f"Kétszer {new_key()}"}
    answers: list[requests.Response] = []
    start = threading.Barrier(2)

    def send(base: str) -> None:
        start.wait()
        answers.append(act(base, "POST", "/support-calls", auth, body, key=key))

    threads = [threading.Thread(target=send, args=(base,)) for base in (gateway, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    system.stop("gateway-actions-2")
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    system.wait_caught_up()
    listed = requests.get(
        f"{gateway}/api/v1/support-calls", params={"q": body["subject"]}, headers=auth, timeout=10
    ).json()
    assert listed["total"] == 1
    call = visible_call(gateway, auth, answers[0].json()["call_id"])
    assert [entry["kind"] for entry in call["history"]] == ["opened"]


def test_a_reply_puts_a_waiting_call_in_progress(gateway, customer, auth):
    response = act(gateway, "POST", f"/support-calls/{customer}-W/replies", auth, {"message": "HP LaserJet 1020"})
    assert response.status_code == 202, response.text
    assert response.json()["call_id"] == f"{customer}-W"
    call = visible_call(gateway, auth, f"{customer}-W", until=lambda c: c["status"] == "in_progress")
    assert [e["kind"] for e in call["history"]] == ["opened", "status_changed", "customer_replied"]
    assert call["history"][1]["note"] == "Milyen nyomtatója van?"
    assert call["history"][2]["message"] == "HP LaserJet 1020"
    assert call["last_update_at"] == call["history"][2]["at"]


def test_a_reply_to_a_closed_call_is_409(gateway, customer, auth):
    response = act(gateway, "POST", f"/support-calls/{customer}-X/replies", auth, {"message": "Még egy kérdés"})
    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_another_customers_call_is_404_like_an_unknown_one(gateway, publish, customer, auth):
    stranger = new_customer(publish)
    foreign = login(gateway, stranger, f"{stranger}-1")
    theirs = call_detail(gateway, foreign, f"{customer}-W")
    unknown = call_detail(gateway, foreign, "NO-SUCH-CALL")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    replied = act(gateway, "POST", f"/support-calls/{customer}-W/replies", foreign, {"message": "betolakodó"})
    assert replied.status_code == 404
    assert (
        replied.json() == act(gateway, "POST", "/support-calls/NO-SUCH-CALL/replies", foreign, {"message": "x"}).json()
    )


@pytest.mark.parametrize(
    ("body", "key", "field"),
    [
        (NEW_CALL, "", "Idempotency-Key"),
        (NEW_CALL, "has space", "Idempotency-Key"),
        (NEW_CALL, "k" * 65, "Idempotency-Key"),
        ({**NEW_CALL, "category": "complaint"}, None, "category"),
        ({**NEW_CALL, "subject": ""}, None, "subject"),
        ({**NEW_CALL, "subject": "   "}, None, "subject"),
        ({**NEW_CALL, "subject": "x" * 201}, None, "subject"),
        ({**NEW_CALL, "description": "x" * 5001}, None, "description"),
        ({"subject": "no category"}, None, "category"),
        ({**NEW_CALL, "serial_number": "SN-NOT-MINE"}, None, "serial_number"),
    ],
)
def test_bad_new_calls_are_400_naming_the_field(gateway, auth, body, key, field):
    response = act(gateway, "POST", "/support-calls", auth, body, key=key)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"], response.json()


@pytest.mark.parametrize(
    ("body", "field"), [({"message": ""}, "message"), ({"message": "x" * 5001}, "message"), ({}, "message")]
)
def test_bad_replies_are_400_naming_the_field(gateway, customer, auth, body, field):
    response = act(gateway, "POST", f"/support-calls/{customer}-W/replies", auth, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_body_that_is_not_a_json_object_is_400(gateway, auth):
    response = act(gateway, "POST", "/support-calls", auth, ["not", "an", "object"])
    assert response.status_code == 400
    assert response.json()["errors"]
    raw = requests.post(
        f"{gateway}/api/v1/support-calls",
        data="{not json",
        timeout=10,
        headers={**auth, "Idempotency-Key": new_key(), "Content-Type": "application/json"},
    )
    assert raw.status_code == 400


def test_the_twenty_first_action_in_an_hour_is_429_but_a_retry_is_not_counted(gateway, publish):
    code = new_customer(publish)
    auth = login(gateway, code, f"{code}-1")
    keys = [new_key() for _ in range(20)]
    for n, key in enumerate(keys):
        response = act(gateway, "POST", "/support-calls", auth, {**NEW_CALL, "subject": f"#{n}"}, key=key)
        assert response.status_code == 202, (n, response.text)
    limited = act(gateway, "POST", "/support-calls", auth, NEW_CALL)
    assert limited.status_code == 429
    assert 3000 <= int(limited.headers["Retry-After"]) <= 3600
    again = act(gateway, "POST", "/support-calls", auth, {**NEW_CALL, "subject": "#0"}, key=keys[0])
    assert again.status_code == 202


def test_actions_need_a_token(gateway):
    response = requests.post(
        f"{gateway}/api/v1/support-calls", json=NEW_CALL, headers={"Idempotency-Key": new_key()}, timeout=10
    )
    assert response.status_code == 401
