"""`python -m bench.compare_queries --before DIR --name NAME`: the queries of another source tree against this one.

Both trees' APIs and gateway serve the same read models (rebuilt once with this tree), both up at once and
started anew for each of the `--repeat` runs; each load (`/health/live`, each query, the logins) runs on one
tree and straight after on the other, the order swapped every run. The two figures of a pair are seconds
apart, so a machine that speeds up or slows down (other users, steal) moves both alike; and since a system
started once can be faster or slower than its twin for the whole of its life (by up to a fifth in a null
comparison, docs/performance.md session 16), new processes every run make that a spread, not a bias. Per query:
the median requests/s and CPU per request (all process groups, as `python -m bench` measures them) of each tree,
and after ÷ before as the median of the runs' own ratios (each run's pair). An even `--repeat` measures each
tree first as often as second. The result keeps every run's figures (`runs`).
Writes a `table` result (bench/results/<date>-<name>.json; docs/performance.md shows it where it names
`table:<name>`). DIR is e.g. `mkdir /tmp/before && git archive main | tar -x -C /tmp/before`.

Each tree's APIs run under the servers its own stack used (a tree from before change 18 has every API under
gunicorn). `--before-servers`/`--after-servers` choose others (gunicorn, Granian, or nginx in front of
Granian): `services=gunicorn,gateway=nginx+granian`; `--before .` then compares the servers with the same code.
`--before-threads`/`--after-threads N` run the services' APIs with N threads per worker (4, as scripts/stack.sh,
by default). `--logins` adds the logins (`POST /api/v1/sessions`) and each run's answers by status.
`--revalidate` adds each query asked again, `<query> again`: every request sends back in `If-None-Match` the `ETag`
its customer's answer had in the screening (none where the tree gives none: docs/performance.md, change 36).
`--pdf-clients N`: during every load, N clients keep downloading settlement-sheet PDFs (3 years) from the same
gateway (bench.documents.PdfDownloads), and a second table (`<name>-pdfs`) gives how many PDFs a second they got
and their p50: does a change let PDF drawing starve the queries? The CPU per request then includes the PDFs'.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

from bench import load, report
from bench.dataset import cached
from bench.documents import PdfDownloads
from bench.infra import ROOT, SERVERS, BenchSystem, Scope, start_system
from bench.throughput import SERVICE_TOPICS, publish, rebuild_retrying
from shared.timeutil import today_budapest
from tests.support.system import SERVICES

QUERIES = ("balance", "support-calls", "quota", "contract-annex", "expected-fee")


def servers_spec(text: str) -> dict[str, str]:
    """`services=gunicorn,gateway=nginx+granian` as API -> server (`services` naming the four); "": every API
    under the stack's server (tests.support.system.STACK_SERVERS)."""
    chosen: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        target, sep, server = part.partition("=")
        if not sep or server not in SERVERS or target not in ("services", "gateway", *SERVICES):
            raise argparse.ArgumentTypeError(
                f"{part!r}: expected API=SERVER, API one of services, gateway, {', '.join(SERVICES)} and SERVER "
                f"one of {', '.join(SERVERS)}"
            )
        chosen.update(dict.fromkeys(SERVICES if target == "services" else (target,), server))
    return chosen


