"""`python -m bench`: every benchmark at one size and at a tenth of it; prints a table, writes docs/performance.md.

Sizes come from flags or the environment (BENCH_EVENTS, BENCH_CUSTOMERS, BENCH_SECONDS, BENCH_FRESHNESS_SECONDS,
BENCH_RATE, BENCH_REPEAT, BENCH_MEMBERS); `--quick` is 50k events / 5k customers / 10 s. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from bench import freshness, load, plans, report
from bench.dataset import DataSet, cached
from bench.infra import ROOT, Scope, machine, outages, start_system
from bench.throughput import SERVICE_TOPICS, Rebuild, bare_consume, publish, rebuild_retrying, rejected
from shared.timeutil import today_budapest

QUICK = {"events": 50_000, "customers": 5_000, "seconds": 10, "freshness_seconds": 20, "repeat": 3}
FULL = {"events": 1_000_000, "customers": 100_000, "seconds": 30, "freshness_seconds": 60, "repeat": 3}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50k events, 5k customers, 10 s per query")
    parser.add_argument("--events", type=int, default=env("BENCH_EVENTS"))
    parser.add_argument("--customers", type=int, default=env("BENCH_CUSTOMERS"))
    parser.add_argument("--seconds", type=int, default=env("BENCH_SECONDS"), help="per query load run")
    parser.add_argument("--freshness-seconds", type=int, default=env("BENCH_FRESHNESS_SECONDS"))
    parser.add_argument("--rate", type=int, default=int(env("BENCH_RATE", "500")), help="freshness events/s")
    parser.add_argument("--repeat", type=int, default=env("BENCH_REPEAT"), help="projection rebuilds per service")
    parser.add_argument(
        "--members",
        type=int,
        default=int(env("BENCH_MEMBERS", "3")),
        help="each rebuild also with this many members of one group (`--processes N`; the topics have 3 "
        "partitions); 1: not",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--growth-factor", type=int, default=10, help="the small run has 1/N events and customers")
    parser.add_argument("--shared", default=env("BENCH_SHARED", "yes"), help="was the machine shared? (yes/no)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument(
        "--name", default=env("BENCH_NAME"), help="results file bench/results/<date>-<name>.json (default full/quick)"
    )
    parser.add_argument("--results", type=Path, default=report.RESULTS, help="folder of the committed results")
    args = parser.parse_args(argv)
    args.name = args.name or ("quick" if args.quick else "full")
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        setattr(args, name, int(getattr(args, name)))
    return args


def projection(scope: Scope, repeat: int, members: int) -> dict[str, dict]:
    """Per service: median events/s of the rebuilds and of the bare consumer, median ratio, peak RSS; and the same
    of the rebuilds by `members` members of one group (`--processes`), when more than one."""
    out = {}
    for service, topics in SERVICE_TOPICS.items():
        runs, shared = [], []
        for attempt in range(repeat):
            bare_events, bare_s = bare_consume(scope, topics, batch_size=1000)
            bare = bare_events / bare_s
            result = rebuild_retrying(scope, service, str(attempt))
            runs.append((result, bare))
            print(
                f"  {service} #{attempt + 1}: {result.rate:,.0f} ev/s ({result.wall_rate:,.0f} with start-up), "
                f"bare {bare:,.0f} ev/s, {'BROKER LOST DURING RUN, ' if result.disturbed else ''}"
                f"peak {result.peak_rss_mb:.0f} MB",
                flush=True,
            )
            if members > 1:
                spread = rebuild_retrying(scope, service, f"{attempt}-members", processes=members)
                shared.append((spread, bare))
                print(f"  {service} #{attempt + 1}, {members} members: {spread.rate:,.0f} ev/s", flush=True)
        out[service] = _figures(runs) | {"rejected": rejected(scope, service)}
        if shared:
            out[service]["members"] = {"processes": members, **_figures(shared)}
    return out


def _figures(runs: list[tuple[Rebuild, float]]) -> dict:
    """Medians of timed rebuilds, each with the bare consumer's rate measured beside it."""
    return {
        "events": runs[0][0].events,
        "rate": statistics.median(r.rate for r, _ in runs),
        "wall_rate": statistics.median(r.wall_rate for r, _ in runs),
        "bare": statistics.median(b for _, b in runs),
        "ratio": statistics.median(r.rate / b for r, b in runs),
        "rates": [round(r.rate) for r, _ in runs],
        "peak_rss_mb": max(r.peak_rss_mb for r, _ in runs),
        "disturbed": sum(r.disturbed for r, _ in runs),
    }


