"""The payment block (portal-api section 8) and its instant-payment QR payload (MNB "HCT" format), pure.

The payload follows the central bank's QR-code guideline for instant credit transfers (version 001): 17
data elements, each ended by a line feed (LF), UTF-8; an optional element is an empty line. The field list
and what this module puts in each is in docs/payments.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BUDAPEST = ZoneInfo("Europe/Budapest")
ACCOUNT = re.compile(r"\A\d{8}-\d{8}(-\d{8})?\Z")
HCT_FIELDS = (
    "identification_code",
    "version",
    "character_set",
    "bic",
    "name",
    "iban",
    "amount",
    "valid_until",
    "payment_situation",
    "remittance",
    "shop_id",
    "merchant_device_id",
    "receipt_id",
    "customer_id",
    "transaction_id",
    "loyalty_id",
    "nav_verification_code",
)
MAX_LENGTH = {"name": 70, "remittance": 70, "amount": 15}


def check_digit_ok(digits: str) -> bool:
    """The Hungarian account-number check: weights 9, 7, 3, 1 repeating, the sum divisible by 10."""
    weights = (9, 7, 3, 1)
    return sum(int(d) * weights[i % 4] for i, d in enumerate(digits)) % 10 == 0


def account_digits(account_number: str) -> str:
    """The 24 digits of a Hungarian account number (2×8 digits padded with zeros); ValueError if it is not one."""
    if not ACCOUNT.match(account_number):
        raise ValueError(f"not a Hungarian account number (8-8 or 8-8-8 digits): {account_number!r}")
    parts = account_number.split("-")
    if not check_digit_ok(parts[0]) or not check_digit_ok("".join(parts[1:])):
        raise ValueError(f"the check digits of account number {account_number!r} are wrong")
    return "".join(parts).ljust(24, "0")


def hungarian_iban(account_number: str) -> str:
    """HU + ISO 7064 mod 97-10 check digits + the 24 digits of the account."""
    bban = account_digits(account_number)
    numeric = bban + "1730" + "00"  # H=17, U=30, check digits 00 while computing
    return f"HU{98 - int(numeric) % 97:02d}{bban}"


def full_account_number(account_number: str) -> str:
    """The account as 3×8 digits with dashes (a 2×8 one gets its zeros)."""
    digits = account_digits(account_number)
    return "-".join(digits[i : i + 8] for i in (0, 8, 16))


def valid_until(as_of: date, days: int) -> str:
    """End of the day `days` after `as_of` in Budapest, as the guideline writes it: YYYYMMDDhhmmss+Z (Z: hours
    from UTC, one digit)."""
    last = min(as_of, date.max - timedelta(days=days)) + timedelta(days=days)  # as_of may be 9999-12-31
    moment = datetime.combine(last, time(23, 59, 59), BUDAPEST)
    offset_hours = int(moment.utcoffset().total_seconds() // 3600)  # type: ignore[union-attr]
    return moment.strftime("%Y%m%d%H%M%S") + f"{offset_hours:+d}"


def hct_payload(fields: dict[str, str]) -> str:
    """The QR text: every one of the 17 elements in order, each ended by LF (missing ones empty)."""
    for name, limit in MAX_LENGTH.items():
        if len(fields.get(name, "")) > limit:
            raise ValueError(f"HCT field {name} is longer than {limit} characters")
    for value in fields.values():
        if "\n" in value or "\r" in value:
            raise ValueError("an HCT field must not contain a line break")
    return "".join(fields.get(name, "") + "\n" for name in HCT_FIELDS)


def hct_fields(vendor: dict[str, Any], amount: int, reference: str, as_of: date) -> dict[str, str]:
    """The HCT elements of one credit transfer to the vendor."""
    bic = str(vendor["bic"])
    return {
        "identification_code": "HCT",
        "version": "001",
        "character_set": "1",  # UTF-8
        "bic": bic + "XXX" if len(bic) == 8 else bic,  # the guideline wants the 11-character BIC
        "name": str(vendor["beneficiary"])[:70],
        "iban": hungarian_iban(str(vendor["account_number"])),
        "amount": f"HUF{amount}",
        "valid_until": valid_until(as_of, int(vendor["qr_valid_days"])),
        "remittance": reference[:70],
    }


def payment_block(balance: int, customer_code: str, as_of: date, vendor: dict[str, Any]) -> dict[str, Any] | None:
    """What to pay and where, with the QR payload; None when nothing is owed."""
    if balance <= 0:
        return None
    account = str(vendor["account_number"])
    return {
        "beneficiary": vendor["beneficiary"],
        "account_number": full_account_number(account),
        "iban": hungarian_iban(account),
        "bic": vendor["bic"],
        "amount": balance,
        "currency": "HUF",
        "reference": customer_code,
        "qr": hct_payload(hct_fields(vendor, balance, customer_code, as_of)),
    }
