"""`python -m bench.crc`: a bare consumer with kafka-python's C CRC-32C (the crc32c package) against its
pure-Python fallback, on the same topics, alternately; median events/s of each.

kafka-python checks the CRC-32C of every fetched record batch; without the crc32c package it computes it in
pure Python, which profiling showed at three quarters of a consumer's time.
"""

from __future__ import annotations

import argparse
import os
import statistics

from kafka.record import util

from bench.dataset import cached
from bench.infra import ROOT, Scope
from bench.throughput import SERVICE_TOPICS, bare_consume, publish
from shared.timeutil import today_budapest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crc")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if util.crc32c_c is None:
        raise SystemExit("the crc32c package is not installed: nothing to compare")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/postgres")
    data = cached(ROOT / ".run" / "bench-cache", args.events, args.customers, 42, today_budapest())
    scope = Scope(bootstrap, server)
    implementations = {"pure Python": util.crc32c_py, "C (crc32c)": util.crc32c_c}
    try:
        scope.make_topics()
        publish(scope, data)
        print("| topics of | events | pure-Python CRC ev/s | C CRC ev/s | C / pure |\n|---|---:|---:|---:|---:|")
        for service, topics in SERVICE_TOPICS.items():
            rates: dict[str, list[float]] = {name: [] for name in implementations}
            for _ in range(args.repeat):
                for name, function in implementations.items():
                    util.calc_crc32c.__defaults__ = (function,)  # what kafka-python binds at import
                    events, seconds = bare_consume(scope, topics, batch_size=1000)
                    rates[name].append(events / seconds)
            slow, fast = (statistics.median(rates[name]) for name in implementations)
            print(f"| {service} | {events:,} | {slow:,.0f} | {fast:,.0f} | {fast / slow:.1f} |", flush=True)
    finally:
        util.calc_crc32c.__defaults__ = (util.crc32c_c,)
        scope.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
