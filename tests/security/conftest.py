"""Customers and helpers of the security tests (the whole system comes from tests/support/fixtures.py)."""

from __future__ import annotations

import pytest

from tests.support.customers import rich_customer


@pytest.fixture(scope="session")
def customers(publish) -> dict[str, dict]:
    """A (settled, so its codes show), B (owes), and P (with a portal password): data in every service."""
    return {"a": rich_customer(publish, name="Alfa Kft.", settled=True),
            "b": rich_customer(publish, name="Béta Bt."),
            "p": rich_customer(publish, name="Páva Zrt.", password="titok-123")}
