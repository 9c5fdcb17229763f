"""The ledger service's internal API."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.ledger import payment, routes
from services.ledger.projection import PROJECTION
from shared.config import MissingSetting, exit_on_bad_settings, vendor_settings
from shared.service import build_app


def check_account(account_number: object) -> None:
    """A mistyped vendor account fails at start, not in a customer's payment block."""
    try:
        payment.hungarian_iban(str(account_number))
    except ValueError as error:
        raise MissingSetting(f"VENDOR_ACCOUNT_NUMBER: {error}") from None


def check_settings() -> None:
    """What the ledger checks beyond every service's settings (shared/web/serve.py runs it before any worker)."""
    check_account(vendor_settings()["account_number"])


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Flask factory; settings from the environment unless `config` is given."""
    with exit_on_bad_settings():
        app = build_app(PROJECTION, routes, config)
        check_account(app.config["VENDOR"]["account_number"])
    return app
