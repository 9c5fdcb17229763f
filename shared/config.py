"""Every setting of every process, read from the environment here and only here.

`SETTINGS` is the one table: name, type, default, who reads it and what it means. `get(name)` reads and checks
one; a missing required or malformed value raises `MissingSetting` naming the variable, and the entry points
turn that into one line on stderr (`exit_on_bad_settings`). `python -m shared.config` prints the table as
Markdown; docs/operations.md carries it (a unit test keeps the two equal).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

SERVICE_PORTS = {"contracts": 8081, "ledger": 8082, "tickets": 8083, "quota": 8084}  # local defaults
REQUIRED: Any = object()  # the default of a setting that has none
# gunicorn's arbiter halts (instead of respawning workers) when a worker exits with this code.
BAD_SETTINGS_EXIT = 4


class MissingSetting(RuntimeError):
    """A required environment variable is not set, or a value is malformed."""


@dataclass(frozen=True)
class Setting:
    """One environment variable."""

    name: str
    kind: type
    default: Any
    readers: str
    meaning: str
    secret: bool = False  # may come from `<NAME>_FILE`; known defaults and short values refuse to start


def _table() -> list[Setting]:
    s = Setting
    return [
        s("KAFKA_BOOTSTRAP_SERVERS", str, "127.0.0.1:9092", "all", "Kafka brokers, `host:port[,host:port]`"),
        s("DATABASE_URL", str, REQUIRED, "all", "PostgreSQL server URL; each process uses its own database on it"),
        s(
            "<SERVICE>_DATABASE_URL",
            str,
            "",
            "all",
            "one process's database (e.g. `LEDGER_DATABASE_URL`); default: `DATABASE_URL` with `portal_<service>`",
        ),
        s(
            "INTERNAL_TOKEN",
            str,
            REQUIRED,
            "services, gateway",
            "shared token of gateway → service calls (or `INTERNAL_TOKEN_FILE`)",
            secret=True,
        ),
        s(
            "DATABASE_USER",
            str,
            "",
            "all",
            "PostgreSQL role of this process, replacing the URL's user (scripts/stack.sh: one per process)",
        ),
        s(
            "DATABASE_PASSWORD",
            str,
            "",
            "all",
            "password of `DATABASE_USER` (or `DATABASE_PASSWORD_FILE`), replacing the URL's",
            secret=True,
        ),
        s(
            "KAFKA_SECURITY_PROTOCOL",
            str,
            "PLAINTEXT",
            "all",
            "`SASL_SSL` (scripts/stack.sh's default: TLS + SCRAM-SHA-512) or `PLAINTEXT` (a broker without security)",
        ),
        s("KAFKA_SASL_USERNAME", str, "", "all", "this process's Kafka principal (SCRAM-SHA-512 user)"),
        s(
            "KAFKA_SASL_PASSWORD",
            str,
            "",
            "all",
            "password of the Kafka principal (or `KAFKA_SASL_PASSWORD_FILE`)",
            secret=True,
        ),
        s("KAFKA_SSL_CAFILE", str, "", "all", "PEM file of the CA that signed the brokers' certificates"),
        s("TOPIC_PREFIX", str, "", "all", "prefix of every topic name (tests and benchmarks keep runs apart)"),
        s("READ_MODEL_SCHEMA", str, "readmodel", "services, CLIs", "name of the read models' live schema"),
        s("CONSUMER_GROUP", str, "", "projectors", "consumer group; default `<prefix><service>`"),
        s("PROJECTOR_BATCH_SIZE", int, 1000, "projectors", "most records applied in one transaction"),
        s("PROJECTOR_POLL_TIMEOUT_MS", int, 200, "projectors", "longest wait of one poll"),
        s("PROJECTOR_METRICS_PORT", int, 0, "projectors", "port of the projector's /metrics (0: none)"),
        s(
            "PROJECTOR_STALL_S",
            float,
            30.0,
            "projectors",
            "a partition that waited this long without progress, or Kafka unanswered this long, makes the consumer be made again",
        ),
        s(
            "PROJECTOR_HOLD_AT",
            int,
            0,
            "projectors (tests)",
            "a fault point for the tests: once a batch would bring the stored offsets to this sum, the projector "
            "holds inside that batch's transaction, before the commit, until SIGKILL, SIGUSR1 (go on) or SIGTERM "
            "(0: never)",
        ),
        s("TOPIC_PARTITIONS", int, 3, "CLIs", "partitions of topics created by `portal-admin create-topics`"),
        s(
            "TOPIC_REPLICATION_FACTOR",
            int,
            1,
            "CLIs",
            "copies of every partition of topics created by `portal-admin create-topics` (3 on the three-broker "
            "cluster, with `min.insync.replicas=2`)",
        ),
        s(
            "<SERVICE>_URL",
            str,
            "http://127.0.0.1:808N",
            "gateway, CLIs",
            "a service's internal API (`CONTRACTS_URL` 8081, `LEDGER_URL` 8082, `TICKETS_URL` 8083, `QUOTA_URL` 8084)",
        ),
        s(
            "GATEWAY_SECRET_KEY",
            str,
            REQUIRED,
            "gateway",
            "key signing the session tokens, at least 32 bytes (or `GATEWAY_SECRET_KEY_FILE`)",
            secret=True,
        ),
        s("TOKEN_TTL_MINUTES", int, 30, "gateway", "lifetime of a session token"),
        s("SERVICE_TIMEOUT_S", float, 2.0, "gateway", "read timeout of a call to a service"),
        s("SERVICE_CONNECT_TIMEOUT_S", float, 0.5, "gateway", "connect timeout of a call to a service"),
        s("HEALTH_TIMEOUT_S", float, 1.0, "gateway", "timeout of each service's health check in `/health`"),
        s("LOGIN_FAILURES_PER_CODE", int, 5, "gateway", "failed logins per customer code in the window"),
        s("LOGIN_FAILURES_PER_ADDRESS", int, 30, "gateway", "failed logins per client address in the window"),
        s("LOGIN_WINDOW_MINUTES", int, 15, "gateway", "window of the login limits"),
        s(
            "LOGIN_CHECKS_AT_ONCE",
            int,
            2,
            "gateway",
            "credential checks (argon2id, CPU-bound) one gateway process runs at once; more logins wait",
        ),
        s(
            "LOGIN_CHECK_TIMEOUT_S",
            float,
            10.0,
            "gateway",
            "read timeout of the credentials check (argon2id on a busy machine; the check slots bound the waiting)",
        ),
        s(
            "LOGIN_QUEUE_WAIT_S",
            float,
            0.1,
            "gateway",
            "longest wait of a login for a free check; then a quick 429 with `Retry-After`",
        ),
        s("MAX_BODY_BYTES", int, 16 * 1024, "gateway", "largest request body"),
        s("LAG_DEGRADED_MESSAGES", int, 1000, "gateway", "lag above which `/health` calls a service degraded"),
        s("TRUST_PROXY", int, 0, "gateway", "proxies in front whose X-Forwarded-For is trusted"),
        s("DB_POOL_SIZE", int, 4, "gateway", "gateway database connections per process"),
        s(
            "ACTIONS_PER_HOUR",
            int,
            20,
            "gateway",
            "customer actions (calls, replies, password) per customer per window",
        ),
        s("ACTION_WINDOW_MINUTES", int, 60, "gateway", "window of the action limit"),
        s("PUBLISH_TIMEOUT_S", float, 3.0, "gateway", "longest wait for Kafka's acknowledgement of an action"),
        s(
            "PASSWORD_STATE_CACHE_S",
            float,
            1.0,
            "gateway",
            "how long a process trusts the projected password-change time when checking a token",
        ),
        s("VENDOR_NAME", str, "Számadó Szoftverház Kft.", "ledger, quota, gateway", "the vendor's name on documents"),
        s(
            "VENDOR_ADDRESS",
            str,
            "1117 Budapest, Infopark sétány 1.",
            "ledger, quota, gateway",
            "the vendor's address on documents",
        ),
        s("VENDOR_TAX_NUMBER", str, "12345676-2-43", "ledger, quota, gateway", "the vendor's tax number"),
        s("VENDOR_BENEFICIARY", str, "Számadó Szoftverház Kft.", "ledger", "beneficiary of the payment block"),
        s(
            "VENDOR_ACCOUNT_NUMBER",
            str,
            "11773016-11111018-00000000",
            "ledger",
            "the vendor's account (3×8 digits; the demo's is check-digit valid), also in the payment QR code",
        ),
        s("VENDOR_BIC", str, "OTPVHUHB", "ledger", "the vendor's bank's BIC"),
        s(
            "VENDOR_ANNEX_EMAIL",
            str,
            "adminisztracio@szamado.hu",
            "contracts, gateway",
            "where the vendor takes contract-annex corrections (`report_to`)",
        ),
        s("VENDOR_PHONE", str, "+36 1 234 5678", "gateway", "support phone in the portal's footer"),
        s("VENDOR_HOURS", str, "H–P 8:00–16:30", "gateway", "support hours in the portal's footer"),
        s("PAYMENT_QR_VALID_DAYS", int, 30, "ledger", "days a payment QR code stays valid"),
        s(
            "PDF_FONT_DIR",
            str,
            "/usr/share/fonts/truetype/dejavu",
            "gateway",
            "folder of the DejaVu Sans fonts embedded in the PDF statements",
        ),
        s(
            "PROMETHEUS_MULTIPROC_DIR",
            str,
            "",
            "APIs, gateway",
            "prometheus_client's directory of per-worker metric files; the API's server makes one when unset",
        ),
    ]


SETTINGS: dict[str, Setting] = {setting.name: setting for setting in _table()}


def _declared(name: str) -> Setting:
    if name in SETTINGS:
        return SETTINGS[name]
    for pattern in ("<SERVICE>_DATABASE_URL", "<SERVICE>_URL"):
        suffix = pattern.removeprefix("<SERVICE>")
        if name.endswith(suffix) and name != suffix.lstrip("_"):
            return SETTINGS[pattern]
    raise KeyError(f"{name} is not a declared setting (shared/config.py)")


# Secrets: at least this long, and never one of the values that were ever written down as examples.
MIN_SECRET_LENGTH = 16
KNOWN_DEFAULTS = frozenset(
    {
        "change-me",
        "changeme",
        "dev-internal-token-change-me",
        "dev-gateway-secret-change-me-0123456789",
        "password",
        "postgres",
        "portal",
        "secret",
    }
)


def _secret(name: str) -> str | None:
    """A secret's value from `<NAME>` or the file named by `<NAME>_FILE` (Docker secrets); never both."""
    raw, path = os.environ.get(name) or None, os.environ.get(f"{name}_FILE") or None
    if raw is not None and path is not None:
        raise MissingSetting(f"environment variables {name} and {name}_FILE are both set; set only one")
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                raw = handle.read().rstrip("\r\n")
        except OSError as exc:
            raise MissingSetting(f"environment variable {name}_FILE={path} cannot be read: {exc.strerror}") from None
    if raw is None:
        return None
    if raw.lower() in KNOWN_DEFAULTS or "change-me" in raw.lower() or "changeme" in raw.lower():
        raise MissingSetting(
            f"environment variable {name} is a known default value; generate one (openssl rand -hex 32)"
        )
    if len(raw.encode()) < MIN_SECRET_LENGTH:
        raise MissingSetting(
            f"environment variable {name} is shorter than {MIN_SECRET_LENGTH} bytes; generate a longer one"
        )
    return raw


