"""Settings of the gateway from the environment; a missing required one fails at start with its name."""

from __future__ import annotations

import os
from typing import Any

from shared import config
from shared.config import MissingSetting

SERVICES = ("contracts", "ledger", "tickets", "quota")
REQUIRED = ("INTERNAL_TOKEN", "GATEWAY_SECRET_KEY", "DATABASE_URL")
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash

DEFAULTS: dict[str, Any] = {
    "CONTRACTS_URL": "http://127.0.0.1:8081",
    "LEDGER_URL": "http://127.0.0.1:8082",
    "TICKETS_URL": "http://127.0.0.1:8083",
    "QUOTA_URL": "http://127.0.0.1:8084",
    "TOKEN_TTL_MINUTES": 30,
    "SERVICE_TIMEOUT_S": 2.0,
    "SERVICE_CONNECT_TIMEOUT_S": 0.5,
    "HEALTH_TIMEOUT_S": 1.0,
    "LOGIN_FAILURES_PER_CODE": 5,
    "LOGIN_FAILURES_PER_ADDRESS": 30,
    "LOGIN_WINDOW_MINUTES": 15,
    "MAX_BODY_BYTES": 16 * 1024,
    "LAG_DEGRADED_MESSAGES": 1000,
    "TRUST_PROXY": 0,
    "DB_POOL_SIZE": 4,
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "TOPIC_PREFIX": "",
    "ACTIONS_PER_HOUR": 20,
    "ACTION_WINDOW_MINUTES": 60,
    "PUBLISH_TIMEOUT_S": 3.0,
    "PASSWORD_STATE_CACHE_S": 1.0,
}


def settings_from_env() -> dict[str, Any]:
    """Every gateway setting, read from the environment."""
    settings: dict[str, Any] = {
        "INTERNAL_TOKEN": config.required("INTERNAL_TOKEN"),
        "GATEWAY_SECRET_KEY": config.required("GATEWAY_SECRET_KEY"),
        "DATABASE_URL": config.service_database_url("gateway"),
    }
    for name, default in DEFAULTS.items():
        if isinstance(default, float):
            settings[name] = _float(name, default)
        elif isinstance(default, int):
            settings[name] = config.integer(name, default)
        else:
            settings[name] = config.optional(name, default)
    return settings


def complete(overrides: dict[str, Any]) -> dict[str, Any]:
    """Given settings (tests) over the defaults; the required ones must be present."""
    missing = [name for name in REQUIRED if not overrides.get(name)]
    if missing:
        raise MissingSetting(f"gateway setting {missing[0]} is required but not given")
    return {**DEFAULTS, **overrides}


def check(settings: dict[str, Any]) -> dict[str, Any]:
    """Refuse settings the gateway cannot run safely with."""
    if len(settings["GATEWAY_SECRET_KEY"].encode()) < MIN_SECRET_BYTES:
        raise MissingSetting(f"GATEWAY_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
    return settings


def _float(name: str, default: float) -> float:
    """A float environment variable."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise MissingSetting(f"environment variable {name} must be a number, got {raw!r}") from None