def client_count(text: str) -> int:
    """A number of clients: 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of clients, 0 or more")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_queries", description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--name", required=True, help="result id, e.g. compare-orjson")
    parser.add_argument("--what", default="", help="the change, for the table's introduction")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=4, help="runs; even: each tree first as often as second")
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    parser.add_argument("--before-servers", type=servers_spec, default={}, help="e.g. services=gunicorn")
    parser.add_argument("--after-servers", type=servers_spec, default={}, help="e.g. gateway=nginx+granian")
    parser.add_argument("--before-threads", type=int, default=4, help="threads per worker of the services' APIs")
    parser.add_argument("--after-threads", type=int, default=4, help="the same, after (both as scripts/stack.sh)")
    parser.add_argument("--logins", action="store_true", help="also logins (POST /api/v1/sessions), with statuses")
    parser.add_argument(
        "--revalidate", action="store_true", help="also each query asked again with its ETag (If-None-Match)"
    )
    parser.add_argument(
        "--pdf-clients", type=client_count, default=0, help="clients downloading PDFs during every load (0: none)"
    )
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/postgres")
    today = today_budapest()
    data = cached(ROOT / ".run" / "bench-cache", args.events, args.customers, 42, today)
    logins = random.Random(42).sample(data.logins(), min(300, len(data.logins())))
    load_before = os.getloadavg()
    scope = Scope(bootstrap, server)
    figures: dict[str, dict[str, list[dict]]] = {"before": {}, "after": {}}
    again = [f"{query} again" for query in QUERIES] if args.revalidate else []
    names = ("health/live", *QUERIES, *again, *(["login"] if args.logins else []))
    systems: dict[str, BenchSystem] = {}
    try:
        scope.make_topics()
        publish(scope, data)
        for service in SERVICE_TOPICS:
            rebuild_retrying(scope, service, "compare")
        sides = {
            "before": (args.before.resolve(), args.before_servers, args.before_threads),
            "after": (ROOT, args.after_servers, args.after_threads),
        }
        for attempt in range(args.repeat):
            order = ("before", "after") if attempt % 2 == 0 else ("after", "before")
            for label in order:  # both up at once, started anew every run, in the run's order
                source, servers, threads = sides[label]
                systems[label] = start_system(
                    scope,
                    ROOT / ".run" / "bench-logs" / f"{scope.run_id}-{label}{attempt}",
                    poll_timeout_ms=200,
                    api_workers=(2, threads),
                    gateway_workers=(2, 8),
                    source=source,
                    servers=servers,
                )
            plans = {
                label: load.plan(system.gateway, logins, today, args.logins, args.revalidate)
                for label, system in systems.items()
            }
            for name in (n for n in plans["before"] if n in names):  # not the invoices: no row of theirs
                for label in order:
                    system = systems[label]
                    with PdfDownloads(system.gateway, plans[label]["balance"].items, args.pdf_clients) as pdfs:
                        run = load.measure(system.gateway, plans[label][name], args.seconds, groups=system.cpu_groups)
                    figures[label].setdefault(name, []).append({**run, **(pdfs.figures() if args.pdf_clients else {})})
            for label in sides:
                systems.pop(label).shutdown()
            print(
                f"  #{attempt + 1} ({' then '.join(order)} per load): "
                + ", ".join(
                    f"{n} {figures['before'][n][-1]['rps']:.0f}/s → {figures['after'][n][-1]['rps']:.0f}/s"
                    for n in QUERIES
                ),
                flush=True,
            )
    finally:
        with contextlib.ExitStack() as cleanup:  # each step even when one before it fails
            cleanup.callback(scope.close)
            for system in systems.values():
                cleanup.callback(system.shutdown)

    def values(label: str, name: str, key: str) -> list[float]:
        runs = figures[label][name]
        return [sum(r["cpu_us"].values()) if key == "cpu" else r[key] for r in runs]

    rows = []
    for name in names:
        rps, cpu, p99 = ([values(side, name, key) for side in ("before", "after")] for key in ("rps", "cpu", "p99"))
        rows.append(
            [
                name,
                *map(statistics.median, rps),
                paired_ratio(*rps),
                *map(statistics.median, p99),
                *map(statistics.median, cpu),
                paired_ratio(*cpu),
            ]
        )
    pdfs_served = f"; {args.pdf_clients} clients downloading PDFs meanwhile, serving them included"
    if not args.pdf_clients:
        pdfs_served = ""
    result = {
        "kind": "table",
        "id": args.name,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": report.code_version(),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "intro": f"{args.what} `python -m bench.compare_queries`: {data.events:,} events / {data.customers:,} "
        f"customers, {args.seconds} s of wrk (32 connections) per query; both trees up at once and started anew "
        f"every run, each load measured on one and then on the other, the order swapped every run; median of "
        f"{args.repeat} runs, after/before the median of the runs' own ratios; CPU µs per request of all processes "
        f"(PostgreSQL and Kafka whole, both systems' idle share included{pdfs_served}). 1-min load average "
        f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after.",
        "columns": ["query", "before req/s", "after req/s", "after/before", "before p99 ms", "after p99 ms"]
        + ["before CPU µs", "after CPU µs", "after/before CPU"],
        "formats": [None, "{:,.0f}", "{:,.0f}", "{:.2f}", "{:.1f}", "{:.1f}", "{:,.0f}", "{:,.0f}", "{:.2f}"],
        "rows": rows,
        "runs": {
            label: {
                name: [
                    {k: r[k] for k in ("rps", "p50", "p99", "cpu_us", "statuses", *PDF_KEYS) if k in r} for r in runs
                ]
                for name, runs in by_name.items()
            }
            for label, by_name in figures.items()
        },
    }
    if args.logins:  # each run's answers by status: a login that cannot be served soon is a 429, never a 5xx
        result["login_statuses"] = {label: [r["statuses"] for r in figures[label]["login"]] for label in figures}
        print(f"login statuses per run: {result['login_statuses']}")
    tables = [result]
    if args.pdf_clients:
        tables.append(pdf_table(figures, result, args.repeat, args.pdf_clients, names))
    tables.append(by_process_table(figures, result, args.repeat, names))
    for table in tables:
        path = report.save(args.results, table["id"], table)
        print("\n".join(report.table_section(table)))
        print(f"results in {path}")
    return 0


def paired_ratio(before: list[float], after: list[float]) -> float:
    """after ÷ before per run (the two figures of a pair, seconds apart), the median of those; NaN when no run
    has a figure before."""
    ratios = [a / b for b, a in zip(before, after, strict=True) if b]
    return statistics.median(ratios) if ratios else float("nan")


PDF_KEYS = ("pdf_per_s", "pdf_p50", "pdf_failed")


def derived_table(whole: dict, suffix: str, intro: str, columns: list[str], formats: list, rows: list) -> dict:
    """A `table` result of the same runs as `whole`: its id with `-suffix`, its time, code and load average."""
    return {
        "kind": "table",
        "id": f"{whole['id']}-{suffix}",
        **{key: whole[key] for key in ("when", "code", "load_average")},
        "intro": intro,
        "columns": columns,
        "formats": formats,
        "rows": rows,
    }


def pdf_table(
    figures: dict[str, dict[str, list[dict]]], whole: dict, repeat: int, clients: int, names: tuple[str, ...]
) -> dict:
    """The same runs' PDF downloads beside each load, before and after: PDFs a second, their p50 (median of the
    runs, of those with a PDF for the p50; after/before the median of the runs' own ratios) and the answers that
    were not a PDF (all runs)."""
    rows = []
    for name in names:
        per_s, p50, failed = (
            [[r[key] for r in figures[label][name]] for label in ("before", "after")] for key in PDF_KEYS
        )
        p50 = [[ms for ms in side if not math.isnan(ms)] or [math.nan] for side in p50]
        failed = list(map(sum, failed))
        rows.append([name, *map(statistics.median, per_s), paired_ratio(*per_s), *map(statistics.median, p50), *failed])
    return derived_table(
        whole,
        "pdfs",
        f"The runs of the table above ({whole['id']}): what the {clients} clients downloading "
        f"settlement-sheet PDFs (3 years) got from the same gateway during each load, median of {repeat}; "
        "after/before the median of the runs' own ratios; answers that were not a PDF, all runs.",
        ["during", "before PDFs/s", "after PDFs/s", "after/before", "before PDF p50 ms"]
        + ["after PDF p50 ms", "before not a PDF", "after not a PDF"],
        [None, "{:.1f}", "{:.1f}", "{:.2f}", "{:,.0f}", "{:,.0f}", "{:,d}", "{:,d}"],
        rows,
    )


GROUPS = {"gateway": "gateway", "services": "service APIs", "postgres": "PostgreSQL"}


def by_process_table(
    figures: dict[str, dict[str, list[dict]]],
    whole: dict,
    repeat: int,
    names: tuple[str, ...] = ("health/live", *QUERIES),
) -> dict:
    """The same runs' CPU µs per request by process group (median of the runs), before and after, and after ÷
    before as the median of the runs' own ratios: a change in one group shows here even when the whole moved by
    less than the runs' spread."""
    rows = []
    for name in names:
        row: list = [name]
        for group in GROUPS:
            side = [[r["cpu_us"][group] for r in figures[label][name]] for label in ("before", "after")]
            row += [*map(statistics.median, side), paired_ratio(*side)]
        rows.append(row)
    columns = ["query"]
    for title in GROUPS.values():
        columns += [f"{title} before", f"{title} after", "after/before"]
    return derived_table(
        whole,
        "by-process",
        f"The runs of the table above ({whole['id']}), their CPU µs per request by process group, median "
        f"of {repeat}; after/before the median of the runs' own ratios.",
        columns,
        [None] + ["{:,.0f}", "{:,.0f}", "{:.2f}"] * len(GROUPS),
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
