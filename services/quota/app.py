"""The quota service's internal API."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.quota import routes
from services.quota.projection import PROJECTION
from shared.service import build_app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Flask factory; settings from the environment unless `config` is given."""
    return build_app(PROJECTION, routes, config)