def get(name: str, default: Any = None) -> Any:
    """The value of a declared setting, converted to its type; `default` overrides the table's.

    A secret (`Setting.secret`) may come from the file named by `<NAME>_FILE` instead, and is refused when it is
    a known default or shorter than MIN_SECRET_LENGTH."""
    setting = _declared(name)
    fallback = setting.default if default is None else default
    raw = _secret(name) if setting.secret else os.environ.get(name)
    if raw is None or raw == "":
        if fallback is REQUIRED:
            raise MissingSetting(f"environment variable {name} is required but not set ({setting.meaning})")
        return fallback
    if setting.kind is str:
        return raw
    try:
        return setting.kind(raw)
    except ValueError:
        kind = "an integer" if setting.kind is int else "a number"
        raise MissingSetting(f"environment variable {name} must be {kind}, got {raw!r}") from None


def required(name: str) -> str:
    """The value of a required setting."""
    value = get(name)
    if not value:
        raise MissingSetting(f"environment variable {name} is required but not set")
    return value


def service_database_url(service: str) -> str:
    """One process's database: `<SERVICE>_DATABASE_URL`, else DATABASE_URL with the database `portal_<service>`;
    signed in as `DATABASE_USER` with `DATABASE_PASSWORD` when they are set (each process its own role)."""
    url = get(f"{service.upper()}_DATABASE_URL") or with_database(get("DATABASE_URL"), f"portal_{service}")
    return with_credentials(url, get("DATABASE_USER"), get("DATABASE_PASSWORD"))


