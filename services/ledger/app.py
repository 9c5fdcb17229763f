"""The ledger service's internal API."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.ledger import payment, routes
from services.ledger.projection import PROJECTION
from shared.config import MissingSetting, exit_on_bad_settings
from shared.service import build_app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Flask factory; settings from the environment unless `config` is given."""
    with exit_on_bad_settings():
        app = build_app(PROJECTION, routes, config)
        try:  # a mistyped vendor account fails at start, not in a customer's payment block
            payment.hungarian_iban(str(app.config["VENDOR"]["account_number"]))
        except ValueError as error:
            raise MissingSetting(f"VENDOR_ACCOUNT_NUMBER: {error}") from None
    return app
