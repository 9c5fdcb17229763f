"""The demo data generator: reproducible, valid CloudEvents, and every awkward case really in the data."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher

from demo import demo_logins, generate, main

TODAY = date(2026, 11, 20)
CUSTOMERS, SEED = 12, 7
SOURCES = {"contracts": "contract-admin", "invoices": "billing", "payments": "bank"}
SOURCES |= {"support-calls": "helpdesk", "license-codes": "licensing"}
BUDAPEST = ZoneInfo("Europe/Budapest")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def topics() -> dict[str, list[dict]]:
    return generate(CUSTOMERS, SEED, TODAY)


@pytest.fixture(scope="module")
def logins() -> list[dict]:
    return demo_logins(CUSTOMERS, SEED, TODAY)


def day(iso: str) -> date:
    return date.fromisoformat(iso)


def datas(topics: dict, event_type: str, customer: str | None = None) -> list[dict]:
    topic = next(t for t, events in topics.items() if any(e["type"] == event_type for e in events))
    return [e["data"] for e in topics[topic] if e["type"] == event_type and customer in (None, e["subject"])]


def counted_invoices(topics: dict, customer: str, as_of: date) -> list[dict]:
    cancelled = {c["invoice_number"]: day(c["cancelled_on"]) for c in datas(topics, "invoice.cancelled", customer)}
    issued = [i for i in datas(topics, "invoice.issued", customer) if day(i["issued_on"]) <= as_of]
    return [i for i in issued if cancelled.get(i["invoice_number"], date.max) > as_of]


def net_paid(topics: dict, customer: str, as_of: date) -> int:
    paid = sum(p["amount"] for p in datas(topics, "payment.received", customer) if day(p["received_on"]) <= as_of)
    return paid - sum(
        r["amount"] for r in datas(topics, "payment.refunded", customer) if day(r["refunded_on"]) <= as_of
    )


def balance(topics: dict, customer: str, as_of: date) -> int:
    return sum(i["gross_amount"] for i in counted_invoices(topics, customer, as_of)) - net_paid(topics, customer, as_of)


def overdue(topics: dict, customer: str, as_of: date) -> int:
    credit, unpaid = net_paid(topics, customer, as_of), 0
    invoices = counted_invoices(topics, customer, as_of)
    for invoice in sorted(invoices, key=lambda i: (i["due_on"], i["issued_on"], i["invoice_number"])):
        paid = min(max(credit, 0), invoice["gross_amount"])
        credit -= paid
        unpaid += invoice["gross_amount"] - paid if day(invoice["due_on"]) < as_of else 0
    return unpaid


def serials_in_force(topics: dict, customer: str, as_of: date) -> set[str]:
    ended = {
        t["contract_id"] for t in datas(topics, "contract.terminated", customer) if day(t["terminated_on"]) <= as_of
    }
    signed = [c for c in datas(topics, "contract.signed", customer) if day(c["signed_on"]) <= as_of]
    live = {c["contract_id"] for c in signed if c["contract_id"] not in ended}
    serials = {i["serial_number"] for c in signed if c["contract_id"] in live for i in c["items"]}
    added = datas(topics, "contract.item_added", customer)
    serials |= {
        a["item"]["serial_number"] for a in added if a["contract_id"] in live and day(a["effective_on"]) <= as_of
    }
    removed = datas(topics, "contract.item_removed", customer)
    return serials - {r["serial_number"] for r in removed if day(r["effective_on"]) <= as_of}


def leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in leaves(value)]
    return [node]


def codes_on(topics: dict, customer: str, serial: str, as_of: date) -> list[dict]:
    codes = [c for c in datas(topics, "license.codes_issued", customer) if c["serial_number"] == serial]
    return [c for c in codes if day(c["valid_from"]) <= as_of <= day(c["valid_until"])]


def test_same_arguments_give_identical_events_and_logins(topics, logins):
    assert generate(CUSTOMERS, SEED, TODAY) == topics
    assert demo_logins(CUSTOMERS, SEED, TODAY) == logins


def test_another_seed_gives_other_data(topics):
    other = generate(CUSTOMERS, SEED + 1, TODAY)
    assert [e["id"] for e in other["invoices"]] != [e["id"] for e in topics["invoices"]]
    assert other["contracts"][5]["data"] != topics["contracts"][5]["data"]


def test_envelopes_follow_cloudevents_and_the_topic(topics):
    assert set(topics) == set(SOURCES)
    for topic, events in topics.items():
        for event in events:
            assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
            assert event["source"] == SOURCES[topic] and RFC3339_UTC.match(event["time"])
            uuid.UUID(event["id"])
            expected = "price-list" if event["type"] == "price_list.published" else event["data"]["customer_code"]
            assert event["subject"] == expected


def test_ids_are_unique(topics):
    ids = [e["id"] for events in topics.values() for e in events]
    assert len(ids) == len(set(ids))


def test_each_topic_is_in_time_order_and_nothing_happens_from_today_on(topics):
    for events in topics.values():
        times = [datetime.fromisoformat(e["time"]) for e in events]
        assert times == sorted(times) and times[-1].date() < TODAY


def test_every_event_type_and_invoice_kind_occurs(topics):
    types = {e["type"] for events in topics.values() for e in events}
    assert len(types) == 20
    assert {i["kind"] for i in datas(topics, "invoice.issued")} == {
        "annual_support_fee",
        "rental_fee",
        "quota_overrun",
        "other",
    }


def test_money_is_whole_forints_and_consistent(topics):
    for invoice in datas(topics, "invoice.issued"):
        net, vat, gross = invoice["net_amount"], invoice["vat_amount"], invoice["gross_amount"]
        assert all(type(amount) is int for amount in (net, vat, gross))
        assert gross == net + vat and vat == (net * 27 + 50) // 100
        assert (day(invoice["due_on"]) - day(invoice["issued_on"])).days in (8, 15)
    money = datas(topics, "payment.received") + datas(topics, "payment.refunded")
    assert all(type(m["amount"]) is int and m["amount"] > 0 for m in money)
    assert not any(isinstance(value, float) for value in leaves(topics))


def test_support_years_run_to_the_day_before_the_next_anniversary(topics):
    for invoice in datas(topics, "invoice.issued"):
        if invoice["kind"] in ("annual_support_fee", "quota_overrun"):
            begin, end = day(invoice["support_year"]["starts_on"]), day(invoice["support_year"]["ends_on"])
            assert 364 <= (end - begin).days <= 365
        if invoice["kind"] == "quota_overrun":
            assert invoice["overrun_minutes"] > 0


def test_c1001_contract_starts_on_29_february(topics):
    (contract,) = datas(topics, "contract.signed", "C1001")
    assert contract["starts_on"] == "2024-02-29"
    years = {
        (i["support_year"]["starts_on"], i["support_year"]["ends_on"])
        for i in datas(topics, "invoice.issued", "C1001")
        if i["kind"] == "annual_support_fee"
    }
    assert {("2024-02-29", "2025-02-27"), ("2025-02-28", "2026-02-27")} <= years
    assert datas(topics, "invoice.cancelled", "C1001")


def test_c1002_is_overpaid_and_c1003_in_arrears_with_an_overdue_amount(topics):
    invoiced = {c: sum(i["gross_amount"] for i in counted_invoices(topics, c, TODAY)) for c in ("C1002", "C1003")}
    assert net_paid(topics, "C1002", TODAY) > invoiced["C1002"] and balance(topics, "C1002", TODAY) < 0
    assert any("reference" not in p for p in datas(topics, "payment.received", "C1002"))
    assert net_paid(topics, "C1003", TODAY) < invoiced["C1003"] and overdue(topics, "C1003", TODAY) > 0


def test_c1004_is_settled_after_a_refund_and_its_rental_code_shows(topics, logins):
    assert balance(topics, "C1004", TODAY) == 0 and datas(topics, "payment.refunded", "C1004")
    (codes,) = codes_on(topics, "C1004", logins[3]["serial_number"], TODAY)
    assert codes["rental_code"] and codes["internet_code"]


def quota_minutes(topics: dict, begin: date, annual_fee: int) -> int:
    in_force = [p for p in datas(topics, "price_list.published") if day(p["valid_from"]) <= begin]
    tiers = max(in_force, key=lambda p: p["valid_from"])["quota_tiers"]
    return max(t["minutes"] for t in tiers if t["min_annual_fee"] <= annual_fee)


def chargeable_minutes(topics: dict, customer: str, first: date, last: date) -> int:
    logs = [w for w in datas(topics, "support_call.work_logged", customer) if w["chargeable"]]
    days = [(datetime.fromisoformat(w["performed_at"]).astimezone(BUDAPEST).date(), w["minutes"]) for w in logs]
    return sum(minutes for performed_on, minutes in days if first <= performed_on <= last)


def test_c1005_overran_its_quota_this_support_year_and_was_invoiced(topics):
    invoices = counted_invoices(topics, "C1005", TODAY)
    annual = [i for i in invoices if i["kind"] == "annual_support_fee"]
    (year,) = [
        i["support_year"]
        for i in annual
        if i["support_year"]["starts_on"] <= str(TODAY) <= i["support_year"]["ends_on"]
    ]
    overruns = [i for i in invoices if i["kind"] == "quota_overrun" and i["support_year"] == year]
    begin = day(year["starts_on"])
    quota = quota_minutes(topics, begin, sum(i["net_amount"] for i in annual if i["support_year"] == year))
    invoiced = sum(i["overrun_minutes"] for i in overruns)
    assert chargeable_minutes(topics, "C1005", begin, TODAY) - quota >= invoiced > 0


def test_c1006_has_a_password_whose_clear_text_is_in_the_logins(topics, logins):
    (password_set,) = datas(topics, "customer.portal_password_set", "C1006")
    assert password_set["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(password_set["password_hash"], logins[5]["password"])
    assert [login["customer_code"] for login in logins if login["password"]] == ["C1006"]


def test_c1007_opened_a_call_at_23_30_utc_on_the_next_budapest_day(topics):
    (call,) = [c for c in datas(topics, "support_call.opened", "C1007") if c["opened_at"].endswith("T23:30:00Z")]
    opened_at = datetime.fromisoformat(call["opened_at"])
    assert opened_at.astimezone(BUDAPEST).date() == opened_at.date() + timedelta(days=1)
    assert call["call_id"] not in {c["call_id"] for c in datas(topics, "support_call.closed")}


def test_c1008_has_a_terminated_contract_and_item_changes(topics, logins):
    (terminated,) = datas(topics, "contract.terminated")
    assert terminated["customer_code"] == "C1008" and day(terminated["terminated_on"]) < TODAY
    assert all(
        datas(topics, kind, "C1008")
        for kind in ("contract.item_added", "contract.item_removed", "contract.item_quantity_changed")
    )


def test_purchased_programs_get_no_rental_code(topics):
    licence = {i["serial_number"]: i["license_type"] for c in datas(topics, "contract.signed") for i in c["items"]}
    licence |= {a["item"]["serial_number"]: a["item"]["license_type"] for a in datas(topics, "contract.item_added")}
    for codes in datas(topics, "license.codes_issued"):
        assert (codes["rental_code"] is None) == (licence[codes["serial_number"]] == "purchase")


def test_several_calls_are_still_open(topics):
    closed = {c["call_id"] for c in datas(topics, "support_call.closed")}
    reopened = {c["call_id"] for c in datas(topics, "support_call.reopened")}
    assert len({c["call_id"] for c in datas(topics, "support_call.opened")} - closed) + len(reopened - closed) >= 2


@pytest.mark.parametrize("today", [TODAY, date(2025, 3, 10), date(2026, 1, 2), date(2028, 3, 1)])
def test_login_serials_are_in_force_with_codes_and_the_balances_hold(today):
    events = generate(8, SEED, today)
    for login in demo_logins(8, SEED, today):
        assert login["serial_number"] in serials_in_force(events, login["customer_code"], today)
        assert codes_on(events, login["customer_code"], login["serial_number"], today)
    assert balance(events, "C1002", today) < 0 < overdue(events, "C1003", today)
    assert balance(events, "C1004", today) == 0


def test_every_event_passes_the_schemas(topics):
    from shared.events import catalog as schemas

    for topic, events in topics.items():
        for raw in events:
            assert schemas.validate_event(raw, topic=topic, key=raw["subject"]).id == raw["id"]


def test_too_few_customers_for_the_fixed_cases_is_refused():
    with pytest.raises(ValueError, match="at least 8"):
        generate(7, SEED, TODAY)


def test_command_line_writes_topics_and_logins(tmp_path, capsys):
    main(["--customers", "9", "--seed", "3", "--today", "2026-11-20", "--out", str(tmp_path)])
    topics = generate(9, 3, TODAY)
    for topic, events in topics.items():
        lines = (tmp_path / f"{topic}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == events
    logins = json.loads((tmp_path / "logins.json").read_text(encoding="utf-8"))
    assert logins == demo_logins(9, 3, TODAY)
    assert logins[5]["password"] in capsys.readouterr().out
