"""The portal password through Kafka: set, change, remove; old password and old tokens refused once projected."""

from __future__ import annotations

from datetime import timedelta

import requests

from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.actions import act, wait_until
from tests.support.events import customer_code
from tests.support.records import read_records

SIGNED = today_budapest() - timedelta(days=100)


def new_customer(publish) -> str:
    code = customer_code()
    publish("contracts", [domain.contract_signed(code, SIGNED, SIGNED, [domain.item(f"{code}-1")])])
    return code


def try_login(gateway: str, code: str, password: str | None) -> requests.Response:
    body = {"customer_code": code, "serial_number": f"{code}-1"}
    if password is not None:
        body["password"] = password
    return requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=10)


def works(gateway: str, auth: dict[str, str]) -> int:
    return requests.get(f"{gateway}/api/v1/contract-annex", headers=auth, timeout=10).status_code


def test_set_change_and_remove_the_password(gateway, publish):
    code = new_customer(publish)
    old_token = login(gateway, code, f"{code}-1")
    first = act(gateway, "PUT", "/portal-password", old_token, {"new_password": "első-jelszó-123"})
    assert first.status_code == 202, first.text
    wait_until(lambda: try_login(gateway, code, "első-jelszó-123").status_code == 201)
    assert try_login(gateway, code, None).status_code == 401
    wait_until(lambda: works(gateway, old_token) == 401)
    refused = requests.get(f"{gateway}/api/v1/balance", headers=old_token, timeout=10)
    assert refused.status_code == 401 and "password" in refused.json()["detail"]

    second_token = login(gateway, code, f"{code}-1", "első-jelszó-123")
    assert works(gateway, second_token) == 200
    change = act(
        gateway,
        "PUT",
        "/portal-password",
        second_token,
        {"current_password": "első-jelszó-123", "new_password": "második-jelszó-456"},
    )
    assert change.status_code == 202, change.text
    wait_until(lambda: try_login(gateway, code, "második-jelszó-456").status_code == 201)
    assert try_login(gateway, code, "első-jelszó-123").status_code == 401
    wait_until(lambda: works(gateway, second_token) == 401)

    third_token = login(gateway, code, f"{code}-1", "második-jelszó-456")
    removed = act(gateway, "DELETE", "/portal-password", third_token, {"current_password": "második-jelszó-456"})
    assert removed.status_code == 202, removed.text
    wait_until(lambda: try_login(gateway, code, None).status_code == 201)
    wait_until(lambda: works(gateway, third_token) == 401)


def test_a_wrong_current_password_is_401_and_counts_toward_the_login_limit(gateway, publish):
    code = new_customer(publish)
    auth = login(gateway, code, f"{code}-1")
    assert act(gateway, "PUT", "/portal-password", auth, {"new_password": "helyes-jelszó-1"}).status_code == 202
    wait_until(lambda: try_login(gateway, code, "helyes-jelszó-1").status_code == 201)
    auth = login(gateway, code, f"{code}-1", "helyes-jelszó-1")
    for _ in range(5):  # LOGIN_FAILURES_PER_CODE
        wrong = act(
            gateway,
            "PUT",
            "/portal-password",
            auth,
            {"current_password": "rossz-jelszó", "new_password": "új-jelszó-12345"},
        )
        assert wrong.status_code == 401
        assert wrong.json()["errors"] == {"current_password": ["Does not match."]}
    assert works(gateway, auth) == 200  # a wrong current password does not end the session
    limited = try_login(gateway, code, "helyes-jelszó-1")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    removal = act(gateway, "DELETE", "/portal-password", auth, {"current_password": "helyes-jelszó-1"})
    assert removal.status_code == 429  # the limit guards the password check too


def test_bad_new_passwords_are_400_naming_the_field(gateway, publish):
    code = new_customer(publish)
    auth = login(gateway, code, f"{code}-1")
    for body in (
        {"new_password": "rövid"},
        {"new_password": "x" * 129},
        {"new_password": f"ab{code.lower()}xyz123"},
        {},
    ):
        response = act(gateway, "PUT", "/portal-password", auth, body)
        assert response.status_code == 400, (body, response.text)
        assert "new_password" in response.json()["errors"]
    assert act(gateway, "DELETE", "/portal-password", auth, {"current_password": "bármi"}).status_code == 409


def test_the_clear_password_is_never_published(gateway, publish, system, kafka_bootstrap, topic_prefix):
    code = new_customer(publish)
    auth = login(gateway, code, f"{code}-1")
    secret = "titkos-jelszó-987654"
    assert act(gateway, "PUT", "/portal-password", auth, {"new_password": secret}).status_code == 202
    values = [record.value for record in read_records(kafka_bootstrap, [f"{topic_prefix}contracts"])]
    mine = [v for v in values if code.encode() in v and b"portal_password_set" in v]
    assert len(mine) == 1
    assert secret.encode() not in mine[0] and b"$argon2id$" in mine[0] and b'"source": "portal"' in mine[0]
    logs = "".join(p.read_text(errors="replace") for p in system.log_dir.glob("*.log"))
    assert secret not in logs


def test_a_retried_password_change_gets_the_same_answer_after_it_was_projected(gateway, publish):
    """The first 202 may be lost on the way back: the retry with the same key is the same action, not a new
    check of the (by then changed) current password, and it is not a failed login."""
    code = new_customer(publish)
    auth = login(gateway, code, f"{code}-1")
    body = {"new_password": "egyszer-jelszó-789"}
    first = act(gateway, "PUT", "/portal-password", auth, body, key="jelszo-retry-1")
    assert first.status_code == 202, first.text
    wait_until(lambda: try_login(gateway, code, "egyszer-jelszó-789").status_code == 201)
    fresh = login(gateway, code, f"{code}-1", "egyszer-jelszó-789")
    for _ in range(6):  # more than LOGIN_FAILURES_PER_CODE: none of them may count as a failed login
        again = act(gateway, "PUT", "/portal-password", fresh, body, key="jelszo-retry-1")
        assert again.status_code == 202, again.text
        assert again.json()["event_id"] == first.json()["event_id"]
    assert try_login(gateway, code, "egyszer-jelszó-789").status_code == 201
    removal = act(
        gateway, "DELETE", "/portal-password", fresh, {"current_password": "egyszer-jelszó-789"}, key="jelszo-retry-2"
    )
    assert removal.status_code == 202, removal.text
    wait_until(lambda: try_login(gateway, code, None).status_code == 201)
    newest = login(gateway, code, f"{code}-1")  # sessions from before the removal are refused by now
    retried = act(
        gateway, "DELETE", "/portal-password", newest, {"current_password": "egyszer-jelszó-789"}, key="jelszo-retry-2"
    )
    assert (retried.status_code, retried.json()["event_id"]) == (202, removal.json()["event_id"])
