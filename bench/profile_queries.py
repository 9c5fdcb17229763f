"""`python -m bench.profile_queries`: profiles of the gateway and the ledger API while wrk loads balance.

A small system of its own (20,000 events by default, rebuilt with this tree), 30 s of wrk on
`GET /api/v1/balance` with 32 connections; 5 s in, `bench.profile --gil` samples the gateway's and the ledger
API's server for 15 s each, at once, and writes `profile-gateway-balance-gil` and `profile-ledger-balance-gil`.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import threading
import time

from bench import load
from bench.dataset import cached
from bench.infra import ROOT
from bench.throughput import small_system
from shared.timeutil import today_budapest

WHAT = (
    "{} while wrk loads GET /api/v1/balance with 32 connections ({:,}-event data set; a run of its own, no other query)"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_queries", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    args = parser.parse_args(argv)
    today = today_budapest()
    data = cached(ROOT / ".run" / "bench-cache", args.events, args.customers, 42, today)
    logins = random.Random(42).sample(data.logins(), min(300, len(data.logins())))
    with small_system(data, "profile") as system:
        path = load.queries(today)["balance"]
        tokens, _ = load.screen(system.gateway, load.mint(logins), {"balance": path})
        wrk = threading.Thread(target=lambda: print(load.wrk(system.gateway, "GET", path, tokens["balance"], 30)))
        wrk.start()
        time.sleep(5)
        profiles = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.profile", "--pid", str(system.procs[proc].pid), "--seconds", "15"]
                + ["--gil", "--id", f"profile-{name}-balance-gil", "--what", WHAT.format(label, data.events)]
            )
            for proc, name, label in (
                ("gateway-api", "gateway", "the gateway's gunicorn (2 workers × 8 threads)"),
                ("ledger-api", "ledger", "the ledger API's Granian (2 workers × 4 threads)"),
            )
        ]
        for profile in profiles:
            profile.wait()
        wrk.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
