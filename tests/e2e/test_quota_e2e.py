"""The minute quota statement through Kafka, the quota service and the gateway."""

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
YEAR = (TODAY - 100 * DAY, TODAY + 264 * DAY)


def at(days_ago: int) -> str:
    return f"{(TODAY - days_ago * DAY).isoformat()}T10:00:00Z"


@pytest.fixture(scope="module")
def customer(publish):
    """Work logged before its call's opening arrives, the invoice before the price list."""
    code = customer_code()
    c = domain.call_event
    publish(
        "contracts", [domain.contract_signed(code, TODAY - 500 * DAY, YEAR[0] - 365 * DAY, [domain.item(f"{code}-1")])]
    )
    publish(
        "support-calls",
        [
            c(
                "work_logged",
                code,
                f"{code}-H1",
                at(50),
                work_id=f"{code}-W1",
                staff="Kiss Anna",
                minutes=100,
                description="adatmentés",
                chargeable=True,
            ),
            c(
                "work_logged",
                code,
                f"{code}-H1",
                at(10),
                work_id=f"{code}-W2",
                staff="Kiss Anna",
                minutes=90,
                description="zárás",
                chargeable=True,
            ),
            c(
                "work_logged",
                code,
                f"{code}-H1",
                at(5),
                work_id=f"{code}-W3",
                staff="Kiss Anna",
                minutes=30,
                description="garanciális",
                chargeable=False,
            ),
            c(
                "work_logged",
                code,
                f"{code}-H1",
                at(120),
                work_id=f"{code}-W4",
                staff="Kiss Anna",
                minutes=40,
                description="előző év",
                chargeable=True,
            ),
        ],
    )
    publish(
        "invoices",
        [
            domain.invoice(code, f"{code}-E1", YEAR[0], 190_500, "annual_support_fee", support_year=YEAR),
            domain.invoice(
                code, f"{code}-T1", TODAY - DAY, 12_700, "quota_overrun", support_year=YEAR, overrun_minutes=10
            ),
        ],
    )
    publish(
        "support-calls",
        [c("opened", code, f"{code}-H1", at(130), category="help_request", channel="phone", subject="Év végi zárás")],
    )
    publish("contracts", [domain.price_list()])
    return code


def quota(gateway: str, auth: dict, **params: str) -> requests.Response:
    return requests.get(f"{gateway}/api/v1/quota", params=params, headers=auth, timeout=10)


def test_statement_with_overrun(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    body = quota(gateway, auth).json()
    assert body["support_year"] == {"starts_on": YEAR[0].isoformat(), "ends_on": YEAR[1].isoformat()}
    assert (body["annual_fee"], body["total_minutes"], body["used_minutes"]) == (150_000, 180, 190)
    assert (body["remaining_minutes"], body["overrun_minutes"]) == (0, 10)
    assert [(u["minutes"], u["running_total"], u["subject"]) for u in body["usage"]] == [
        (100, 100, "Év végi zárás"),
        (90, 190, "Év végi zárás"),
    ]
    assert [(i["invoice_number"], i["overrun_minutes"], i["net_amount"]) for i in body["overrun_invoices"]] == [
        (f"{customer}-T1", 10, 10_000)
    ]


def test_statement_at_an_earlier_settlement_date(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    body = quota(gateway, auth, settlement_date=(TODAY - 20 * DAY).isoformat()).json()
    assert (body["used_minutes"], body["remaining_minutes"], body["overrun_minutes"]) == (100, 80, 0)


def test_no_support_year_is_404(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    response = quota(gateway, auth, settlement_date=(YEAR[0] - DAY).isoformat())
    assert response.status_code == 404
    assert response.json()["title"] == "No support year"
