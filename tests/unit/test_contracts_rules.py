"""Contract rules: customer details, contracts and items as of a date, anniversaries and fees."""

from __future__ import annotations

from datetime import date

import pytest

from services.contracts import rules

D = date.fromisoformat


def item(serial, kind="signed", effective_on="2024-01-10", arrival=1, quantity=1, **fields):
    """An item change row as the projection stores it."""
    base = {"product_code": "P1", "product_name": "Ledger", "license_type": "purchase"}
    return {
        **base,
        **fields,
        "serial_number": serial,
        "kind": kind,
        "quantity": quantity,
        "effective_on": D(effective_on),
        "arrival": arrival,
    }


def change(effective_on, arrival, **details):
    """A customer detail change row."""
    return {"effective_on": D(effective_on), "arrival": arrival, "details": details}


PRICE_LIST = {
    "valid_from": D("2025-01-01"),
    "arrival": 1,
    "vat_rate": 27,
    "products": [{"product_code": "P1", "annual_fee": 100_000, "additional_unit_fee": 20_000}],
}


# --- customer details -------------------------------------------------------------------------

DETAILS = [
    change("2024-01-10", 1, name="Alfa Kft.", city="Győr", postal_code="9021", street_address="Fő u. 1."),
    change("2024-06-01", 5, city="Pécs"),
    change("2024-06-01", 3, city="Szeged", email="a@alfa.hu"),
]


@pytest.mark.parametrize(
    ("as_of", "city", "email"),
    [
        ("2024-01-09", None, None),
        ("2024-01-10", "Győr", None),
        ("2024-05-31", "Győr", None),
        ("2024-06-01", "Pécs", "a@alfa.hu"),
    ],
)
def test_customer_details_as_of_apply_from_effective_on_and_later_arrival_wins(as_of, city, email):
    details = rules.customer_details_as_of(DETAILS, D(as_of))
    assert (details["city"], details["email"]) == (city, email)


def test_customer_details_keep_fields_a_change_does_not_give():
    details = rules.customer_details_as_of(DETAILS, D("2024-07-01"))
    assert details == {
        "name": "Alfa Kft.",
        "postal_code": "9021",
        "city": "Pécs",
        "street_address": "Fő u. 1.",
        "tax_number": None,
        "email": "a@alfa.hu",
    }


# --- contracts in force -----------------------------------------------------------------------

CONTRACTS = [
    {"contract_id": "K2", "signed_on": D("2024-03-01"), "starts_on": D("2024-04-01")},
    {"contract_id": "K1", "signed_on": D("2024-01-10"), "starts_on": D("2024-02-01")},
]
TERMINATIONS = [{"contract_id": "K1", "terminated_on": D("2024-09-30")}]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-01-09", []),
        ("2024-01-10", ["K1"]),
        ("2024-03-01", ["K1", "K2"]),
        ("2024-09-29", ["K1", "K2"]),
        ("2024-09-30", ["K2"]),
    ],
)
def test_contracts_in_force_from_signing_until_termination(as_of, expected):
    in_force = rules.contracts_in_force(CONTRACTS, TERMINATIONS, D(as_of))
    assert [c["contract_id"] for c in in_force] == expected


# --- items in force ---------------------------------------------------------------------------

ITEM_CHANGES = [
    item("S1", quantity=2),
    item("S2", license_type="rental"),
    item("S3", kind="added", effective_on="2024-05-01", arrival=7, product_code="P2"),
    item("S1", kind="quantity_changed", effective_on="2024-06-01", arrival=8, quantity=5),
    item("S2", kind="removed", effective_on="2024-07-01", arrival=9),
]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-01-09", []),
        ("2024-01-10", [("S1", 2), ("S2", 1)]),
        ("2024-04-30", [("S1", 2), ("S2", 1)]),
        ("2024-05-01", [("S1", 2), ("S2", 1), ("S3", 1)]),
        ("2024-06-01", [("S1", 5), ("S2", 1), ("S3", 1)]),
        ("2024-07-01", [("S1", 5), ("S3", 1)]),
    ],
)
def test_items_in_force_apply_each_change_from_effective_on(as_of, expected):
    items = rules.items_in_force(ITEM_CHANGES, D(as_of))
    assert [(i["serial_number"], i["quantity"]) for i in items] == expected


