"""Contracts through Kafka, the contracts service and the gateway: login, annex, expected fee."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests
from argon2 import PasswordHasher

from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.events import customer_code, envelope

TODAY = today_budapest()


@pytest.fixture(scope="module")
def customers(publish):
    """Customer A (two items), B, and P with a portal password; one price list."""
    a, b, p = customer_code(), customer_code(), customer_code()
    starts = TODAY - timedelta(days=400)
    events = [
        domain.price_list(),
        domain.contract_signed(
            a,
            starts - timedelta(days=10),
            starts,
            [domain.item(f"{a}-1", "KONYV", 3), domain.item(f"{a}-2", "BER", 1, "rental")],
            name="Alfa Kft.",
        ),
        domain.contract_signed(b, starts, starts, [domain.item(f"{b}-1", "BER", 2)], name="Béta Bt."),
        domain.contract_signed(p, starts, starts, [domain.item(f"{p}-1")], name="Páva Zrt."),
        envelope(
            "customer.portal_password_set", p, {"customer_code": p, "password_hash": PasswordHasher().hash("titok-123")}
        ),
    ]
    publish("contracts", events)
    return {"a": a, "b": b, "p": p, "starts": starts}


def anniversary(starts: date, as_of: date) -> date:
    """Next date on/after as_of with starts' month and day (no 29 Feb in these tests)."""
    candidate = starts.replace(year=as_of.year)
    return candidate if candidate >= as_of else starts.replace(year=as_of.year + 1)


def test_login_then_annex_and_expected_fee(gateway, customers):
    a = customers["a"]
    response = requests.post(
        f"{gateway}/api/v1/sessions", json={"customer_code": a, "serial_number": f"{a}-1"}, timeout=10
    )
    assert response.status_code == 201
    session = response.json()
    assert (session["customer_code"], session["serial_number"], session["customer_name"]) == (a, f"{a}-1", "Alfa Kft.")
    auth = {"Authorization": f"Bearer {session['token']}"}
    annex = requests.get(f"{gateway}/api/v1/contract-annex", headers=auth, timeout=10).json()
    assert annex["customer"]["name"] == "Alfa Kft."
    assert annex["customer"]["city"] == "Szeged"
    items = sorted(annex["contracts"][0]["items"], key=lambda i: i["serial_number"])
    assert [(i["serial_number"], i["quantity"], i["license_type"]) for i in items] == [
        (f"{a}-1", 3, "purchase"),
        (f"{a}-2", 1, "rental"),
    ]
    fee = requests.get(f"{gateway}/api/v1/expected-fee", headers=auth, timeout=10).json()
    contract = fee["contracts"][0]
    assert contract["anniversary_date"] == anniversary(customers["starts"], TODAY).isoformat()
    assert contract["price_list_valid_from"] == domain.PRICE_LIST_FROM.isoformat()
    assert sorted(line["annual_fee"] for line in contract["lines"]) == [0, 180_000]
    assert (contract["net_total"], contract["vat_rate"], contract["vat_amount"], contract["gross_total"]) == (
        180_000,
        27,
        48_600,
        228_600,
    )


def test_annex_before_the_contract_is_404(gateway, customers):
    auth = login(gateway, customers["a"], f"{customers['a']}-1")
    before = (customers["starts"] - timedelta(days=30)).isoformat()
    response = requests.get(f"{gateway}/api/v1/contract-annex", params={"as_of": before}, headers=auth, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_password_customer_needs_the_password(gateway, customers):
    p = customers["p"]
    assert login(gateway, p, f"{p}-1", "titok-123")["Authorization"].startswith("Bearer ")
    for password in (None, "rossz"):
        body = {"customer_code": p, "serial_number": f"{p}-1", **({"password": password} if password else {})}
        assert requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=10).status_code == 401


def test_the_four_login_failures_are_indistinguishable(gateway, customers):
    p, b = customers["p"], customers["b"]
    attempts = [
        {"customer_code": customer_code(), "serial_number": "SN-X"},
        {"customer_code": b, "serial_number": f"{p}-1"},
        {"customer_code": p, "serial_number": f"{p}-1", "password": "wrong"},
        {"customer_code": p, "serial_number": f"{p}-1"},
    ]
    answers = [requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=10) for body in attempts]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert answers[0].json()["title"] == "Invalid credentials"


def test_sixth_failure_in_a_row_is_429(gateway, customers):
    target = customer_code()
    codes = [
        requests.post(f"{gateway}/api/v1/sessions", json={"customer_code": target, "serial_number": "S"}, timeout=10)
        for _ in range(6)
    ]
    assert [r.status_code for r in codes] == [401] * 5 + [429]
    assert int(codes[-1].headers["Retry-After"]) > 0


def test_customer_a_token_never_reads_customer_b(gateway, customers):
    a, b = customers["a"], customers["b"]
    auth = login(gateway, a, f"{a}-1")
    for path in ("contract-annex", "expected-fee"):
        body = requests.get(f"{gateway}/api/v1/{path}", params={"customer_code": b}, headers=auth, timeout=10).json()
        assert body["customer_code"] == a
    annex = requests.get(
        f"{gateway}/api/v1/contract-annex", params={"customer_code": b}, headers=auth, timeout=10
    ).json()
    assert annex["customer"]["name"] == "Alfa Kft."


def test_queries_without_a_token_are_401(gateway):
    for path in ("balance", "support-calls", "quota", "contract-annex", "expected-fee"):
        response = requests.get(f"{gateway}/api/v1/{path}", timeout=10)
        assert response.status_code == 401, path
