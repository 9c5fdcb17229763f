"""Contracts read-model queries: contract annex, expected fee and portal credentials, as of a date."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import DictRow

from services.contracts import rules
from shared.readmodel.connections import one
from shared.readmodel.rowsets import RowSets
from shared.web.jsonready import json_ready

DISCREPANCY_NOTE = (
    "If anything in this annex is not as agreed, please report it to our contract administration "
    "(or open a support call) so that we can correct it."
)

PASSWORD_HASHER = PasswordHasher()
# Verified against when there is no real hash, so every check costs one argon2 verification.
DUMMY_PASSWORD_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))
# Each argon2id verification holds its memory cost (64 MiB by default) while it runs: more at once than
# there are cores gains no throughput and only multiplies the process's peak memory.
VERIFYING = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class CustomerFacts:
    """Everything stored about one customer's contracts, as rows."""

    contracts: list[dict[str, Any]]
    item_changes: list[dict[str, Any]]
    terminations: list[dict[str, Any]]
    detail_changes: list[dict[str, Any]]

    def items_in_force(self, contract_id: str, as_of: date) -> list[dict[str, Any]]:
        """Items of one of the customer's contracts in force on `as_of`."""
        changes = [c for c in self.item_changes if c["contract_id"] == contract_id]
        return rules.items_in_force(changes, as_of)

    def contracts_in_force(self, as_of: date) -> list[Mapping[str, Any]]:
        """The customer's contracts in force on `as_of`."""
        return rules.contracts_in_force(self.contracts, self.terminations, as_of)

    def signed_on_or_before(self, as_of: date) -> bool:
        """Whether any contract of the customer was signed on or before `as_of`."""
        return any(c["signed_on"] <= as_of for c in self.contracts)


CUSTOMER_FACT_QUERIES = {
    "contracts": "SELECT contract_id, signed_on, starts_on FROM contracts"
    " WHERE customer_code = %(customer_code)s AND signed_on <= %(as_of)s",
    "item_changes": "SELECT * FROM contract_item_changes"
    " WHERE customer_code = %(customer_code)s AND effective_on <= %(as_of)s",
    "terminations": "SELECT contract_id, terminated_on FROM contract_terminations"
    " WHERE customer_code = %(customer_code)s AND terminated_on <= %(as_of)s",
    "detail_changes": "SELECT effective_on, arrival, details FROM customer_detail_changes"
    " WHERE customer_code = %(customer_code)s AND effective_on <= %(as_of)s",
}
FACT_DATES = ("signed_on", "starts_on", "effective_on", "terminated_on")
CUSTOMER_FACTS = RowSets(CUSTOMER_FACT_QUERIES, dates=FACT_DATES)
# The expected fee also needs the price lists in force on the contracts' anniversaries. Those come from the
# contracts, so the statement takes every list that can be in force on an anniversary (`until`:
# rules.anniversary_horizon) and the rules pick each contract's own: one round trip, not two.
FEE_FACTS = RowSets(
    {
        **CUSTOMER_FACT_QUERIES,
        "price_lists": "SELECT DISTINCT ON (valid_from) valid_from, arrival, vat_rate, products FROM price_lists"
        " WHERE valid_from <= %(until)s ORDER BY valid_from, arrival DESC",
    },
    dates=(*FACT_DATES, "valid_from"),
)


def _customer_facts(conn: psycopg.Connection[DictRow], customer_code: str, as_of: date) -> CustomerFacts:
    """Load the customer's contract facts dated on or before `as_of` (four indexed queries in one statement)."""
    return CustomerFacts(**CUSTOMER_FACTS.fetch(conn, {"customer_code": customer_code, "as_of": as_of}))


def contract_annex(conn: psycopg.Connection[DictRow], customer_code: str, as_of: date) -> dict[str, Any] | None:
    """The contract annex as of a date; None when no contract was signed on or before it."""
    facts = _customer_facts(conn, customer_code, as_of)
    if not facts.signed_on_or_before(as_of):
        return None
    customer = {"customer_code": customer_code, **rules.customer_details_as_of(facts.detail_changes, as_of)}
    contracts = [
        {**contract, "items": facts.items_in_force(contract["contract_id"], as_of)}
        for contract in facts.contracts_in_force(as_of)
    ]
    annex = {"customer_code": customer_code, "as_of": as_of, "customer": customer, "contracts": contracts}
    return json_ready({**annex, "discrepancy_note": DISCREPANCY_NOTE})


