"""Bank reconciliation: payments by each customer's habit, partial and late ones, refunds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from demo.billing import Invoice
from demo.dates import moment
from demo.envelope import Fact
from demo.model import Customer, Timeline

DOUBLE_PAYMENT_PERCENT = 2
ARREARS_DAYS = 100


@dataclass
class Payment:
    """Money received from a customer, naming an invoice or not."""

    customer_code: str
    received_on: date
    amount: int
    method: str = "bank_transfer"
    reference: str | None = None
    payment_id: str = ""


@dataclass
class Refund:
    """An overpayment paid back to the customer."""

    customer_code: str
    refunded_on: date
    amount: int
    refund_id: str = ""


class Ledger:
    """Collects one customer's payments and refunds, dropping those the horizon has not reached."""

    def __init__(self, customer: Customer, timeline: Timeline) -> None:
        self.customer, self.horizon = customer, timeline.horizon
        self.payments: list[Payment] = []
        self.refunds: list[Refund] = []

    def pay(self, invoice: Invoice, day: date, amount: int | None = None, reference: bool = True) -> None:
        """A payment of the invoice (in full unless `amount`), if it has happened by the horizon."""
        if day <= self.horizon:
            method = self.customer.rng.choices(("bank_transfer", "card", "cash"), weights=(90, 6, 4))[0]
            method = method if reference else "bank_transfer"
            named = invoice.invoice_number if reference else None
            self.payments.append(Payment(self.customer.code, day, amount or invoice.gross_amount, method, named))

    def refund(self, day: date, amount: int) -> None:
        """A refund, if it has happened by the horizon."""
        if day <= self.horizon:
            self.refunds.append(Refund(self.customer.code, day, amount))


def on_time(customer: Customer, invoice: Invoice) -> date:
    """A payment day within the payment term (never before the third day, after any storno)."""
    return invoice.issued_on + timedelta(days=customer.rng.randint(3, customer.payment_term))


def customer_payments(customer: Customer, timeline: Timeline, invoices: list[Invoice]) -> Ledger:
    """Payments and refunds of one customer's invoices that were never cancelled."""
    ledger = Ledger(customer, timeline)
    payable = sorted((i for i in invoices if i.cancelled_on is None), key=lambda i: (i.issued_on, i.invoice_number))
    HABITS[customer.habit](ledger, payable)
    return ledger


def pays_by_habit(ledger: Ledger, invoices: list[Invoice], late_percent: int, partial_percent: int) -> None:
    """Ordinary payers: mostly on time, some late, some in two instalments, rarely twice by mistake."""
    rng = ledger.customer.rng
    for invoice in invoices:
        day = on_time(ledger.customer, invoice)
        if rng.randrange(100) < late_percent:
            day = invoice.due_on + timedelta(days=rng.randint(3, 45))
        if rng.randrange(100) < partial_percent:
            first = invoice.gross_amount * rng.randint(30, 70) // 100
            ledger.pay(invoice, day, first)
            ledger.pay(invoice, day + timedelta(days=rng.randint(15, 40)), invoice.gross_amount - first)
        else:
            ledger.pay(invoice, day)
        if rng.randrange(100) < DOUBLE_PAYMENT_PERCENT:
            ledger.pay(invoice, day + timedelta(days=2))
            ledger.refund(day + timedelta(days=rng.randint(10, 30)), invoice.gross_amount)


def pays_everything(ledger: Ledger, invoices: list[Invoice]) -> None:
    """Each invoice paid in full on time, and by the horizon at the latest."""
    for invoice in invoices:
        ledger.pay(invoice, min(on_time(ledger.customer, invoice), ledger.horizon))


def overpays(ledger: Ledger, invoices: list[Invoice]) -> None:
    """Pays everything and pays the latest annual fee twice, the second time without a reference."""
    pays_everything(ledger, invoices)
    annual = [
        i for i in invoices if i.kind == "annual_support_fee" and i.issued_on <= ledger.horizon - timedelta(days=10)
    ]
    ledger.pay(annual[-1], annual[-1].issued_on + timedelta(days=9), reference=False)


def settles(ledger: Ledger, invoices: list[Invoice]) -> None:
    """Pays everything; an early invoice was paid twice and the excess refunded."""
    pays_everything(ledger, invoices)
    doubled = invoices[0]
    ledger.pay(doubled, doubled.issued_on + timedelta(days=20))
    ledger.refund(doubled.issued_on + timedelta(days=35), doubled.gross_amount)


def falls_into_arrears(ledger: Ledger, invoices: list[Invoice]) -> None:
    """Pays (every third late) until about 100 days ago, then one part payment and nothing more."""
    cutoff = ledger.horizon - timedelta(days=ARREARS_DAYS)
    older = [i for i in invoices if i.issued_on < cutoff]
    for number, invoice in enumerate(older):
        late = number % 3 == 2
        ledger.pay(invoice, invoice.due_on + timedelta(days=20) if late else on_time(ledger.customer, invoice))
    recent = [i for i in invoices if i.issued_on >= cutoff]
    if recent:
        ledger.pay(recent[0], on_time(ledger.customer, recent[0]), recent[0].gross_amount // 3)


HABITS = {
    "prompt": lambda ledger, invoices: pays_by_habit(ledger, invoices, 10, 5),
    "late": lambda ledger, invoices: pays_by_habit(ledger, invoices, 40, 10),
    "partial": lambda ledger, invoices: pays_by_habit(ledger, invoices, 15, 30),
    "overpaid": overpays,
    "settled": settles,
    "arrears": falls_into_arrears,
}


def number_payments(payments: list[Payment], refunds: list[Refund]) -> None:
    """Give ids like P-2025-000042 and R-2025-00007, counted per year in date order."""
    payments_per_year: Counter[int] = Counter()
    for payment in sorted(payments, key=lambda p: (p.received_on, p.customer_code)):
        year = payment.received_on.year
        payments_per_year[year] += 1
        payment.payment_id = f"P-{year}-{payments_per_year[year]:06d}"
    refunds_per_year: Counter[int] = Counter()
    for refund in sorted(refunds, key=lambda r: (r.refunded_on, r.customer_code)):
        year = refund.refunded_on.year
        refunds_per_year[year] += 1
        refund.refund_id = f"R-{year}-{refunds_per_year[year]:05d}"


def payment_fact(payment: Payment) -> Fact:
    """A `payment.received` fact; `reference` only when the payer named an invoice."""
    data = {
        "payment_id": payment.payment_id,
        "customer_code": payment.customer_code,
        "received_on": payment.received_on.isoformat(),
        "amount": payment.amount,
        "method": payment.method,
    }
    if payment.reference:
        data["reference"] = payment.reference
    return Fact("payments", "payment.received", moment(payment.received_on, 10, 15), payment.customer_code, data)


def refund_fact(refund: Refund) -> Fact:
    """A `payment.refunded` fact."""
    data = {
        "refund_id": refund.refund_id,
        "customer_code": refund.customer_code,
        "refunded_on": refund.refunded_on.isoformat(),
        "amount": refund.amount,
    }
    return Fact("payments", "payment.refunded", moment(refund.refunded_on, 13, 0), refund.customer_code, data)


def payment_facts(ledger: Ledger) -> list[Fact]:
    """`payment.received` and `payment.refunded` facts of one customer."""
    return [payment_fact(p) for p in ledger.payments] + [refund_fact(r) for r in ledger.refunds]
