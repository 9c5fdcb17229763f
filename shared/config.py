"""Settings from the environment; a missing required one fails at start with its name."""

from __future__ import annotations

import os


class MissingSetting(RuntimeError):
    """A required environment variable is not set."""


def required(name: str) -> str:
    """The value of a required environment variable."""
    value = os.environ.get(name)
    if not value:
        raise MissingSetting(f"environment variable {name} is required but not set")
    return value


def optional(name: str, default: str) -> str:
    """The value of an environment variable, or its default."""
    return os.environ.get(name) or default


def integer(name: str, default: int) -> int:
    """An integer environment variable."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise MissingSetting(f"environment variable {name} must be an integer, got {raw!r}") from None


def service_database_url(service: str) -> str:
    """The database of one service: `<SERVICE>_DATABASE_URL`, else DATABASE_URL with the db name `portal_<service>`."""
    specific = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if specific:
        return specific
    base = required("DATABASE_URL")
    return with_database(base, f"portal_{service}")


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    head, _, tail = url.partition("?")
    scheme, _, rest = head.partition("://")
    server = rest.split("/", 1)[0]
    return f"{scheme}://{server}/{database}" + (f"?{tail}" if tail else "")
