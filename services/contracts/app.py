"""The contracts service's internal API."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.contracts import projection, routes
from shared import config as settings
from shared.service import build_app

# Where the vendor takes annex corrections (the annex's `report_to`).
DEFAULT_REPORT_TO = "adminisztracio@szamado.hu"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Flask factory; settings from the environment unless `config` is given."""
    app = build_app("contracts", "services.contracts", routes, projection, config)
    report_to = (config or {}).get("ANNEX_REPORT_TO") or settings.optional("ANNEX_REPORT_TO", DEFAULT_REPORT_TO)
    app.config["ANNEX_REPORT_TO"] = report_to
    return app
