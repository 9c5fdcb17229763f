"""The demo's plan of the world: customers, their contracts and items, and the timeline."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from demo.catalog import PriceList

CUSTOMER_FIELDS = ("name", "postal_code", "city", "street_address", "tax_number", "email")


@dataclass(frozen=True)
class Timeline:
    """The demo's calendar: `horizon` is the last day on which facts happen (the day before today)."""

    today: date
    horizon: date
    history_start: date
    leap_day: date
    price_lists: tuple[PriceList, ...]

    def price_list_on(self, day: date) -> PriceList:
        """The price list in force on a day: the latest `valid_from` on or before it."""
        return max((p for p in self.price_lists if p.valid_from <= day), key=lambda p: p.valid_from)


@dataclass
class Item:
    """A contract item (one serial number) with its later changes."""

    serial_number: str
    product_code: str
    product_name: str
    quantity: int
    license_type: str
    added_on: date
    signed: bool = True
    removed_on: date | None = None
    quantity_changes: list[tuple[date, int]] = field(default_factory=list)

    def in_force(self, day: date) -> bool:
        """Signed items are in force with their contract; added ones from `added_on`; none after removal."""
        started = self.signed or self.added_on <= day
        return started and (self.removed_on is None or day < self.removed_on)

    def quantity_on(self, day: date) -> int:
        """The quantity in force on a day."""
        changes = [quantity for effective_on, quantity in self.quantity_changes if effective_on <= day]
        return changes[-1] if changes else self.quantity

    def as_data(self) -> dict:
        """The item as it appears in `contract.signed` and `contract.item_added`."""
        return {
            "serial_number": self.serial_number,
            "product_code": self.product_code,
            "product_name": self.product_name,
            "quantity": self.quantity,
            "license_type": self.license_type,
        }


@dataclass
class Contract:
    """A contract: signed, starting on `starts_on` (the anniversary), maybe terminated."""

    contract_id: str
    signed_on: date
    starts_on: date
    items: list[Item]
    rental_months: int = 3
    terminated_on: date | None = None

    def in_force(self, day: date) -> bool:
        """Signed on or before the day and not terminated on or before it."""
        return self.signed_on <= day and (self.terminated_on is None or day < self.terminated_on)

    def items_on(self, day: date) -> list[Item]:
        """Items in force on a day while the contract is."""
        return [item for item in self.items if item.in_force(day)] if self.in_force(day) else []

    def item_start(self, item: Item) -> date:
        """The day from which an item is billed and licensed."""
        return self.starts_on if item.signed else item.added_on


@dataclass
class Customer:
    """One demo customer and everything planned for it; `rng` drives all its random choices."""

    number: int
    details: dict[str, str]
    rng: random.Random
    payment_term: int
    habit: str = "prompt"
    contracts: list[Contract] = field(default_factory=list)
    details_changes: list[tuple[date, dict[str, str]]] = field(default_factory=list)
    password: str | None = None
    password_hash: str | None = None
    password_set_on: date | None = None
    password_removed_on: date | None = None
    flags: set[str] = field(default_factory=set)
    note: str = ""
    serial_count: int = 0

    @property
    def code(self) -> str:
        """The customer code, e.g. C1001."""
        return f"C{self.number}"

    def next_serial(self, year: int) -> str:
        """A new serial number, unique across the data set (it embeds the customer number)."""
        self.serial_count += 1
        return f"SN-{year}-{self.number % 10000:04d}{self.serial_count:02d}"

    def details_on(self, day: date) -> dict[str, str]:
        """Customer details in force on a day."""
        details = dict(self.details)
        for effective_on, change in sorted(self.details_changes, key=lambda entry: entry[0]):
            if effective_on <= day:
                details.update(change)
        return details

    def serials_on(self, day: date) -> list[str]:
        """Serial numbers in force on a day on contracts in force."""
        return [item.serial_number for contract in self.contracts for item in contract.items_on(day)]

    def login_serial(self, day: date) -> str | None:
        """The serial a demo login uses: the first one in force on the day."""
        serials = self.serials_on(day)
        return serials[0] if serials else None
