"""The gateway's settings: its part of the one settings table (shared/config.py), and their checks."""

from __future__ import annotations

from typing import Any

from shared import config, kafka_security
from shared.config import MissingSetting

SERVICES = ("contracts", "ledger", "tickets", "quota")
REQUIRED = ("INTERNAL_TOKEN", "GATEWAY_SECRET_KEY", "DATABASE_URL")
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash

# Settings the gateway reads from the table, with their defaults (tests give settings without the environment).
OWN = (
    "TOKEN_TTL_MINUTES",
    "SERVICE_TIMEOUT_S",
    "SERVICE_CONNECT_TIMEOUT_S",
    "HEALTH_TIMEOUT_S",
    "LOGIN_FAILURES_PER_CODE",
    "LOGIN_FAILURES_PER_ADDRESS",
    "LOGIN_WINDOW_MINUTES",
    "LOGIN_CHECKS_AT_ONCE",
    "LOGIN_QUEUE_WAIT_S",
    "LOGIN_CHECK_TIMEOUT_S",
    "MAX_BODY_BYTES",
    "LAG_DEGRADED_MESSAGES",
    "TRUST_PROXY",
    "DB_POOL_SIZE",
    "KAFKA_BOOTSTRAP_SERVERS",
    "TOPIC_PREFIX",
    "ACTIONS_PER_HOUR",
    "ACTION_WINDOW_MINUTES",
    "PUBLISH_TIMEOUT_S",
    "PASSWORD_STATE_CACHE_S",
)
DEFAULTS: dict[str, Any] = {
    **{name: config.SETTINGS[name].default for name in OWN},
    **{f"{service.upper()}_URL": f"http://127.0.0.1:{port}" for service, port in config.SERVICE_PORTS.items()},
}


def settings_from_env() -> dict[str, Any]:
    """Every gateway setting, read from the environment (the Kafka security ones checked here too)."""
    kafka_security.client_kwargs()
    settings: dict[str, Any] = {
        "INTERNAL_TOKEN": config.required("INTERNAL_TOKEN"),
        "GATEWAY_SECRET_KEY": config.required("GATEWAY_SECRET_KEY"),
        "DATABASE_URL": config.service_database_url("gateway"),
        "VENDOR": config.vendor_settings(),
    }
    settings.update({name: config.get(name) for name in OWN})
    settings.update({f"{service.upper()}_URL": config.service_url(service) for service in SERVICES})
    return settings


def complete(overrides: dict[str, Any]) -> dict[str, Any]:
    """Given settings (tests) over the defaults; the required ones must be present."""
    missing = [name for name in REQUIRED if not overrides.get(name)]
    if missing:
        raise MissingSetting(f"gateway setting {missing[0]} is required but not given")
    return {**DEFAULTS, "VENDOR": config.vendor_settings(), **overrides}


def check(settings: dict[str, Any]) -> dict[str, Any]:
    """Refuse settings the gateway cannot run safely with."""
    if len(settings["GATEWAY_SECRET_KEY"].encode()) < MIN_SECRET_BYTES:
        raise MissingSetting(f"GATEWAY_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes long")
    if settings["LOGIN_CHECKS_AT_ONCE"] < 1:
        raise MissingSetting("LOGIN_CHECKS_AT_ONCE must be at least 1")
    return settings