def test_items_in_force_carry_the_item_fields():
    assert rules.items_in_force(ITEM_CHANGES, D("2024-05-01"))[2] == {
        "serial_number": "S3",
        "product_code": "P2",
        "product_name": "Ledger",
        "quantity": 1,
        "license_type": "purchase",
    }


def test_items_same_day_later_arrival_wins():
    changes = [
        item("S1", kind="quantity_changed", effective_on="2024-02-01", arrival=9, quantity=3),
        item("S1", kind="quantity_changed", effective_on="2024-02-01", arrival=4, quantity=7),
        item("S1", arrival=2),
    ]
    assert rules.items_in_force(changes, D("2024-02-01"))[0]["quantity"] == 3


def test_item_removed_then_added_again_the_same_day():
    changes = [
        item("S1", arrival=1),
        item("S1", kind="removed", effective_on="2024-02-01", arrival=2),
        item("S1", kind="added", effective_on="2024-02-01", arrival=3, product_code="P9"),
    ]
    assert [i["product_code"] for i in rules.items_in_force(changes, D("2024-02-01"))] == ["P9"]


def test_item_events_that_arrived_before_the_signing_still_apply_on_the_signing_day():
    changes = [
        item("S1", kind="removed", effective_on="2024-01-10", arrival=1),
        item("S2", kind="quantity_changed", effective_on="2024-01-10", arrival=2, quantity=4),
        item("S1", arrival=3),
        item("S2", arrival=3),
    ]
    items = rules.items_in_force(changes, D("2024-01-10"))
    assert [(i["serial_number"], i["quantity"]) for i in items] == [("S2", 4)]


def test_quantity_change_of_an_unknown_item_adds_nothing():
    changes = [item("S9", kind="quantity_changed", effective_on="2024-02-01", quantity=3)]
    assert rules.items_in_force(changes, D("2024-03-01")) == []


# --- anniversary ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_on", "as_of", "expected"),
    [
        ("2020-04-15", "2025-01-01", "2025-04-15"),
        ("2020-04-15", "2025-04-15", "2025-04-15"),
        ("2020-04-15", "2025-04-16", "2026-04-15"),
        ("2020-01-01", "2025-12-31", "2026-01-01"),
        ("2024-02-29", "2025-01-01", "2025-02-28"),
        ("2024-02-29", "2025-02-28", "2025-02-28"),
        ("2024-02-29", "2025-03-01", "2026-02-28"),
        ("2024-02-29", "2027-03-01", "2028-02-29"),
        ("2024-02-29", "2028-02-29", "2028-02-29"),
        ("2024-02-29", "2028-02-28", "2028-02-29"),
        ("2023-02-28", "2024-02-28", "2024-02-28"),
        ("2023-02-28", "2024-02-29", "2025-02-28"),
    ],
)
def test_anniversary_date(starts_on, as_of, expected):
    assert rules.anniversary_date(D(starts_on), D(as_of)) == D(expected)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2025-04-16", "2026-04-16"),
        ("2027-03-01", "2028-03-01"),
        ("2028-02-29", "2029-02-28"),
        ("2027-12-31", "2028-12-31"),
    ],
)
def test_anniversary_horizon(as_of, expected):
    assert rules.anniversary_horizon(D(as_of)) == D(expected)


def test_no_anniversary_falls_after_the_horizon():
    """Every start day of a leap year against every day of four years: the expected fee's price lists
    (fetched up to the horizon) always hold the one in force on the anniversary."""
    starts = [date.fromordinal(D("2024-01-01").toordinal() + n) for n in range(366)]
    for n in range(4 * 365 + 1):
        as_of = date.fromordinal(D("2027-01-01").toordinal() + n)
        horizon = rules.anniversary_horizon(as_of)
        latest = max(rules.anniversary_date(starts_on, as_of) for starts_on in starts)
        assert as_of <= latest <= horizon, (as_of, latest, horizon)


# --- price list -------------------------------------------------------------------------------

PRICE_LISTS = [
    {"valid_from": D("2025-01-01"), "arrival": 1, "vat_rate": 27},
    {"valid_from": D("2026-01-01"), "arrival": 2, "vat_rate": 5},
    {"valid_from": D("2026-01-01"), "arrival": 3, "vat_rate": 18},
]


@pytest.mark.parametrize(
    ("day", "vat_rate"), [("2024-12-31", None), ("2025-01-01", 27), ("2025-12-31", 27), ("2026-01-01", 18)]
)
def test_price_list_in_force_is_the_latest_valid_from_on_or_before_the_day(day, vat_rate):
    price_list = rules.price_list_in_force(PRICE_LISTS, D(day))
    assert (price_list and price_list["vat_rate"]) == vat_rate


