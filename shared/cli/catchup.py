"""Wait until every service's projection has caught up with its topics.

    portal-catchup [--timeout 120] [--progress]     (or python -m shared.cli.catchup; service URLs from <NAME>_URL)

While waiting it shows on stderr (on a terminal, or with --progress) how many messages are still
behind per service, the rate they are applied at and the time left. Exit status 0 caught up, 1 not
within the timeout, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import requests

from shared import config
from shared.cli.progress import Progress

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


def wait_caught_up(
    urls: dict[str, str], timeout_s: float, on_poll: Callable[[dict[str, int | None]], None] | None = None
) -> dict[str, int | None]:
    """Poll until every lag is zero; returns the last lags seen (`on_poll` sees every poll's)."""
    deadline = time.monotonic() + timeout_s
    while True:
        lags = {name: total_lag(url) for name, url in urls.items()}
        if on_poll is not None:
            on_poll(lags)
        if all(lag == 0 for lag in lags.values()) or time.monotonic() > deadline:
            return lags
        time.sleep(0.1)


class CatchupProgress:
    """Messages behind, applied per second and time left, from successive lag readings."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.most_behind = progress, 0

    def __call__(self, lags: dict[str, int | None]) -> None:
        behind = sum(lag or 0 for lag in lags.values())
        self.most_behind = max(self.most_behind, behind)
        applied = self.most_behind - behind
        each = " ".join(f"{name} {lag if lag is not None else 'not ready'}" for name, lag in lags.items())
        self.progress.update(
            applied,
            applied / self.most_behind if self.most_behind else None,
            f"{behind:,} behind ({each})".replace(",", " "),
        )


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="portal-catchup",
        description=__doc__.split("\n")[0],
        epilog="exit status: 0 caught up, 1 not within the timeout, 2 usage error",
    )
    parser.add_argument("--timeout", type=float, default=120, help="give up after this many seconds (default 120)")
    parser.add_argument(
        "--progress", action="store_true", help="show progress on stderr even when it is not a terminal"
    )
    args = parser.parse_args(argv)
    urls = {name: config.service_url(name) for name in SERVICES}
    progress = Progress(
        "catching up",
        unit="messages applied",
        enabled=args.progress or sys.stderr.isatty(),
        every=None if sys.stderr.isatty() else 2.0,
    )
    lags = wait_caught_up(urls, args.timeout, CatchupProgress(progress))
    print("projection lag: " + ", ".join(f"{n}={lag if lag is not None else 'not ready'}" for n, lag in lags.items()))
    return 0 if all(lag == 0 for lag in lags.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
