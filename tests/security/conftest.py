"""Customers and helpers of the security tests (the whole system comes from tests/support/fixtures.py)."""

from __future__ import annotations

import pytest

from tests.support.customers import rich_customer


@pytest.fixture(scope="session")
def customers(publish) -> dict[str, dict]:
    """A (settled, so its codes show), B (owes), P (with a portal password): data in every service, never
    locked out. T (with a password) is the target of the tests that fail logins on purpose."""
    return {
        "a": rich_customer(publish, name="Alfa Kft.", settled=True),
        "b": rich_customer(publish, name="Béta Bt."),
        "p": rich_customer(publish, name="Páva Zrt.", password="titok-123"),
        "t": rich_customer(publish, name="Tamás és Társa", password="titok-456"),
    }
