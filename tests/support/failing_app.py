"""An app target whose factory fails: what a worker does when the application cannot be loaded
(tests/integration/test_api_servers.py)."""

from __future__ import annotations


def create_app() -> object:
    raise RuntimeError("this application cannot start")