def one_size(
    data: DataSet, args: argparse.Namespace, bootstrap: str, server: str, logins: list[dict], with_freshness: bool
) -> dict:
    """Load, rebuild, then run the system: freshness (optional), query load with `logins`, plans, memory."""
    scope, system = Scope(bootstrap, server), None
    result: dict = {"data": {"events": data.events, "customers": data.customers, "active": data.active}}
    today = today_budapest()
    try:
        scope.make_topics()
        sent, seconds = publish(scope, data)
        result["publish"] = {"events": sent, "rate": sent / seconds}
        print(f"published {sent:,} events in {seconds:.1f}s", flush=True)
        result["projection"] = projection(scope, args.repeat, args.members)
        system = start_system(
            scope,
            ROOT / ".run" / "bench-logs" / scope.run_id,
            poll_timeout_ms=200,
            api_workers=(2, 4),
            gateway_workers=(2, 8),
        )
        if with_freshness:
            tokens = list(zip([r["customer_code"] for r in logins], load.mint(logins), strict=True))
            result["freshness"] = freshness.run(scope, system.gateway, tokens, today, args.rate, args.freshness_seconds)
            print(f"freshness: {result['freshness']}", flush=True)
        result["queries"] = load.run(system.gateway, logins, today, args.seconds, groups=system.cpu_groups)
        for name, figures in result["queries"].items():
            print(
                f"  {name}: {figures['rps']:.0f} req/s p50 {figures['p50']:.1f} ms p99 {figures['p99']:.1f} ms "
                f"errors {figures['errors']}",
                flush=True,
            )
        result["memory"] = system.peak_memory()
        result["outages"] = outages(system.log_dir)
        if result["outages"]:
            print(f"  broker/database lost during the run: {result['outages']}", flush=True)
        sample = logins[0]
        urls = {s: scope.database(s) for s in SERVICE_TOPICS}
        result["plans"] = plans.explain(urls, sample["customer_code"], sample["serial_number"], today)
    finally:
        if system is not None:
            system.shutdown()
        scope.close()
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/postgres")
    load_before = os.getloadavg()
    started = time.monotonic()
    cache = ROOT / ".run" / "bench-cache"
    today = today_budapest()
    small_events, small_customers = args.events // args.growth_factor, args.customers // args.growth_factor
    print(
        f"data sets: {args.events:,}/{args.customers:,} and {small_events:,}/{small_customers:,} "
        f"events/customers (cache {cache})",
        flush=True,
    )
    large = cached(cache, args.events, args.customers, args.seed, today)
    small = cached(cache, small_events, small_customers, args.seed, today)
    # The same customers in both sizes: the small data set's active customers are the large one's first ones,
    # with identical histories, so growth compares the same answers over ten times the data.
    logins = random.Random(args.seed).sample(small.logins(), min(300, len(small.logins())))
    print(f"== small: {small.events:,} events", flush=True)
    results = {"small": one_size(small, args, bootstrap, server, logins, with_freshness=False)}
    print(f"== large: {large.events:,} events", flush=True)
    results["large"] = one_size(large, args, bootstrap, server, logins, with_freshness=True)
    info = machine(server, bootstrap, load_before)
    info["shared"] = args.shared
    info["duration"] = f"{(time.monotonic() - started) / 60:.1f} min"
    saved = {
        "kind": "bench",
        "name": args.name,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": report.code_version(),
        "command": f"python -m bench --events {args.events} --customers {args.customers} --seconds {args.seconds} "
        f"--freshness-seconds {args.freshness_seconds} --repeat {args.repeat} --members {args.members}",
        "machine": info,
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "cpu_scope": "own",  # the postgres and kafka CPU groups are this run's servers only
        "results": results,
    }
    path = report.save(args.results, args.name, saved)
    print(report.table(results))
    print(f"results in {path}")
    report.write_doc(args.out, args.results)
    print(f"written to {args.out}")
    return 0
