"""Event loads for each of the four services, with the rows its read model must hold computed by hand from the
published events (the independent oracle of the fault scenarios), and generic snapshots of a read model.

The ledger's load and oracle are tests/support/ledger.py; this module adds contracts, tickets and quota in the
same shape, and `service_load(name, ...)` returns any of the four. The rules the oracles follow are the
documented ones (docs/decisions.md), written here again by test code, never by calling the services' own code:

- contracts: every fact is a row as received (item changes, terminations, customer details, passwords, price
  lists); a contract re-signed under the same id replaces its contract row.
- tickets: a call's status, closing and handler follow the events' own timestamps (the latest wins, whatever
  order they arrive in); minutes add up once per work id.
- quota: the first invoice / cancellation / opening / work log of a number or id wins; a price list republished
  for the same day replaces the earlier one; only support-fee and overrun invoices are kept.
"""

from __future__ import annotations

import importlib
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql

from shared.readmodel import connections as db
from tests.support import domain, ledger
from tests.support.events import envelope
from tests.support.infra import ROOT

SERVICES = ("contracts", "ledger", "tickets", "quota")
TOPICS = {
    "contracts": ["contracts"],
    "ledger": ["invoices", "license-codes", "payments"],
    "tickets": ["support-calls"],
    "quota": ["contracts", "invoices", "support-calls"],
}
DAY0 = date(2026, 1, 1)
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class Load:
    """Events per topic in publish order (repeats included) and the rows the read model must hold."""

    service: str
    events: dict[str, list[dict[str, Any]]]
    expected: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.events.values())

    @property
    def ids(self) -> set[str]:
        return {e["id"] for events in self.events.values() for e in events}

    @property
    def applied_ids(self) -> set[str]:
        """The ids the projection applies: events of the types it uses (the others are skipped and counted)."""
        uses = importlib.import_module(f"services.{self.service}.projection").PROJECTION.uses
        return {e["id"] for events in self.events.values() for e in events if uses(e["type"])}


