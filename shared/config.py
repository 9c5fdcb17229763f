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


# The vendor's own details: on the documents, in the payment block and QR code, on the annex and in the
# portal's footer. The defaults are the demo vendor's (a plausible, check-digit-valid OTP account).
VENDOR_DEFAULTS = {
    "name": ("VENDOR_NAME", "Számadó Szoftverház Kft."),
    "address": ("VENDOR_ADDRESS", "1117 Budapest, Infopark sétány 1."),
    "tax_number": ("VENDOR_TAX_NUMBER", "12345676-2-43"),
    "beneficiary": ("VENDOR_BENEFICIARY", "Számadó Szoftverház Kft."),
    "account_number": ("VENDOR_ACCOUNT_NUMBER", "11773016-11111018-00000000"),
    "bic": ("VENDOR_BIC", "OTPVHUHB"),
    "report_to": ("VENDOR_ANNEX_EMAIL", "adminisztracio@szamado.hu"),
    "phone": ("VENDOR_PHONE", "+36 1 234 5678"),
    "hours": ("VENDOR_HOURS", "H–P 8:00–16:30"),
}


def vendor_settings() -> dict[str, str | int]:
    """The vendor's details from `VENDOR_*` variables (demo defaults), and the days a payment QR code is valid."""
    settings: dict[str, str | int] = {key: optional(name, default) for key, (name, default) in VENDOR_DEFAULTS.items()}
    settings["qr_valid_days"] = integer("PAYMENT_QR_VALID_DAYS", 30)
    return settings
