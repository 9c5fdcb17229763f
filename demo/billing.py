"""Billing: annual support fees, rental fees, one-off services, cancellations (storno) and reissues."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

from demo.catalog import OTHER_SERVICES, VAT_RATE
from demo.dates import billing_periods, moment, random_day, support_years, vat_amount
from demo.envelope import Fact
from demo.model import Contract, Customer, Timeline

RENT_PERCENT_PER_MONTH = 12  # monthly rent as a share of the purchase support fee
CANCELLATION_PERCENT = 3


@dataclass
class Invoice:
    """An invoice as billing issued it; `clock` is the (hour, minute) of issue in UTC."""

    customer_code: str
    issued_on: date
    due_on: date
    kind: str
    description: str
    net_amount: int
    vat_amount: int
    gross_amount: int
    clock: tuple[int, int] = (7, 0)
    support_year: tuple[date, date] | None = None
    overrun_minutes: int | None = None
    serial_number: str | None = None
    invoice_number: str = ""
    cancelled_on: date | None = None
    cancel_reason: str | None = None


def new_invoice(customer: Customer, issued_on: date, kind: str, description: str, net: int, **extra) -> Invoice:
    """An invoice with 27% VAT rounded half up and the customer's payment term."""
    vat = vat_amount(net, VAT_RATE)
    due_on = issued_on + timedelta(days=customer.payment_term)
    return Invoice(customer.code, issued_on, due_on, kind, description, net, vat, net + vat, **extra)


def customer_invoices(customer: Customer, timeline: Timeline) -> list[Invoice]:
    """Every fee invoice up to the horizon, then cancellations with their corrected reissues."""
    invoices = [invoice for contract in customer.contracts for invoice in annual_fees(customer, timeline, contract)]
    invoices += [invoice for contract in customer.contracts for invoice in rental_fees(customer, timeline, contract)]
    invoices += other_services(customer, timeline)
    invoices.sort(key=lambda invoice: (invoice.issued_on, invoice.clock))
    return invoices + cancellations(customer, timeline, invoices)


def annual_fees(customer: Customer, timeline: Timeline, contract: Contract) -> list[Invoice]:
    """On each anniversary: the support fee of the purchased items, from the price list then in force."""
    invoices = []
    for begin, end in support_years(contract.starts_on, timeline.horizon):
        price_list = timeline.price_list_on(begin)
        purchased = [item for item in contract.items_on(begin) if item.license_type == "purchase"]
        net = sum(price_list.annual_fee(item.product_code, item.quantity_on(begin)) for item in purchased)
        if net:
            serial = purchased[0].serial_number if len(purchased) == 1 else None
            description = f"Éves támogatási díj {begin.isoformat()} – {end.isoformat()} ({contract.contract_id})"
            extra = {"support_year": (begin, end), "serial_number": serial}
            invoices.append(new_invoice(customer, begin, "annual_support_fee", description, net, **extra))
    return invoices


def rental_fees(customer: Customer, timeline: Timeline, contract: Contract) -> list[Invoice]:
    """Rent of each rental item for each monthly or quarterly period, billed on the period's first day."""
    invoices = []
    for item in (item for item in contract.items if item.license_type == "rental"):
        start = contract.item_start(item)
        for begin, end in billing_periods(start, contract.rental_months, timeline.horizon):
            if not contract.in_force(begin) or not item.in_force(begin):
                continue
            fee = timeline.price_list_on(begin).annual_fee(item.product_code, item.quantity_on(begin))
            net = (fee * RENT_PERCENT_PER_MONTH + 50) // 100 * contract.rental_months
            description = f"Bérleti díj {begin.isoformat()} – {end.isoformat()}: {item.product_name}"
            extra = {"serial_number": item.serial_number, "clock": (7, 30)}
            invoices.append(new_invoice(customer, begin, "rental_fee", description, net, **extra))
    return invoices


def other_services(customer: Customer, timeline: Timeline) -> list[Invoice]:
    """Now and then a one-off service: training, on-site visit, data conversion."""
    rng = customer.rng
    first = min(contract.starts_on for contract in customer.contracts) + timedelta(days=20)
    invoices = []
    for _ in range(rng.randint(0, 3)):
        issued_on = random_day(rng, first, timeline.horizon)
        description, net = rng.choice(OTHER_SERVICES)
        invoices.append(new_invoice(customer, issued_on, "other", description, net, clock=(9, rng.randint(0, 59))))
    return invoices


def cancellations(customer: Customer, timeline: Timeline, invoices: list[Invoice]) -> list[Invoice]:
    """Cancel a few invoices a day or two after issue; fee invoices are reissued the same day."""
    reissues = []
    forced = "cancel_first_annual" in customer.flags
    for invoice in invoices:
        chosen = customer.rng.randrange(100) < CANCELLATION_PERCENT
        if forced and invoice.kind == "annual_support_fee":
            chosen, forced = True, False
        cancelled_on = invoice.issued_on + timedelta(days=customer.rng.randint(1, 2))
        if not chosen or cancelled_on > timeline.horizon:
            continue
        invoice.cancelled_on = cancelled_on
        if invoice.kind == "other":
            invoice.cancel_reason = "Téves számlázás"
            continue
        invoice.cancel_reason = "Hibás vevőadatok"
        due_on = cancelled_on + timedelta(days=customer.payment_term)
        reissues.append(replace(invoice, issued_on=cancelled_on, due_on=due_on, clock=(9, 35), cancelled_on=None))
    return reissues


def number_invoices(invoices: list[Invoice]) -> None:
    """Give invoice numbers like SZ-2025-00042, counted per year in issue order."""
    per_year: Counter[int] = Counter()
    for invoice in sorted(invoices, key=lambda i: (i.issued_on, i.clock, i.customer_code)):
        per_year[invoice.issued_on.year] += 1
        invoice.invoice_number = f"SZ-{invoice.issued_on.year}-{per_year[invoice.issued_on.year]:05d}"


def invoice_facts(invoice: Invoice) -> list[Fact]:
    """`invoice.issued`, and `invoice.cancelled` when it was cancelled."""
    data = {
        "invoice_number": invoice.invoice_number,
        "customer_code": invoice.customer_code,
        "issued_on": invoice.issued_on.isoformat(),
        "due_on": invoice.due_on.isoformat(),
        "kind": invoice.kind,
        "description": invoice.description,
        "net_amount": invoice.net_amount,
        "vat_amount": invoice.vat_amount,
        "gross_amount": invoice.gross_amount,
        "currency": "HUF",
    }
    if invoice.support_year:
        data["support_year"] = {
            "starts_on": invoice.support_year[0].isoformat(),
            "ends_on": invoice.support_year[1].isoformat(),
        }
    if invoice.overrun_minutes is not None:
        data["overrun_minutes"] = invoice.overrun_minutes
    if invoice.serial_number:
        data["serial_number"] = invoice.serial_number
    issued = Fact("invoices", "invoice.issued", moment(invoice.issued_on, *invoice.clock), invoice.customer_code, data)
    return [issued, cancellation_fact(invoice, invoice.cancelled_on)] if invoice.cancelled_on else [issued]


def cancellation_fact(invoice: Invoice, cancelled_on: date) -> Fact:
    """`invoice.cancelled` (storno) of an invoice."""
    data = {
        "invoice_number": invoice.invoice_number,
        "customer_code": invoice.customer_code,
        "cancelled_on": cancelled_on.isoformat(),
        "reason": invoice.cancel_reason,
    }
    return Fact("invoices", "invoice.cancelled", moment(cancelled_on, 9, 30), invoice.customer_code, data)
