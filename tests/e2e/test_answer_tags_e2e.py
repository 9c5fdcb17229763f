"""Answers tagged by the read model's position: `ETag`, and `304` for `If-None-Match` (shared/web/validators.py).

Through the gateway, on the real services, PostgreSQL and Kafka: an answer's tag holds while nothing is projected
into its service, a `304` carries no body, and an event projected into the service gives every answer of that
service a new tag and the new data, while another service's tags hold.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from shared.timeutil import today_budapest
from tests.e2e.conftest import login
from tests.support import domain
from tests.support.events import customer_code

TODAY = today_budapest()
DAY = timedelta(days=1)
YEAR = (TODAY - 100 * DAY, TODAY + 265 * DAY)
TAG = re.compile(r'"[0-9a-f]{32}"')
QUERIES = (
    "balance",
    "support-calls",
    "quota",
    "contract-annex",
    "expected-fee",
    "invoices",
    "statements/settlement-sheet",
)


@pytest.fixture(scope="module")
def customer(publish):
    """A customer with a contract, an annual support fee invoice for this support year, a call and codes."""
    code = customer_code()
    publish(
        "contracts", [domain.contract_signed(code, TODAY - 100 * DAY, TODAY - 100 * DAY, [domain.item(f"{code}-1")])]
    )
    publish(
        "invoices",
        [domain.invoice(code, f"{code}-E1", YEAR[0], 190_500, "annual_support_fee", support_year=YEAR)],
    )
    publish("license-codes", [domain.codes(code, f"{code}-1", TODAY - 10 * DAY, TODAY + 300 * DAY)])
    publish(
        "support-calls",
        [
            domain.call_event(
                "opened",
                code,
                f"{code}-H1",
                "2026-01-10T09:00:00Z",
                category="help_request",
                channel="phone",
                subject="Zárás",
            )
        ],
    )
    return code


def get(gateway: str, auth: dict, query: str, tag: str | None = None, **params: str) -> requests.Response:
    headers = {**auth, **({"If-None-Match": tag} if tag else {})}
    return requests.get(f"{gateway}/api/v1/{query}", params=params, headers=headers, timeout=10)


def tagged(gateway: str, auth: dict, query: str, **params: str) -> requests.Response:
    answer = get(gateway, auth, query, **params)
    assert answer.status_code == 200, (query, answer.text)
    assert TAG.fullmatch(answer.headers.get("ETag", "")), (query, answer.headers)
    return answer


def test_an_unchanged_answer_is_confirmed_with_a_bodiless_304(gateway, customer):
    auth = login(gateway, customer, f"{customer}-1")
    for query in QUERIES:
        first = tagged(gateway, auth, query)
        tag = first.headers["ETag"]
        again = get(gateway, auth, query, tag)
        assert (again.status_code, again.content, again.headers.get("ETag")) == (304, b"", tag), query
        assert again.headers["Cache-Control"] == "no-store"
        weak = get(gateway, auth, query, f'W/{tag}, "0123"')  # If-None-Match compares weakly, in a list
        assert weak.status_code == 304, query
        star = get(gateway, auth, query, "*")  # any answer that exists
        assert (star.status_code, star.headers.get("ETag")) == (304, tag), query
        other = get(gateway, auth, query, '"0123456789abcdef0123456789abcdef"')
        assert (other.status_code, other.json(), other.headers["ETag"]) == (200, first.json(), tag), query


def test_other_arguments_or_another_customer_have_other_tags(gateway, publish, customer):
    auth = login(gateway, customer, f"{customer}-1")
    today = tagged(gateway, auth, "balance").headers["ETag"]
    earlier = tagged(gateway, auth, "balance", as_of=(TODAY - DAY).isoformat())
    assert earlier.headers["ETag"] != today
    assert get(gateway, auth, "balance", today, as_of=(TODAY - DAY).isoformat()).status_code == 200

    other = customer_code()
    publish(
        "contracts", [domain.contract_signed(other, TODAY - 100 * DAY, TODAY - 100 * DAY, [domain.item(f"{other}-1")])]
    )
    other_auth = login(gateway, other, f"{other}-1")
    annex = tagged(gateway, auth, "contract-annex").headers["ETag"]
    theirs = get(gateway, other_auth, "contract-annex", annex)
    assert theirs.status_code == 200 and theirs.json()["customer_code"] == other
    assert theirs.headers["ETag"] != annex


def test_a_projected_event_gives_its_services_answers_new_tags_and_leaves_the_others(gateway, publish, customer):
    auth = login(gateway, customer, f"{customer}-1")
    before = {query: tagged(gateway, auth, query) for query in ("balance", "invoices", "contract-annex")}

    publish("payments", [domain.paid(customer, 190_500, TODAY, reference=f"{customer}-E1")])  # the ledger's alone

    balance = get(gateway, auth, "balance", before["balance"].headers["ETag"])
    assert balance.status_code == 200
    assert (before["balance"].json()["balance"], balance.json()["balance"]) == (190_500, 0)
    assert TAG.fullmatch(balance.headers["ETag"]) and balance.headers["ETag"] != before["balance"].headers["ETag"]
    assert get(gateway, auth, "invoices", before["invoices"].headers["ETag"]).status_code == 200
    annex = get(gateway, auth, "contract-annex", before["contract-annex"].headers["ETag"])
    assert annex.status_code == 304  # the contracts' projector reads no payments: its position has not moved


def test_problem_answers_carry_no_tag(gateway, publish):
    code = customer_code()  # a contract, but no annual support fee invoice: no support year
    publish(
        "contracts", [domain.contract_signed(code, TODAY - 100 * DAY, TODAY - 100 * DAY, [domain.item(f"{code}-1")])]
    )
    auth = login(gateway, code, f"{code}-1")
    quota = get(gateway, auth, "quota")
    assert quota.status_code == 404 and "ETag" not in quota.headers
    assert get(gateway, auth, "quota", "*").status_code == 404  # no answer to confirm: the problem again
    bad = get(gateway, auth, "balance", "*", as_of="2026-13-01")
    assert bad.status_code == 400 and "ETag" not in bad.headers
