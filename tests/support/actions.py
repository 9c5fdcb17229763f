"""Helpers of the customer-action tests: sending actions, waiting for them to be projected."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.procs import wait_for


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return uuid.uuid4().hex


def act(
    gateway: str, method: str, path: str, auth: dict[str, str], body: Any = None, key: str | None = None, **headers: str
) -> requests.Response:
    """Send one action (a fresh key unless given; `key=""` sends none)."""
    sent = {**auth, **headers}
    if key != "":
        sent["Idempotency-Key"] = key or new_key()
    return requests.request(method, f"{gateway}/api/v1{path}", json=body, headers=sent, timeout=15)


def wait_until(predicate, timeout: float = 20, interval: float = 0.1):  # noqa: ANN001
    """Poll until `predicate()` is truthy (procs.wait_for with the actions' shorter bounds)."""
    return wait_for(predicate, timeout=timeout, interval=interval)


def call_detail(gateway: str, auth: dict[str, str], call_id: str) -> requests.Response:
    """GET one support call."""
    return requests.get(f"{gateway}/api/v1/support-calls/{call_id}", headers=auth, timeout=10)


def visible_call(
    gateway: str, auth: dict[str, str], call_id: str, timeout: float = 20, until=lambda call: True
) -> dict[str, Any]:  # noqa: ANN001
    """The call once it is visible through the gateway (and `until(call)` holds)."""

    def seen() -> dict[str, Any] | None:
        response = call_detail(gateway, auth, call_id)
        return response.json() if response.status_code == 200 and until(response.json()) else None

    return wait_until(seen, timeout)
