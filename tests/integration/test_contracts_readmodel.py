"""Contracts read model against a real PostgreSQL: projection handlers, then queries."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from psycopg import sql

from services.contracts import queries
from services.contracts.projection import PROJECTION
from shared.readmodel.connections import connect, ensure_schema
from tests.support.events import handed_over

DSN = os.environ["DATABASE_URL"]  # set by tests/conftest.py (real PostgreSQL)
SCHEMA_SQL = Path(__file__).resolve().parents[2] / "services/contracts/schema.sql"
D = date.fromisoformat


@pytest.fixture(scope="module")
def conn():
    """A connection to a fresh schema holding the contracts read model, dropped afterwards."""
    schema = f"t_{uuid4().hex[:8]}"
    admin = connect(DSN, schema=schema)
    ensure_schema(admin, SCHEMA_SQL, schema=schema)
    ensure_schema(admin, SCHEMA_SQL, schema=schema)  # the DDL is idempotent
    try:
        yield admin
    finally:
        admin.rollback()
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        admin.commit()
        admin.close()


def apply(conn, event_type, subject="", **data):
    """Apply one event through its handler and commit, as the projector would."""
    event = handed_over(event_type, data, subject or None)
    with conn.cursor() as cur:
        PROJECTION.apply_batch(cur, [event])
    conn.commit()


def item(serial, product_code="LEDGER", quantity=1, license_type="purchase"):
    """An item as marshmallow loads it."""
    return {
        "serial_number": serial,
        "product_code": product_code,
        "product_name": f"{product_code.title()} program",
        "quantity": quantity,
        "license_type": license_type,
    }


def sign(conn, customer, contract_id, signed_on, starts_on, items, **customer_block):
    """Apply a contract.signed with a default customer block."""
    block = {"name": "Alfa Kft.", "postal_code": "9021", "city": "Győr", "street_address": "Fő u. 1.", **customer_block}
    apply(
        conn,
        "contract.signed",
        contract_id=contract_id,
        customer_code=customer,
        signed_on=D(signed_on),
        starts_on=D(starts_on),
        customer=block,
        items=items,
    )


def new_customer():
    """A customer code no other test uses."""
    return f"C-{uuid4().hex[:8]}"


NO_PRICE = {"unit_fee": None, "additional_unit_fee": None}


@pytest.fixture(scope="module")
def price_lists(conn):
    """Two price lists: from 2090 (VAT 27%) and from 2091 (VAT 5%, no PAYROLL)."""
    products = [
        {
            "product_code": "LEDGER",
            "product_name": "Ledger program",
            "annual_fee": 100_000,
            "additional_unit_fee": 25_000,
        },
        {
            "product_code": "PAYROLL",
            "product_name": "Payroll program",
            "annual_fee": 60_050,
            "additional_unit_fee": 10_000,
        },
    ]
    tiers = [{"min_annual_fee": 0, "minutes": 60}]
    apply(
        conn,
        "price_list.published",
        valid_from=D("2090-01-01"),
        currency="HUF",
        vat_rate=27,
        products=products,
        quota_tiers=tiers,
    )
    apply(
        conn,
        "price_list.published",
        valid_from=D("2091-01-01"),
        currency="HUF",
        vat_rate=5,
        products=products[:1],
        quota_tiers=tiers,
    )


def test_no_contract_signed_by_then_is_none(conn):
    customer = new_customer()
    sign(conn, customer, f"K-{customer}", "2090-03-01", "2090-03-01", [item("S1")])
    assert queries.contract_annex(conn, customer, D("2090-02-28")) is None
    assert queries.expected_fee(conn, customer, D("2090-02-28")) is None
    assert queries.contract_annex(conn, new_customer(), D("2090-03-01")) is None


def test_annex_follows_every_kind_of_change(conn):
    customer, k1, k2 = new_customer(), f"K1-{uuid4().hex[:6]}", f"K2-{uuid4().hex[:6]}"
    sign(conn, customer, k1, "2090-01-10", "2090-02-01", [item("S1", quantity=2)], email="a@alfa.hu")
    apply(
        conn,
        "contract.customer_details_changed",
        customer_code=customer,
        effective_on=D("2090-05-01"),
        city="Pécs",
        postal_code="7621",
    )
    apply(
        conn, "contract.customer_details_changed", customer_code=customer, effective_on=D("2090-05-01"), city="Szeged"
    )
    sign(conn, customer, k2, "2090-03-01", "2090-03-15", [item("S2", "PAYROLL", license_type="rental")])
    apply(
        conn,
        "contract.item_quantity_changed",
        contract_id=k1,
        customer_code=customer,
        effective_on=D("2090-06-01"),
        serial_number="S1",
        quantity=4,
    )
    apply(
        conn,
        "contract.item_added",
        contract_id=k1,
        customer_code=customer,
        effective_on=D("2090-06-01"),
        item=item("S3", "PAYROLL"),
    )
    apply(
        conn,
        "contract.item_removed",
        contract_id=k2,
        customer_code=customer,
        effective_on=D("2090-07-01"),
        serial_number="S2",
    )
    apply(conn, "contract.terminated", contract_id=k2, customer_code=customer, terminated_on=D("2090-08-01"))

    def annex(as_of):
        answer = queries.contract_annex(conn, customer, D(as_of))
        contracts = [
            (c["contract_id"], [(i["serial_number"], i["quantity"]) for i in c["items"]]) for c in answer["contracts"]
        ]
        return answer["customer"]["city"], answer["customer"]["postal_code"], contracts

    assert annex("2090-01-10") == ("Győr", "9021", [(k1, [("S1", 2)])])
    assert annex("2090-03-01") == ("Győr", "9021", [(k1, [("S1", 2)]), (k2, [("S2", 1)])])
    assert annex("2090-05-01") == ("Szeged", "7621", [(k1, [("S1", 2)]), (k2, [("S2", 1)])])
    assert annex("2090-06-01") == ("Szeged", "7621", [(k1, [("S1", 4), ("S3", 1)]), (k2, [("S2", 1)])])
    assert annex("2090-07-01") == ("Szeged", "7621", [(k1, [("S1", 4), ("S3", 1)]), (k2, [])])
    assert annex("2090-08-01") == ("Szeged", "7621", [(k1, [("S1", 4), ("S3", 1)])])


def test_annex_has_the_public_shape_with_iso_dates(conn):
    customer, contract = new_customer(), f"K-{uuid4().hex[:6]}"
    sign(conn, customer, contract, "2090-01-10", "2090-02-01", [item("S1")], tax_number="12345678-2-08")
    assert queries.contract_annex(conn, customer, D("2090-01-10")) == {
        "customer_code": customer,
        "as_of": "2090-01-10",
        "customer": {
            "customer_code": customer,
            "name": "Alfa Kft.",
            "postal_code": "9021",
            "city": "Győr",
            "street_address": "Fő u. 1.",
            "tax_number": "12345678-2-08",
            "email": None,
        },
        "contracts": [
            {
                "contract_id": contract,
                "signed_on": "2090-01-10",
                "starts_on": "2090-02-01",
                "items": [
                    {
                        "serial_number": "S1",
                        "product_code": "LEDGER",
                        "product_name": "Ledger program",
                        "quantity": 1,
                        "license_type": "purchase",
                    }
                ],
            }
        ],
        "discrepancy_note": queries.DISCREPANCY_NOTE,
    }


def test_out_of_order_arrival_loses_no_fact(conn):
    customer, contract = new_customer(), f"K-{uuid4().hex[:6]}"
    apply(
        conn,
        "contract.item_added",
        contract_id=contract,
        customer_code=customer,
        effective_on=D("2090-04-01"),
        item=item("S2", "PAYROLL"),
    )
    apply(
        conn,
        "contract.item_quantity_changed",
        contract_id=contract,
        customer_code=customer,
        effective_on=D("2090-01-10"),
        serial_number="S1",
        quantity=3,
    )
    apply(conn, "contract.terminated", contract_id=contract, customer_code=customer, terminated_on=D("2090-12-31"))
    assert queries.contract_annex(conn, customer, D("2090-06-01")) is None
    sign(conn, customer, contract, "2090-01-10", "2090-02-01", [item("S1")])
    items = queries.contract_annex(conn, customer, D("2090-06-01"))["contracts"][0]["items"]
    assert [(i["serial_number"], i["quantity"]) for i in items] == [("S1", 3), ("S2", 1)]
    assert queries.contract_annex(conn, customer, D("2090-12-31"))["contracts"] == []


@pytest.mark.usefixtures("price_lists")
def test_expected_fee(conn):
    customer, contract = new_customer(), f"K-{uuid4().hex[:6]}"
    sign(
        conn,
        customer,
        contract,
        "2090-01-10",
        "2088-02-29",
        [item("S1", quantity=3), item("S2", "PAYROLL"), item("S3", "PAYROLL", 2, "rental")],
    )
    assert queries.expected_fee(conn, customer, D("2090-03-01")) == {
        "customer_code": customer,
        "as_of": "2090-03-01",
        "contracts": [
            {
                "contract_id": contract,
                "anniversary_date": "2091-02-28",
                "price_list_valid_from": "2091-01-01",
                "lines": [
                    {
                        **item("S1", quantity=3),
                        "annual_fee": 150_000,
                        "price_missing": False,
                        "unit_fee": 100_000,
                        "additional_unit_fee": 25_000,
                    },
                    {**item("S2", "PAYROLL"), "annual_fee": None, "price_missing": True, **NO_PRICE},
                    {**item("S3", "PAYROLL", 2, "rental"), "annual_fee": 0, "price_missing": False, **NO_PRICE},
                ],
                "net_total": 150_000,
                "vat_rate": 5,
                "vat_amount": 7_500,
                "gross_total": 157_500,
            }
        ],
    }
    fee = queries.expected_fee(conn, customer, D("2090-02-28"))["contracts"][0]
    assert (
        fee["anniversary_date"],
        fee["price_list_valid_from"],
        fee["net_total"],
        fee["vat_rate"],
        fee["vat_amount"],
        fee["gross_total"],
    ) == ("2090-02-28", "2090-01-01", 210_050, 27, 56_714, 266_764)


@pytest.mark.usefixtures("price_lists")
def test_expected_fee_without_price_list_in_force(conn):
    customer, contract = new_customer(), f"K-{uuid4().hex[:6]}"
    sign(conn, customer, contract, "2080-01-10", "2080-02-01", [item("S1"), item("S2", license_type="rental")])
    fee = queries.expected_fee(conn, customer, D("2080-01-10"))["contracts"][0]
    assert fee == {
        "contract_id": contract,
        "anniversary_date": "2080-02-01",
        "price_list_valid_from": None,
        "lines": [
            {**item("S1"), "annual_fee": None, "price_missing": True, **NO_PRICE},
            {**item("S2", license_type="rental"), "annual_fee": 0, "price_missing": False, **NO_PRICE},
        ],
        "net_total": 0,
        "vat_rate": None,
        "vat_amount": None,
        "gross_total": None,
    }


def test_credentials(conn):
    customer, contract = new_customer(), f"K-{uuid4().hex[:6]}"
    sign(conn, customer, contract, "2090-01-10", "2090-02-01", [item("S1"), item("S2")])
    apply(
        conn,
        "contract.item_removed",
        contract_id=contract,
        customer_code=customer,
        effective_on=D("2090-03-01"),
        serial_number="S2",
    )

    def check(serial, password=None, today="2090-03-01", code=customer):
        return queries.check_credentials(conn, code, serial, password, D(today))

    valid = {"valid": True, "customer_name": "Alfa Kft."}
    invalid = {"valid": False, "customer_name": None}
    assert check("S1") == valid
    assert check("S1", "anything") == valid  # no portal password: none is asked for
    assert check("S2") == invalid
    assert check("S2", today="2090-02-28") == valid
    assert check("S1", today="2090-01-09") == invalid
    assert check("S1", code=new_customer()) == invalid

    apply(
        conn,
        "customer.portal_password_set",
        customer_code=customer,
        password_hash=PasswordHasher().hash("titkos-jelszó"),
    )
    assert check("S1", "titkos-jelszó") == valid
    assert check("S1", "rossz") == invalid
    assert check("S1") == invalid
    assert check("S2", "titkos-jelszó") == invalid

    apply(conn, "customer.portal_password_removed", customer_code=customer)
    assert check("S1") == valid
    apply(conn, "contract.terminated", contract_id=contract, customer_code=customer, terminated_on=D("2090-03-01"))
    assert check("S1") == invalid


class CountingHasher(PasswordHasher):
    """A PasswordHasher that records which hashes it verified against."""

    def __init__(self):
        super().__init__()
        self.verified = []

    def verify(self, hash, password):
        self.verified.append(hash)
        return super().verify(hash, password)


def test_credentials_always_verify_exactly_once(conn, monkeypatch):
    customer = new_customer()
    sign(conn, customer, f"K-{uuid4().hex[:6]}", "2090-01-10", "2090-02-01", [item("S1")])
    hasher = CountingHasher()
    monkeypatch.setattr(queries, "PASSWORD_HASHER", hasher)
    queries.check_credentials(conn, new_customer(), "S1", None, D("2090-03-01"))
    queries.check_credentials(conn, customer, "S1", "x", D("2090-03-01"))
    apply(conn, "customer.portal_password_set", customer_code=customer, password_hash="$argon2id$broken")
    assert queries.check_credentials(conn, customer, "S1", "x", D("2090-03-01"))["valid"] is False
    assert queries.check_credentials(conn, customer, "S1", None, D("2090-03-01"))["valid"] is False
    dummy = queries.DUMMY_PASSWORD_HASH
    assert hasher.verified == [dummy, dummy, "$argon2id$broken", dummy]