def expected_fee(conn: psycopg.Connection[DictRow], customer_code: str, as_of: date) -> dict[str, Any] | None:
    """Expected annual support fee per contract in force; None when no contract was signed by `as_of`."""
    params = {"customer_code": customer_code, "as_of": as_of, "until": rules.anniversary_horizon(as_of)}
    rows = FEE_FACTS.fetch(conn, params)
    price_lists = rows.pop("price_lists")
    facts = CustomerFacts(**rows)
    if not facts.signed_on_or_before(as_of):
        return None
    contracts = [
        rules.contract_fee(contract, facts.items_in_force(contract["contract_id"], as_of), price_lists, as_of)
        for contract in facts.contracts_in_force(as_of)
    ]
    return json_ready({"customer_code": customer_code, "as_of": as_of, "contracts": contracts})


def _current_password_hash(conn: psycopg.Connection[DictRow], customer_code: str) -> str | None:
    """The customer's portal password hash now (the latest set or removal), or None."""
    row = conn.execute(
        "SELECT password_hash FROM portal_password_changes WHERE customer_code = %(customer_code)s"
        " ORDER BY arrival DESC LIMIT 1",
        {"customer_code": customer_code},
    ).fetchone()
    return row["password_hash"] if row else None


def portal_password(conn: psycopg.Connection[DictRow], customer_code: str) -> dict[str, Any]:
    """Whether the customer has a portal password now, and when it last changed (set or removed)."""
    row = one(
        conn.execute(
            "SELECT (SELECT password_hash IS NOT NULL FROM portal_password_changes"
            "         WHERE customer_code = %(customer_code)s ORDER BY arrival DESC LIMIT 1) AS has_password,"
            "       (SELECT max(changed_at) FROM portal_password_changes"
            "         WHERE customer_code = %(customer_code)s) AS changed_at",
            {"customer_code": customer_code},
        )
    )
    changed_at = row["changed_at"]
    return {
        "customer_code": customer_code,
        "has_password": bool(row["has_password"]),
        "password_changed_at": changed_at.isoformat() if changed_at else None,
    }


def password_changes_since(conn: psycopg.Connection[DictRow], since: datetime) -> list[dict[str, Any]]:
    """Each customer whose portal password changed (set or removed) after `since`, with the latest change."""
    rows = conn.execute(
        "SELECT customer_code, max(changed_at) AS changed_at FROM portal_password_changes"
        " WHERE changed_at > %(since)s GROUP BY customer_code ORDER BY customer_code",
        {"since": since},
    ).fetchall()
    return [{"customer_code": r["customer_code"], "changed_at": r["changed_at"].isoformat()} for r in rows]


def _password_verifies(password_hash: str, password: str) -> bool:
    """One argon2 verification; a mismatch or a malformed hash is False."""
    try:
        with VERIFYING:
            return PASSWORD_HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _password_accepted(password_hash: str | None, password: str | None) -> bool:
    """Always exactly one argon2 verification, so timing does not tell what was wrong."""
    if password_hash is not None and password is not None:
        return _password_verifies(password_hash, password)
    _password_verifies(DUMMY_PASSWORD_HASH, password or "")
    return password_hash is None


def check_credentials(
    conn: psycopg.Connection[DictRow], customer_code: str, serial_number: str, password: str | None, today: date
) -> dict[str, Any]:
    """Whether the serial is in force today for the customer and the password (if any) verifies."""
    facts = _customer_facts(conn, customer_code, today)
    password_ok = _password_accepted(_current_password_hash(conn, customer_code), password)
    serial_ok = any(
        item["serial_number"] == serial_number
        for contract in facts.contracts_in_force(today)
        for item in facts.items_in_force(contract["contract_id"], today)
    )
    if not (serial_ok and password_ok):
        return {"valid": False, "customer_name": None}
    return {"valid": True, "customer_name": rules.customer_details_as_of(facts.detail_changes, today)["name"]}