def with_credentials(url: str, user: str, password: str) -> str:
    """The same URL signed in as `user` (and `password`); unchanged when `user` is empty."""
    if not user:
        return url
    scheme, _, rest = url.partition("://")
    server = rest.split("/", 1)[0]
    host = server.rpartition("@")[2]
    login = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"{scheme}://{login}@{host}" + rest[len(server) :]


def service_url(service: str) -> str:
    """A service's internal API: `<SERVICE>_URL`, else its port on this machine."""
    return get(f"{service.upper()}_URL", f"http://127.0.0.1:{SERVICE_PORTS[service]}")


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    head, _, tail = url.partition("?")
    scheme, _, rest = head.partition("://")
    server = rest.split("/", 1)[0]
    return f"{scheme}://{server}/{database}" + (f"?{tail}" if tail else "")


# The vendor's own details: on the documents, in the payment block and QR code, on the annex and in the
# portal's footer (key -> variable).
VENDOR_SETTINGS = {
    "name": "VENDOR_NAME",
    "address": "VENDOR_ADDRESS",
    "tax_number": "VENDOR_TAX_NUMBER",
    "beneficiary": "VENDOR_BENEFICIARY",
    "account_number": "VENDOR_ACCOUNT_NUMBER",
    "bic": "VENDOR_BIC",
    "report_to": "VENDOR_ANNEX_EMAIL",
    "phone": "VENDOR_PHONE",
    "hours": "VENDOR_HOURS",
}


