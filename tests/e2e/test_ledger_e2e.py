"""Balance and codes through Kafka, the ledger service and the gateway."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.events import customer_code

TODAY = today_budapest()
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def customer(publish):
    """A customer with a contract, two invoices, one payment and codes for two serials."""
    code = customer_code()
    publish(
        "contracts",
        [
            domain.contract_signed(
                code, TODAY - 200 * DAY, TODAY - 200 * DAY, [domain.item(f"{code}-1"), domain.item(f"{code}-2", "BER")]
            )
        ],
    )
    publish(
        "invoices",
        [
            domain.invoice(code, f"{code}-I1", TODAY - 60 * DAY, 127_000),
            domain.invoice(code, f"{code}-I2", TODAY - 20 * DAY, 63_500),
        ],
    )
    publish("payments", [domain.paid(code, 127_000, TODAY - 40 * DAY, reference=f"{code}-I1")])
    publish(
        "license-codes",
        [
            domain.codes(code, f"{code}-1", TODAY - 60 * DAY, TODAY + 300 * DAY),
            domain.codes(code, f"{code}-2", TODAY - 60 * DAY, TODAY + 300 * DAY, "RENT-2"),
        ],
    )
    return code


def balance(gateway: str, auth: dict, **params: str) -> dict:
    response = requests.get(f"{gateway}/api/v1/balance", params=params, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_codes_appear_and_disappear_as_payments_arrive(gateway, publish, customer):
    auth = login(gateway, customer, f"{customer}-1")
    owing = balance(gateway, auth)
    assert (owing["balance"], owing["status"], owing["overdue_amount"]) == (63_500, "arrears", 63_500)
    assert owing["codes"] is None
    assert owing["codes_withheld"] == {"reason": "outstanding_balance", "amount_due": 63_500}
    assert [(e["type"], e["debit"], e["credit"], e["running_balance"]) for e in owing["entries"]] == [
        ("invoice", 127_000, 0, 127_000),
        ("payment", 0, 127_000, 0),
        ("invoice", 63_500, 0, 63_500),
    ]

    payment = domain.paid(customer, 63_500, TODAY, reference=f"{customer}-I2")
    publish("payments", [payment])
    settled = balance(gateway, auth)
    assert (settled["balance"], settled["status"], settled["codes_withheld"]) == (0, "settled", None)
    assert settled["codes"]["serial_number"] == f"{customer}-1"
    assert settled["codes"]["internet_code"] == f"NET-{customer}-1"
    assert settled["codes"]["rental_code"] is None

    publish("payments", [payment])
    assert balance(gateway, auth)["balance"] == 0

    publish("invoices", [domain.cancellation(customer, f"{customer}-I2", TODAY)])
    overpaid = balance(gateway, auth)
    assert (overpaid["balance"], overpaid["status"]) == (-63_500, "overpaid")
    assert overpaid["entries"][-1]["running_balance"] == -63_500


def test_balance_as_of_a_past_date_and_another_serial(gateway, customer):
    auth = login(gateway, customer, f"{customer}-2")
    past = balance(gateway, auth, as_of=(TODAY - 30 * DAY).isoformat())
    assert (past["balance"], past["status"], past["as_of"]) == (0, "settled", (TODAY - 30 * DAY).isoformat())
    assert past["codes"]["serial_number"] == f"{customer}-2"
    assert past["codes"]["rental_code"] == "RENT-2"


def test_malformed_as_of_is_a_400_naming_the_field(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    response = requests.get(f"{gateway}/api/v1/balance", params={"as_of": "2026-13-01"}, headers=auth, timeout=10)
    assert response.status_code == 400
    assert "as_of" in response.json()["errors"]
