"""The public API's blueprints: login, the customer queries, one call, and the actions."""

from __future__ import annotations

from gateway.openapi import Api
from gateway.routes import actions, documents, queries, sessions, support_call


def register(api: Api) -> None:
    """Register every public blueprint (and so its operations in the OpenAPI document)."""
    api.register_blueprint(sessions.blp)
    api.register_blueprint(queries.blp)
    api.register_blueprint(documents.blp)
    api.register_blueprint(support_call.blp)
    api.register_blueprint(actions.blp)