def vendor_settings() -> dict[str, str | int]:
    """The vendor's details from `VENDOR_*` variables (demo defaults), and the days a payment QR code is valid."""
    settings: dict[str, str | int] = {key: get(name) for key, name in VENDOR_SETTINGS.items()}
    settings["qr_valid_days"] = get("PAYMENT_QR_VALID_DAYS")
    return settings


def fail(exc: MissingSetting) -> NoReturn:
    """End the process with one line naming the setting (no traceback)."""
    print(f"error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(BAD_SETTINGS_EXIT)


@contextmanager
def exit_on_bad_settings() -> Iterator[None]:
    """Around an entry point: a missing or malformed setting ends the process with one line."""
    try:
        yield
    except MissingSetting as exc:
        fail(exc)


def entry_point(main: Callable[..., int]) -> Callable[..., int]:
    """Decorate a CLI's `main` so a bad setting ends it with one line."""

    def run(*args: Any, **kwargs: Any) -> int:
        with exit_on_bad_settings():
            return main(*args, **kwargs)

    run.__doc__, run.__name__ = main.__doc__, main.__name__
    return run


def markdown_table() -> str:
    """The settings as the Markdown table of docs/operations.md."""
    lines = ["| variable | type | default | read by | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS.values():
        default = "**required**" if s.default is REQUIRED else (f"`{s.default}`" if s.default != "" else "(empty)")
        lines.append(f"| `{s.name}` | {s.kind.__name__} | {default} | {s.readers} | {s.meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