# --- fees -------------------------------------------------------------------------------------

PRODUCTS = {"P1": {"annual_fee": 100_000, "additional_unit_fee": 20_000}}


@pytest.mark.parametrize(("quantity", "fee"), [(1, 100_000), (2, 120_000), (5, 180_000)])
def test_purchase_fee_is_first_unit_plus_further_units(quantity, fee):
    line = rules.fee_line(item("S1", quantity=quantity), PRODUCTS)
    assert (line["annual_fee"], line["price_missing"]) == (fee, False)


def test_rental_fee_is_zero_even_without_a_price():
    line = rules.fee_line(item("S1", quantity=3, license_type="rental", product_code="NOPE"), PRODUCTS)
    assert (line["annual_fee"], line["price_missing"]) == (0, False)


def test_missing_product_has_no_fee_and_is_flagged():
    line = rules.fee_line(item("S1", product_code="P2"), PRODUCTS)
    assert line == {
        "serial_number": "S1",
        "product_code": "P2",
        "product_name": "Ledger",
        "quantity": 1,
        "license_type": "purchase",
        "annual_fee": None,
        "price_missing": True,
        "unit_fee": None,
        "additional_unit_fee": None,
    }


@pytest.mark.parametrize(
    ("net", "rate", "vat"),
    [
        (100_000, 27, 27_000),
        (50, 27, 14),  # 13.5 -> 14: exact half rounds up
        (150, 1, 2),  # 1.5 -> 2
        (149, 1, 1),  # 1.49 -> 1
        (151, 27, 41),  # 40.77 -> 41
        (1, 27, 0),  # 0.27 -> 0
        (2, 27, 1),  # 0.54 -> 1
        (0, 27, 0),
        (123_457, 5, 6_173),  # 6172.85 -> 6173
        (-50, 27, -14),  # symmetric: half away from zero
        (10**30 + 50, 1, 10**28 + 1),  # integers stay exact where floats would not
    ],
)
def test_vat_amount_rounds_half_up(net, rate, vat):
    assert rules.vat_amount(net, rate) == vat


def test_contract_fee_sums_priced_lines_and_adds_vat():
    contract = {"contract_id": "K1", "starts_on": D("2024-03-15")}
    items = [
        rules.items_in_force([item("S1", quantity=2)], D("2025-01-01"))[0],
        item("S2", product_code="P2"),
        item("S3", license_type="rental"),
    ]
    fee = rules.contract_fee(contract, items, [PRICE_LIST], D("2025-02-01"))
    assert [line["annual_fee"] for line in fee["lines"]] == [120_000, None, 0]
    assert {k: v for k, v in fee.items() if k != "lines"} == {
        "contract_id": "K1",
        "anniversary_date": D("2025-03-15"),
        "price_list_valid_from": D("2025-01-01"),
        "net_total": 120_000,
        "vat_rate": 27,
        "vat_amount": 32_400,
        "gross_total": 152_400,
    }


def test_contract_fee_uses_the_price_list_in_force_on_the_anniversary():
    contract = {"contract_id": "K1", "starts_on": D("2024-03-15")}
    later = {
        **PRICE_LIST,
        "valid_from": D("2025-03-15"),
        "arrival": 2,
        "vat_rate": 5,
        "products": [{"product_code": "P1", "annual_fee": 1_000, "additional_unit_fee": 0}],
    }
    fee = rules.contract_fee(contract, [item("S1")], [PRICE_LIST, later], D("2025-03-01"))
    assert (fee["price_list_valid_from"], fee["net_total"], fee["vat_amount"]) == (D("2025-03-15"), 1_000, 50)


def test_contract_fee_without_a_price_list_in_force():
    contract = {"contract_id": "K1", "starts_on": D("2024-03-15")}
    items = [item("S1"), item("S2", license_type="rental")]
    fee = rules.contract_fee(contract, items, [PRICE_LIST], D("2024-03-01"))
    assert [(line["annual_fee"], line["price_missing"]) for line in fee["lines"]] == [(None, True), (0, False)]
    assert (
        fee["anniversary_date"],
        fee["price_list_valid_from"],
        fee["net_total"],
        fee["vat_rate"],
        fee["vat_amount"],
        fee["gross_total"],
    ) == (D("2024-03-15"), None, 0, None, None, None)
