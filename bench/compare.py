"""`python -m bench.compare --before DIR`: projection rebuild throughput and CPU of another source tree against this.

Both trees rebuild the same topics, alternately, so the machine's load hits both alike. DIR is e.g.
`mkdir /tmp/before && git archive HEAD | tar -x -C /tmp/before`. `--before . --after-processes N` measures one tree
with N projector processes of one group (a projector scaled out over its partitions) against one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench import report
from bench.dataset import cached
from bench.infra import ROOT, Scope
from bench.throughput import SERVICE_TOPICS, bare_consume, publish, rebuild_retrying
from shared.timeutil import today_budapest

COLUMNS = (
    "service",
    "events",
    "before ev/s",
    "after ev/s",
    "after/before",
    "bare ev/s",
    "before CPU µs/event",
    "after CPU µs/event",
    "CPU after/before",
)
FORMATS = (None, "{:,}", "{:,.0f}", "{:,.0f}", "{:.2f}", "{:,.0f}", "{:,.1f}", "{:,.1f}", "{:.2f}")


def row(
    service: str, events: int, rates: dict[str, list[float]], cpu: dict[str, list[float]], bare: list[float]
) -> list[object]:
    """One service's line: the medians of each side's rates and CPU per event, their ratios, the bare consumer's
    median rate."""
    before, after = statistics.median(rates["before"]), statistics.median(rates["after"])
    cpu_before, cpu_after = statistics.median(cpu["before"]), statistics.median(cpu["after"])
    return [
        service,
        events,
        before,
        after,
        after / before,
        statistics.median(bare),
        cpu_before,
        cpu_after,
        cpu_after / cpu_before,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare")
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--services", nargs="*", default=list(SERVICE_TOPICS))
    parser.add_argument(
        "--after-processes",
        type=int,
        default=1,
        help="projector processes of one group for the after tree (the before tree runs one)",
    )
    parser.add_argument("--name", help="also write the table as bench/results/<date>-<name>.json (id <name>)")
    parser.add_argument("--what", default="", help="the change, for the table's introduction")
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/postgres")
    data = cached(ROOT / ".run" / "bench-cache", args.events, args.customers, 42, today_budapest())
    scope = Scope(bootstrap, server)
    load_before, rows = os.getloadavg(), []
    try:
        scope.make_topics()
        publish(scope, data)
        print("\n".join(report.table_head(COLUMNS, FORMATS)))
        for service in args.services:
            rates: dict[str, list[float]] = {"before": [], "after": []}
            cpu: dict[str, list[float]] = {"before": [], "after": []}
            bare = []
            for attempt in range(args.repeat):
                events, seconds = bare_consume(scope, SERVICE_TOPICS[service], 1000)
                bare.append(events / seconds)
                for label, source, processes in (("before", args.before, 1), ("after", ROOT, args.after_processes)):
                    rebuilt = rebuild_retrying(scope, service, f"{label}{attempt}", source, processes)
                    rates[label].append(rebuilt.rate)
                    cpu[label].append(rebuilt.cpu_per_event_us)
            rows.append(row(service, events, rates, cpu, bare))
            print(report.table_row(rows[-1], FORMATS), flush=True)
    finally:
        scope.close()
    if args.name:
        result = {
            "kind": "table",
            "id": args.name,
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "code": report.code_version(),
            "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
            "intro": f"{args.what} `python -m bench.compare`: {data.events:,} events, rebuilds of the two trees "
            f"alternately, median of {args.repeat}; 1-min load average {load_before[0]:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after.",
            "columns": list(COLUMNS),
            "formats": list(FORMATS),
            "rows": rows,
        }
        print(f"results in {report.save(args.results, args.name, result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
