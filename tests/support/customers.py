"""A customer with data in every service, published through the whole system (for reliability and security)."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher

from shared.timeutil import today_budapest
from tests.support import domain
from tests.support.events import customer_code, envelope

DAY = timedelta(days=1)


def rich_customer(
    publish,
    name: str = "Teszt Kft.",
    password: str | None = None,  # noqa: ANN001
    settled: bool = False,
) -> dict:
    """Contract (a purchased and a rented item), support fee invoice of the current support year, two more
    invoices (the last one open unless `settled`), codes for both serials, three support calls with a work log.
    Returns what was made."""
    today = today_budapest()
    code = customer_code()
    year = (today - 100 * DAY, today + 264 * DAY)
    serials = [f"{code}-1", f"{code}-2"]
    contracts = [
        domain.price_list(),
        domain.contract_signed(
            code,
            today - 500 * DAY,
            year[0] - 365 * DAY,
            [domain.item(serials[0], "KONYV", 2), domain.item(serials[1], "BER", 1, "rental")],
            name=name,
        ),
    ]
    if password:
        contracts.append(
            envelope(
                "customer.portal_password_set",
                code,
                {"customer_code": code, "password_hash": PasswordHasher().hash(password)},
            )
        )
    publish("contracts", contracts, wait=False)
    publish(
        "invoices",
        [
            domain.invoice(code, f"{code}-E1", year[0], 190_500, "annual_support_fee", support_year=year),
            domain.invoice(code, f"{code}-I1", today - 60 * DAY, 127_000),
            domain.invoice(code, f"{code}-I2", today - 20 * DAY, 63_500),
        ],
        wait=False,
    )
    paid = 190_500 + 127_000 + (63_500 if settled else 0)
    publish("payments", [domain.paid(code, paid, today - 40 * DAY)], wait=False)
    publish(
        "license-codes",
        [
            domain.codes(code, serials[0], today - 60 * DAY, today + 300 * DAY),
            domain.codes(code, serials[1], today - 60 * DAY, today + 300 * DAY, "RENT-2"),
        ],
        wait=False,
    )
    call = domain.call_event
    at = (today - 10 * DAY).isoformat()
    publish(
        "support-calls",
        [
            call(
                "opened",
                code,
                f"{code}-H1",
                f"{at}T09:00:00Z",
                category="bug_report",
                channel="phone",
                subject=f"Nem nyomtat {code}",
                serial_number=serials[0],
            ),
            call("assigned", code, f"{code}-H1", f"{at}T09:05:00Z", assignee="Kiss Anna"),
            call(
                "work_logged",
                code,
                f"{code}-H1",
                f"{at}T10:00:00Z",
                work_id=f"{code}-W1",
                staff="Kiss Anna",
                minutes=45,
                description="javítás",
                chargeable=True,
            ),
            call("closed", code, f"{code}-H1", f"{at}T11:00:00Z", resolution="Javítva"),
            call(
                "opened",
                code,
                f"{code}-H2",
                f"{at}T12:00:00Z",
                category="help_request",
                channel="email",
                subject=f"Zárás kérdés {code}",
            ),
            call(
                "opened",
                code,
                f"{code}-H3",
                f"{at}T13:00:00Z",
                category="development_request",
                channel="portal",
                subject=f"Új riport {code}",
            ),
            call("status_changed", code, f"{code}-H3", f"{at}T14:00:00Z", status="waiting_for_customer"),
        ],
    )
    return {"code": code, "serials": serials, "name": name, "password": password, "year": year}
