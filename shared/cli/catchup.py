"""Wait until every service's projection has caught up with its topics.

    python -m shared.cli.catchup [--timeout 120]     (service URLs from <NAME>_URL)
"""

from __future__ import annotations

import argparse
import sys
import time

import requests

from shared import config

SERVICES = ("contracts", "ledger", "tickets", "quota")


def total_lag(url: str) -> int | None:
    """Messages behind across all topics of one service, or None when not ready."""
    try:
        report = requests.get(f"{url}/health/ready", params={"fresh": "1"}, timeout=3).json()
    except (requests.RequestException, ValueError):
        return None
    if report.get("status") != "ok":
        return None
    return sum(topic["messages"] for topic in report["lag"].values())


def wait_caught_up(urls: dict[str, str], timeout_s: float) -> dict[str, int | None]:
    """Poll until every lag is zero; returns the last lags seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        lags = {name: total_lag(url) for name, url in urls.items()}
        if all(lag == 0 for lag in lags.values()) or time.monotonic() > deadline:
            return lags
        time.sleep(0.1)


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m shared.cli.catchup")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    urls = {name: config.service_url(name) for name in SERVICES}
    lags = wait_caught_up(urls, args.timeout)
    print("projection lag: " + ", ".join(f"{n}={lag if lag is not None else 'not ready'}" for n, lag in lags.items()))
    return 0 if all(lag == 0 for lag in lags.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
