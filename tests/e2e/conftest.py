"""End-to-end tests use the whole-system fixtures of tests/support/fixtures.py (`system`, `publish`, `gateway`)."""

from __future__ import annotations

from tests.support.fixtures import login

__all__ = ["login"]
