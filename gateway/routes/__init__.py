"""The public API's blueprints: login and the five customer queries."""

from __future__ import annotations

from gateway.openapi import Api
from gateway.routes import documents, queries, sessions


def register(api: Api) -> None:
    """Register every public blueprint (and so its operations in the OpenAPI document)."""
    api.register_blueprint(sessions.blp)
    api.register_blueprint(queries.blp)
    api.register_blueprint(documents.blp)