def service_load(service: str, count: int, seed: int) -> Load:
    """About `count` events for `service`, with its hand-computed rows."""
    if service == "ledger":
        made = ledger.make_load(count, customers=max(count // 60, 20), seed=seed)
        return Load("ledger", made.events, _sorted(ledger.expected_rows(made)))
    return {"contracts": contracts_load, "tickets": tickets_load, "quota": quota_load}[service](count, seed)


def _repeat(rng: random.Random, events: dict[str, list[dict]], share: float = 0.03) -> None:
    """Exact repeats (same id) of a few events, later in the same topic: they must change nothing."""
    for items in events.values():
        for _ in range(int(len(items) * share)):
            position = rng.randrange(len(items))
            items.insert(rng.randrange(position, len(items) + 1), items[position])


def _distinct(events: list[dict]) -> list[dict]:
    """The events in order, each id once (what a projector applies)."""
    seen: set[str] = set()
    return [e for e in events if not (e["id"] in seen or seen.add(e["id"]))]


# ---- contracts -------------------------------------------------------------------------------------------------


def contracts_load(count: int, seed: int) -> Load:
    rng, events = random.Random(seed), []
    customers = [f"K{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}" for _ in range(max(count // 25, 10))]
    contracts: dict[str, list[tuple[str, list[str]]]] = {c: [] for c in customers}
    events.append(domain.price_list(DAY0))
    while len(events) < count:
        customer, roll = rng.choice(customers), rng.random()
        day = DAY0 + timedelta(days=rng.randint(0, 300))
        if roll < 0.25 or not contracts[customer]:
            reuse = contracts[customer] and rng.random() < 0.1  # the same contract id signed again: replaces it
            contract_id = contracts[customer][0][0] if reuse else f"{customer}-C{len(contracts[customer]) + 1}"
            serials = [f"{contract_id}-S{n}" for n in range(rng.randint(1, 3))]
            items = [
                domain.item(s, rng.choice(list(domain.PRODUCTS)), rng.randint(1, 5), rng.choice(["purchase", "rental"]))
                for s in serials
            ]
            events.append(
                domain.contract_signed(
                    customer,
                    day,
                    day + timedelta(days=rng.randint(0, 30)),
                    items,
                    name=f"Ügyfél {customer}",
                    contract_id=contract_id,
                )
            )
            if not reuse:
                contracts[customer].append((contract_id, serials))
            continue
        contract_id, serials = rng.choice(contracts[customer])
        base = {"contract_id": contract_id, "customer_code": customer, "effective_on": day.isoformat()}
        if roll < 0.40:
            serial = f"{contract_id}-A{uuid.UUID(int=rng.getrandbits(128)).hex[:6]}"
            serials.append(serial)
            events.append(envelope("contract.item_added", customer, {**base, "item": domain.item(serial, "BER")}))
        elif roll < 0.50:
            events.append(envelope("contract.item_removed", customer, {**base, "serial_number": rng.choice(serials)}))
        elif roll < 0.65:
            events.append(
                envelope(
                    "contract.item_quantity_changed",
                    customer,
                    {**base, "serial_number": rng.choice(serials), "quantity": rng.randint(1, 9)},
                )
            )
        elif roll < 0.80:
            events.append(
                envelope(
                    "contract.customer_details_changed",
                    customer,
                    {
                        "customer_code": customer,
                        "effective_on": day.isoformat(),
                        **rng.choice(
                            [
                                {"city": rng.choice(["Szeged", "Pécs", "Győr"])},
                                {"email": f"x{rng.randint(1, 99)}@ceg.hu"},
                                {"name": f"Új név {rng.randint(1, 99)} Kft.", "postal_code": "1011"},
                            ]
                        ),
                    },
                )
            )
        elif roll < 0.85:
            events.append(
                envelope(
                    "contract.terminated",
                    customer,
                    {"contract_id": contract_id, "customer_code": customer, "terminated_on": day.isoformat()},
                )
            )
        elif roll < 0.95:
            events.append(
                envelope(
                    "customer.portal_password_set",
                    customer,
                    {
                        "customer_code": customer,
                        "password_hash": f"$argon2id$v=19$m=65536,t=3,p=4$test${rng.getrandbits(64):x}",
                    },
                )
            )
        elif roll < 0.98:
            events.append(envelope("customer.portal_password_removed", customer, {"customer_code": customer}))
        else:
            events.append(domain.price_list(DAY0 + timedelta(days=rng.randint(1, 400)), rng.choice([5, 27])))
    topic = {"contracts": events}
    _repeat(rng, topic)
    return Load("contracts", topic, contracts_expected(_distinct(topic["contracts"])))


CUSTOMER_FIELDS = ("name", "postal_code", "city", "street_address", "tax_number", "email")
ITEM_FIELDS = ("product_code", "product_name", "quantity", "license_type")


def contracts_expected(events: list[dict]) -> dict[str, list[dict]]:
    contracts: dict[str, dict] = {}
    rows: dict[str, list[dict]] = {
        t: []
        for t in (
            "contract_item_changes",
            "contract_terminations",
            "customer_detail_changes",
            "portal_password_changes",
            "price_lists",
        )
    }
    for event in events:
        data, kind = event["data"], event["type"]
        item_row = {
            "contract_id": data.get("contract_id"),
            "customer_code": data.get("customer_code"),
            **dict.fromkeys(ITEM_FIELDS),
        }
        if kind == "contract.signed":
            contracts[data["contract_id"]] = {
                k: data[k] for k in ("contract_id", "customer_code", "signed_on", "starts_on")
            }
            rows["customer_detail_changes"].append(
                {
                    "customer_code": data["customer_code"],
                    "effective_on": data["signed_on"],
                    "details": {k: v for k, v in data["customer"].items() if k in CUSTOMER_FIELDS},
                }
            )
            rows["contract_item_changes"] += [
                {**item_row, "kind": "signed", "effective_on": data["signed_on"], **item} for item in data["items"]
            ]
        elif kind == "contract.item_added":
            rows["contract_item_changes"].append(
                {**item_row, "kind": "added", "effective_on": data["effective_on"], **data["item"]}
            )
        elif kind == "contract.item_removed":
            rows["contract_item_changes"].append(
                {
                    **item_row,
                    "kind": "removed",
                    "effective_on": data["effective_on"],
                    "serial_number": data["serial_number"],
                }
            )
        elif kind == "contract.item_quantity_changed":
            rows["contract_item_changes"].append(
                {
                    **item_row,
                    "kind": "quantity_changed",
                    "effective_on": data["effective_on"],
                    "serial_number": data["serial_number"],
                    "quantity": data["quantity"],
                }
            )
        elif kind == "contract.customer_details_changed":
            rows["customer_detail_changes"].append(
                {
                    "customer_code": data["customer_code"],
                    "effective_on": data["effective_on"],
                    "details": {k: v for k, v in data.items() if k in CUSTOMER_FIELDS},
                }
            )
        elif kind == "contract.terminated":
            rows["contract_terminations"].append(
                {k: data[k] for k in ("contract_id", "customer_code", "terminated_on")}
            )
        elif kind == "customer.portal_password_set":
            rows["portal_password_changes"].append(
                {
                    "customer_code": data["customer_code"],
                    "password_hash": data["password_hash"],
                    "changed_at": _time(event["time"]),
                }
            )
        elif kind == "customer.portal_password_removed":
            rows["portal_password_changes"].append(
                {"customer_code": data["customer_code"], "password_hash": None, "changed_at": _time(event["time"])}
            )
        elif kind == "price_list.published":
            rows["price_lists"].append(
                {k: data[k] for k in ("valid_from", "currency", "vat_rate", "products", "quota_tiers")}
            )
    return _sorted({"contracts": list(contracts.values()), **rows})


# ---- tickets ---------------------------------------------------------------------------------------------------


def _call_events(rng: random.Random, customer: str, call_id: str, start: datetime) -> list[dict]:
    """One call's events with distinct, increasing timestamps; a few published out of order."""
    moments = iter(start + timedelta(minutes=7 * n + rng.randint(0, 5)) for n in range(100))
    at = lambda: next(moments).isoformat().replace("+00:00", "Z")  # noqa: E731
    opening = {
        "category": rng.choice(["bug_report", "help_request", "development_request", "consultation"]),
        "channel": rng.choice(["phone", "email", "portal", "remote"]),
        "subject": f"Kérdés {call_id}",
    }
    if rng.random() < 0.5:
        opening["serial_number"] = f"{customer}-1"
    if rng.random() < 0.5:
        opening["description"] = f"Leírás {call_id}"
    events = [domain.call_event("opened", customer, call_id, at(), **opening)]
    for n in range(rng.randint(0, 8)):
        roll = rng.random()
        if roll < 0.25:
            events.append(
                domain.call_event("assigned", customer, call_id, at(), assignee=rng.choice(["Kiss Anna", "Nagy Béla"]))
            )
        elif roll < 0.45:
            events.append(
                domain.call_event(
                    "status_changed",
                    customer,
                    call_id,
                    at(),
                    status=rng.choice(["in_progress", "waiting_for_customer"]),
                )
            )
        elif roll < 0.75:
            events.append(
                domain.call_event(
                    "work_logged",
                    customer,
                    call_id,
                    at(),
                    work_id=f"{call_id}-W{n}",
                    staff="Kiss Anna",
                    minutes=rng.randint(5, 90),
                    description="munka",
                    chargeable=rng.random() < 0.7,
                )
            )
        elif roll < 0.9:
            events.append(domain.call_event("closed", customer, call_id, at(), resolution=f"Megoldva {n}"))
        else:
            events.append(domain.call_event("reopened", customer, call_id, at(), reason="Újra hibás"))
    if len(events) > 2 and rng.random() < 0.3:  # a late arrival: two events swapped (even the opening)
        i = rng.randrange(len(events) - 1)
        events[i], events[i + 1] = events[i + 1], events[i]
    return events


def tickets_load(count: int, seed: int) -> Load:
    rng = random.Random(seed)
    customers = [f"T{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}" for _ in range(max(count // 40, 10))]
    events: list[dict] = []
    n = 0
    while len(events) < count:
        customer = rng.choice(customers)
        n += 1
        events += _call_events(rng, customer, f"{customer}-H{n}", T0 + timedelta(hours=n))
    topic = {"support-calls": events}
    _repeat(rng, topic)
    return Load("tickets", topic, tickets_expected(_distinct(events)))


STATUS_OF = {
    "support_call.opened": "registered",
    "support_call.closed": "closed",
    "support_call.reopened": "in_progress",
}
MOMENT = {
    "support_call.opened": "opened_at",
    "support_call.assigned": "assigned_at",
    "support_call.status_changed": "changed_at",
    "support_call.work_logged": "performed_at",
    "support_call.closed": "closed_at",
    "support_call.reopened": "reopened_at",
}


# What each kind of event tells about a call in its story (portal-api section 9), beyond its moment.
HISTORY_FACTS = {
    "opened": ("category", "channel", "subject", "serial_number", "description"),
    "assigned": ("assignee",),
    "status_changed": ("status", "note"),
    "work_logged": ("work_id", "staff", "minutes", "chargeable", "description"),
    "customer_replied": ("message",),
    "closed": ("resolution",),
    "reopened": ("reason",),
}


def tickets_history(events: list[dict]) -> list[dict]:
    """One history row per applied event; a work log repeated under a new id adds none."""
    rows, work_ids = [], set()
    for event in _distinct(events):
        data, kind = event["data"], event["type"].removeprefix("support_call.")
        if kind == "work_logged":
            if data["work_id"] in work_ids:
                continue
            work_ids.add(data["work_id"])
        rows.append(
            {
                "event_id": event["id"],
                "customer_code": data["customer_code"],
                "call_id": data["call_id"],
                "kind": kind,
                "at": _time(data[MOMENT[event["type"]]]),
                "facts": {name: data.get(name) for name in HISTORY_FACTS[kind]},
            }
        )
    return rows


def tickets_expected(events: list[dict]) -> dict[str, list[dict]]:
    by_call: dict[tuple[str, str], list[dict]] = {}
    for event in events:
        by_call.setdefault((event["data"]["customer_code"], event["data"]["call_id"]), []).append(event)
    calls, work = [], {}
    for (customer, call_id), mine in by_call.items():
        moment = {id(e): _time(e["data"][MOMENT[e["type"]]]) for e in mine}
        statuses = [e for e in mine if e["type"] in STATUS_OF or e["type"] == "support_call.status_changed"]
        status = max(statuses, key=lambda e: moment[id(e)])
        assigned = [e for e in mine if e["type"] == "support_call.assigned"]
        assignee = max(assigned, key=lambda e: moment[id(e)]) if assigned else None
        opening = next(e["data"] for e in mine if e["type"] == "support_call.opened")
        logs = [e["data"] for e in mine if e["type"] == "support_call.work_logged"]
        closed = status["type"] == "support_call.closed"
        calls.append(
            {
                "customer_code": customer,
                "call_id": call_id,
                "opened_at": _time(opening["opened_at"]),
                **{k: opening.get(k) for k in ("category", "channel", "subject", "serial_number", "description")},
                "status": STATUS_OF.get(status["type"]) or status["data"]["status"],
                "status_at": moment[id(status)],
                "closed_at": moment[id(status)] if closed else None,
                "resolution": status["data"]["resolution"] if closed else None,
                "assignee": assignee["data"]["assignee"] if assignee else None,
                "assignee_at": moment[id(assignee)] if assignee else None,
                "last_update_at": max(moment.values()),
                "minutes_logged": sum(w["minutes"] for w in logs),
            }
        )
        for w in logs:
            work[w["work_id"]] = {
                "work_id": w["work_id"],
                "customer_code": customer,
                "call_id": call_id,
                "performed_at": _time(w["performed_at"]),
                "staff": w["staff"],
                "minutes": w["minutes"],
                "description": w["description"],
                "chargeable": w["chargeable"],
            }
    return _sorted(
        {
            "support_call": calls,
            "support_call_work": list(work.values()),
            "support_call_history": tickets_history(events),
        }
    )


# ---- quota -----------------------------------------------------------------------------------------------------


def quota_load(count: int, seed: int) -> Load:
    rng = random.Random(seed)
    customers = [f"Q{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}" for _ in range(max(count // 40, 10))]
    topics: dict[str, list[dict]] = {"contracts": [domain.price_list(DAY0)], "invoices": [], "support-calls": []}
    numbers: dict[str, list[str]] = {c: [] for c in customers}
    n = 0
    while sum(len(v) for v in topics.values()) < count:
        customer, roll = rng.choice(customers), rng.random()
        n += 1
        start = DAY0 + timedelta(days=rng.randint(0, 200))
        if roll < 0.25:
            kind = rng.choice(["annual_support_fee", "annual_support_fee", "quota_overrun", "other"])
            number = f"{customer}-E{n}"
            numbers[customer].append(number)
            topics["invoices"].append(
                domain.invoice(
                    customer,
                    number,
                    start,
                    rng.randint(10_000, 400_000),
                    kind,
                    support_year=(start, start + timedelta(days=364)) if kind != "other" else None,
                    overrun_minutes=rng.randint(1, 300) if kind == "quota_overrun" else None,
                )
            )
        elif roll < 0.32 and numbers[customer]:
            topics["invoices"].append(domain.cancellation(customer, rng.choice(numbers[customer]), start))
        elif roll < 0.36:
            topics["invoices"].append(
                domain.cancellation(customer, f"{customer}-E{n + 1}", start)
            )  # before its invoice
        elif roll < 0.98:
            topics["support-calls"] += _call_events(rng, customer, f"{customer}-H{n}", T0 + timedelta(hours=n))
        else:
            topics["contracts"].append(domain.price_list(DAY0 + timedelta(days=rng.randint(0, 40)), 27))
    _repeat(rng, topics)
    return Load("quota", topics, quota_expected({t: _distinct(v) for t, v in topics.items()}))


def quota_expected(topics: dict[str, list[dict]]) -> dict[str, list[dict]]:
    invoices: dict[str, dict] = {}
    cancellations: dict[str, dict] = {}
    calls: dict[str, dict] = {}
    work: dict[str, dict] = {}
    prices: dict[str, dict] = {}
    for event in topics["invoices"]:
        data = event["data"]
        if event["type"] == "invoice.issued" and data["kind"] in ("annual_support_fee", "quota_overrun"):
            invoices.setdefault(
                data["invoice_number"],
                {
                    **{
                        k: data[k]
                        for k in ("invoice_number", "customer_code", "kind", "issued_on", "net_amount", "gross_amount")
                    },
                    "year_starts_on": data["support_year"]["starts_on"],
                    "year_ends_on": data["support_year"]["ends_on"],
                    "overrun_minutes": data.get("overrun_minutes"),
                },
            )
        elif event["type"] == "invoice.cancelled":
            cancellations.setdefault(
                data["invoice_number"], {k: data[k] for k in ("invoice_number", "customer_code", "cancelled_on")}
            )
    for event in topics["support-calls"]:
        data = event["data"]
        if event["type"] == "support_call.opened":
            calls.setdefault(data["call_id"], {k: data[k] for k in ("call_id", "customer_code", "subject")})
        elif event["type"] == "support_call.work_logged":
            work.setdefault(
                data["work_id"],
                {
                    **{
                        k: data[k]
                        for k in (
                            "work_id",
                            "call_id",
                            "customer_code",
                            "staff",
                            "minutes",
                            "description",
                            "chargeable",
                        )
                    },
                    "performed_at": _time(data["performed_at"]),
                },
            )
    for event in topics["contracts"]:
        if event["type"] == "price_list.published":
            prices[event["data"]["valid_from"]] = {
                "valid_from": event["data"]["valid_from"],
                "quota_tiers": event["data"]["quota_tiers"],
            }
    return _sorted(
        {
            "quota_invoice": list(invoices.values()),
            "quota_invoice_cancellation": list(cancellations.values()),
            "quota_support_call": list(calls.values()),
            "quota_work_log": list(work.values()),
            "quota_price_list": list(prices.values()),
        }
    )


# ---- comparing read models -------------------------------------------------------------------------------------


def _time(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row.items()}


def _key(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def _sorted(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {t: sorted((_plain_row(r) for r in rows), key=_key) for t, rows in tables.items()}


# Bookkeeping serials: their values depend on rolled-back transactions, only their order means something.
SERIALS = ("arrival", "applied")


def tables(service: str) -> list[str]:
    """The read-model tables of a service, from its schema.sql."""
    ddl = (ROOT / "services" / service / "schema.sql").read_text()
    return re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", ddl)


def facts(service: str, database_url: str) -> dict[str, list[dict]]:
    """Every read-model table's rows without `arrival` (a bookkeeping serial), in the oracle's shape and order."""
    found = {}
    with db.connect(database_url) as conn:
        for table in tables(service):
            rows = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))).fetchall()
            found[table] = [{k: v for k, v in r.items() if k not in SERIALS} for r in rows]
    return _sorted(found)


def snapshot(service: str, database_url: str) -> dict[str, list]:
    """The read model with `arrival` as its rank within the customer (or the table), plus the runtime's
    bookkeeping: what a killed-and-restarted projector must share with a clean rebuild."""
    result: dict[str, list] = {}
    with db.connect(database_url) as conn:
        for table in tables(service):
            columns = [
                r["column_name"]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "AND table_schema = current_schema()",
                    (table,),
                )
            ]
            rank = sql.SQL("")
            serial = next((c for c in SERIALS if c in columns), None)
            if serial:
                over = (
                    sql.SQL("PARTITION BY customer_code ORDER BY {}")
                    if "customer_code" in columns
                    else sql.SQL("ORDER BY {}")
                )
                rank = sql.SQL(", rank() OVER ({}) AS arrival_rank").format(over.format(sql.Identifier(serial)))
            rows = conn.execute(sql.SQL("SELECT *{} FROM {}").format(rank, sql.Identifier(table))).fetchall()
            result[table] = sorted(
                (_plain_row({k: v for k, v in r.items() if k not in SERIALS}) for r in rows), key=_key
            )
        result.update(ledger.bookkeeping(conn))
    return result


def projector_env(service: str, database_url: str, prefix: str, group: str, **extra: str) -> dict[str, str]:
    """Environment of one service's real projector on a test database, topic prefix and consumer group."""
    from tests.support.procs import projector_env as base

    return base(
        database_url,
        prefix,
        group,
        **{f"{service.upper()}_DATABASE_URL": database_url},
        PROJECTOR_POLL_TIMEOUT_MS="100",
        LOG_LEVEL="INFO",
        **extra,
    )


def module(service: str) -> str:
    return f"services.{service}.projector"


def figures_path() -> Path:
    return ROOT / ".run" / "test-figures.jsonl"
