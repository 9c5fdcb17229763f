"""Who may read the operations details on the public gateway: callers with the internal token."""

from __future__ import annotations

import hmac

from flask import current_app, request


def operator_request() -> bool:
    """True when the request carries the internal token (`X-Internal-Token`, or as a Bearer token)."""
    expected = current_app.config["INTERNAL_TOKEN"].encode()
    given = request.headers.get("X-Internal-Token", "")
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = credentials.strip()
    return bool(given) and hmac.compare_digest(given.encode(), expected)
