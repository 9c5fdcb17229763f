"""`python -m bench.calls`: the CPU of three parts of a query, each the way the code does it now and the ways it
did before or could, in one process, one thread, alternately; median microseconds per call.

- the ledger's four fact queries of one balance (`services/ledger/queries.py`): one `UNION ALL` of plain rows
  (`TypedUnion`, change 26, now), a psycopg pipeline of the four with dict rows (before it), the four as JSON
  sets in one statement (`RowSets`, change 20), the four on one cursor with plain rows;
- the gateway's call of a service (`gateway/clients.py`): its own HTTP/1.1 connection (change 27, now), and
  `http.client` on one kept-alive connection (change 21, before it), each a GET of a balance from a running
  ledger API and the whole answer read;
- a query's arguments (`shared/web/argmemo.py`): loaded again from a query string loaded before (change 28,
  now), and loaded every time (before it), at the gateway (webargs, `BalanceArgs`) and at the ledger API
  (marshmallow, its `BalanceQuery`).

A small system of its own (20,000 events by default, rebuilt with this tree; the ledger API under Granian as
the stack runs it), 50 active customers in turn. CPU time of this process per call, so the ledger API's and
PostgreSQL's work for a call is not in it: the figures are the caller's side. Writes a `table` result (`calls`).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
from flask import Flask
from psycopg.rows import dict_row, tuple_row

from bench import report
from bench.dataset import cached
from bench.infra import INTERNAL_TOKEN, ROOT
from bench.throughput import small_system
from gateway.clients import ServiceClient, customer_path
from gateway.openapi import ProblemParser
from services.ledger import queries
from services.ledger.routes import BALANCE_QUERY
from shared.api.ledger import BalanceArgs
from shared.readmodel import pointer
from shared.readmodel.connections import READ_MODEL_SCHEMA
from shared.readmodel.rowsets import RowSets
from shared.timeutil import today_budapest
from shared.web import app as service_app

Way = Callable[[int], Any]
DATES = ("issued_on", "due_on", "cancelled_on", "received_on", "refunded_on", "valid_from", "valid_until")


def fact_ways(conn: psycopg.Connection[Any], params: list[dict[str, Any]]) -> dict[str, Way]:
    kinds = queries.FACTS.kinds
    json_sets = RowSets({name: query for name, (query, _, _) in kinds.items()}, DATES)
    cursor = conn.cursor(row_factory=tuple_row)

    def pipeline(i: int) -> Any:
        with conn.pipeline():
            cursors = {
                name: conn.cursor(row_factory=dict_row).execute(q, params[i]) for name, (q, _, _) in kinds.items()
            }
            return {name: [kinds[name][1](**row) for row in cur.fetchall()] for name, cur in cursors.items()}

    def rowsets(i: int) -> Any:
        found = json_sets.fetch(conn, params[i])
        return {name: [kinds[name][1](**row) for row in rows] for name, rows in found.items()}

    def one_cursor(i: int) -> Any:
        return {
            name: [kind(*row) for row in cursor.execute(q, params[i]).fetchall()]
            for name, (q, kind, _) in kinds.items()
        }

    return {
        "one UNION ALL, plain rows (TypedUnion; now)": lambda i: queries.FACTS.fetch(conn, params[i]),
        "pipeline of the four, dict rows (before)": pipeline,
        "one statement of JSON sets (RowSets)": rowsets,
        "the four on one cursor, plain rows": one_cursor,
    }


def client_ways(base: str, paths: list[str], params: list[dict[str, Any]]) -> dict[str, Way]:
    client = ServiceClient("ledger", base, INTERNAL_TOKEN, (2.0, 10.0))
    url = urlsplit(base)
    kept = HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    headers = {"X-Internal-Token": INTERNAL_TOKEN, "X-Request-ID": "bench"}

    def own(i: int) -> bytes:
        answer = client.send("GET", paths[i], params=params[i], request_id="bench")
        assert answer.status_code == 200
        return answer.content

    def stdlib(i: int) -> bytes:
        kept.request("GET", paths[i] + "?" + urlencode(params[i]), headers=headers)
        answer = kept.getresponse()
        body = answer.read()
        assert answer.status == 200
        return body

    return {"own HTTP/1.1 connection (now)": own, "http.client, kept alive (before)": stdlib}


def argument_ways(flask_app: Flask, day: str, serials: list[str]) -> tuple[dict[str, Way], dict[str, Way]]:
    parser, gateway_schema = ProblemParser(), BalanceArgs()
    gateway_query = f"as_of={day}"
    service_queries = [f"as_of={day}&serial_number={serial}&lang=hu" for serial in serials]

    def in_context(query: list[str], load: Callable[[], Any]) -> Way:
        def way(i: int) -> Any:
            with flask_app.test_request_context("/x", query_string=query[i % len(query)]):
                return load()

        return way

    return {
        "loaded before (now)": in_context([gateway_query], lambda: parser.parse(gateway_schema, location="query")),
        "loaded every time (before)": in_context(
            [gateway_query], lambda: super(ProblemParser, parser).parse(gateway_schema, location="query")
        ),
    }, {
        "loaded before (now)": in_context(service_queries, lambda: service_app.parse_query(BALANCE_QUERY)),
        "loaded every time (before)": in_context(
            service_queries,
            lambda: service_app._load_query(BALANCE_QUERY),  # noqa: SLF001 - the way before
        ),
        "a request context alone (part of each way of this and the group above)": in_context(
            service_queries, lambda: None
        ),
    }


def per_call_us(way: Way, calls: int, customers: int) -> float:
    started = time.process_time()
    for i in range(calls):
        way(i % customers)
    return (time.process_time() - started) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    args = parser.parse_args(argv)
    today = today_budapest()
    data = cached(ROOT / ".run" / "bench-cache", args.events, args.customers, 42, today)
    logins = random.Random(42).sample(data.logins(), 50)
    load_before = os.getloadavg()
    with small_system(data, "calls") as system:
        with psycopg.connect(system.env["LEDGER_DATABASE_URL"], autocommit=True, row_factory=dict_row) as conn:
            pointer.use_active_schema(conn, READ_MODEL_SCHEMA)
            params = [
                {"customer_code": row["customer_code"], "serial_number": row["serial_number"], "as_of": today}
                for row in logins
            ]
            paths = [customer_path(row["customer_code"], "balance") for row in logins]
            query = [
                {"as_of": today.isoformat(), "serial_number": row["serial_number"], "lang": "hu"} for row in logins
            ]
            at_gateway, at_ledger = argument_ways(
                Flask(__name__), today.isoformat(), [row["serial_number"] for row in logins]
            )
            groups = {
                "the ledger's fact queries of a balance": fact_ways(conn, params),
                "the gateway's call of the ledger API": client_ways(system.env["LEDGER_URL"], paths, query),
                "a balance's query arguments at the gateway (webargs)": at_gateway,
                "a balance's query arguments at the ledger API (marshmallow)": at_ledger,
            }
            figures: dict[tuple[str, str], list[float]] = {}
            for _ in range(args.repeat):
                for group, ways in groups.items():
                    for name, way in ways.items():
                        per_call_us(way, 100, len(logins))  # warm: prepared statements, kept connections
                        figures.setdefault((group, name), []).append(per_call_us(way, args.calls, len(logins)))
    load_after = os.getloadavg()
    rows = []
    for group, ways in groups.items():
        now = statistics.median(figures[(group, next(iter(ways)))])  # the first way of each group is the code's
        for name in ways:
            median = statistics.median(figures[(group, name)])
            rows.append([group, name, median, median / now])
    result: dict[str, Any] = {
        "kind": "table",
        "id": "calls",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": report.code_version(),
        "load_average": {"before": list(load_before), "after": list(load_after)},
        "intro": (
            f"`python -m bench.calls`: {data.events:,}-event data set, {len(logins)} active customers in turn, "
            f"{args.calls:,} calls each way, the ways alternately, median of {args.repeat}; CPU time of the calling "
            f"process per call (the ledger API's and PostgreSQL's work is not in it). 1-min load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after."
        ),
        "columns": ["part of a query", "way", "CPU µs per call", "÷ now"],
        "formats": [None, None, "{:.1f}", "{:.2f}"],
        "align": ["---", "---", "---:", "---:"],
        "rows": rows,
    }
    path = report.save(args.results, result["id"], result)
    print(f"{path}\n" + "\n".join(report.table_section(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
