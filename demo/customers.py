"""Customer plans: identities, contracts and the random changes of ordinary customers."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta

from demo.catalog import CITIES, COMPANY_PATTERNS, STREETS, SURNAMES, PriceList
from demo.dates import anniversary, random_day
from demo.model import Contract, Customer, Item, Timeline

QUANTITIES = (1, 1, 1, 2, 2, 3, 4, 5)
RENTAL_SHARE_PERCENT = 30


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of a Hungarian text (for e-mail domains)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


def new_customer(number: int, seed: int) -> Customer:
    """A customer with a Hungarian company name, address, tax number and e-mail."""
    rng = random.Random(f"customer-portal-demo/{seed}/C{number}")
    surname = rng.choice(SURNAMES)
    postal_code, city, county = rng.choice(CITIES)
    details = {
        "name": rng.choice(COMPANY_PATTERNS).format(surname),
        "postal_code": postal_code,
        "city": city,
        "street_address": street_address(rng),
        "tax_number": f"{rng.randint(10_000_000, 29_999_999)}-2-{county:02d}",
        "email": f"penzugy@{ascii_slug(surname)}{number}.hu",
    }
    return Customer(number, details, rng, payment_term=rng.choice((8, 15)))


def street_address(rng: random.Random) -> str:
    """A street and house number."""
    return f"{rng.choice(STREETS)} {rng.randint(1, 120)}."


def new_item(customer: Customer, price_list: PriceList, spec: tuple[str, int, str], added_on: date) -> Item:
    """An item of (product_code, quantity, license_type) with a fresh serial number."""
    product_code, quantity, license_type = spec
    product_name = price_list.products[product_code].name
    serial = customer.next_serial(added_on.year)
    return Item(serial, product_code, product_name, quantity, license_type, added_on)


def make_contract(
    customer: Customer, timeline: Timeline, starts_on: date, specs: list[tuple[str, int, str]], rental_months: int = 3
) -> Contract:
    """Sign a contract a few days before it starts, with items priced from the list in force then."""
    signed_on = starts_on - timedelta(days=customer.rng.randint(5, 20))
    price_list = timeline.price_list_on(starts_on)
    items = [new_item(customer, price_list, spec, starts_on) for spec in specs]
    contract_id = f"CT-{customer.number}-{len(customer.contracts) + 1:02d}"
    contract = Contract(contract_id, signed_on, starts_on, items, rental_months)
    customer.contracts.append(contract)
    return contract


def random_specs(rng: random.Random, price_list: PriceList, count: int) -> list[tuple[str, int, str]]:
    """`count` distinct products with random quantities and licence types."""
    codes = rng.sample(list(price_list.products), count)
    rental = [rng.randrange(100) < RENTAL_SHARE_PERCENT for _ in codes]
    return [
        (code, rng.choice(QUANTITIES), "rental" if r else "purchase") for code, r in zip(codes, rental, strict=True)
    ]


def plan_ordinary(customer: Customer, timeline: Timeline) -> None:
    """One or two contracts (the second co-termed with the first), random item and detail changes."""
    rng = customer.rng
    customer.habit = rng.choices(("prompt", "late", "partial"), weights=(60, 25, 15))[0]
    starts_on = random_day(rng, timeline.history_start + timedelta(days=20), timeline.horizon - timedelta(days=90))
    specs = random_specs(rng, timeline.price_list_on(starts_on), rng.randint(1, 3))
    make_contract(customer, timeline, starts_on, specs, rng.choice((1, 3, 3)))
    later = [anniversary(starts_on, year) for year in range(starts_on.year + 1, timeline.horizon.year + 1)]
    later = [day for day in later if day <= timeline.horizon - timedelta(days=30)]
    if later and rng.randrange(100) < 35:
        second_start = rng.choice(later)
        specs = random_specs(rng, timeline.price_list_on(second_start), rng.randint(1, 2))
        make_contract(customer, timeline, second_start, specs, rng.choice((1, 3)))
    for contract in customer.contracts:
        random_item_changes(customer, timeline, contract)
    if rng.randrange(100) < 20:
        changed_on = random_day(rng, starts_on + timedelta(days=30), timeline.horizon - timedelta(days=5))
        customer.details_changes.append((changed_on, {"email": f"konyveles@{ascii_slug(customer.details['name'])}.hu"}))


def random_item_changes(customer: Customer, timeline: Timeline, contract: Contract) -> None:
    """Up to three additions, quantity changes or removals; the first item always stays."""
    rng = customer.rng
    first, last = contract.starts_on + timedelta(days=45), timeline.horizon - timedelta(days=20)
    if first > last:
        return
    for day in sorted(random_day(rng, first, last) for _ in range(rng.randint(0, 3))):
        change = rng.choice((add_item, change_quantity, remove_item))
        change(customer, timeline, contract, day)


def add_item(customer: Customer, timeline: Timeline, contract: Contract, day: date) -> None:
    """Add a product the contract does not hold yet."""
    price_list = timeline.price_list_on(day)
    held = {item.product_code for item in contract.items_on(day)}
    choices = [code for code in price_list.products if code not in held]
    if choices:
        rng = customer.rng
        license_type = "rental" if rng.randrange(100) < RENTAL_SHARE_PERCENT else "purchase"
        item = new_item(customer, price_list, (rng.choice(choices), rng.choice(QUANTITIES), license_type), day)
        item.signed = False
        contract.items.append(item)


def change_quantity(customer: Customer, timeline: Timeline, contract: Contract, day: date) -> None:
    """Change the number of workstations of one item."""
    items = contract.items_on(day)
    if not items:
        return
    item = customer.rng.choice(items)
    current = item.quantity_on(day)
    item.quantity_changes.append((day, customer.rng.choice([q for q in range(1, 6) if q != current])))


def remove_item(customer: Customer, timeline: Timeline, contract: Contract, day: date) -> None:
    """Remove an item other than the contract's first."""
    removable = contract.items_on(day)[1:]
    if removable:
        customer.rng.choice(removable).removed_on = day
