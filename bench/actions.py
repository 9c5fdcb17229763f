"""Benchmark: a customer action's 202 until it is visible through the gateway (read your writes), p50 and p99.

Against a running stack (`make run`): logs in the demo customers (`.run/demo`), opens support
calls at `--rate` actions/s spread over them (each customer stays under the 20-an-hour limit), and polls
`GET /api/v1/support-calls/{call_id}` from the 202 until it answers 200.

    .venv/bin/python -m bench.actions --gateway http://127.0.0.1:8080 --rate 20 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from pathlib import Path

import requests

from bench.freshness import percentile

ROOT = Path(__file__).resolve().parents[1]


def demo_customers(folder: Path) -> list[dict]:
    """Every demo customer's first serial (from the published contracts), the known logins first."""
    logins = json.loads((folder / "logins.json").read_text(encoding="utf-8"))
    known = {entry["customer_code"] for entry in logins}
    for line in (folder / "contracts.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] == "contract.signed" and event["subject"] not in known:
            known.add(event["subject"])
            logins.append(
                {"customer_code": event["subject"], "serial_number": event["data"]["items"][0]["serial_number"]}
            )
    return logins


def log_in(gateway: str, logins: list[dict]) -> list[dict[str, str]]:
    """A bearer header per demo customer that can log in."""
    headers = []
    for entry in logins:
        body = {"customer_code": entry["customer_code"], "serial_number": entry["serial_number"]}
        if entry.get("password"):
            body["password"] = entry["password"]
        answer = requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=10)
        if answer.status_code == 201:
            headers.append({"Authorization": f"Bearer {answer.json()['token']}"})
    return headers


def one_action(gateway: str, auth: dict[str, str], n: int, results: list, timeout_s: float = 10) -> None:
    """Open a call; record (seconds to 202, seconds from 202 until visible or None)."""
    session = requests.Session()
    started = time.perf_counter()
    answer = session.post(
        f"{gateway}/api/v1/support-calls",
        timeout=10,
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
        json={"category": "other", "subject": f"bench action {n}"},
    )
    accepted = time.perf_counter()
    if answer.status_code != 202:
        results.append((accepted - started, None, answer.status_code))
        return
    url = f"{gateway}/api/v1/support-calls/{answer.json()['call_id']}"
    while time.perf_counter() - accepted < timeout_s:
        if session.get(url, headers=auth, timeout=5).status_code == 200:
            results.append((accepted - started, time.perf_counter() - accepted, 202))
            return
        time.sleep(0.02)
    results.append((accepted - started, None, 202))


def run(gateway: str, headers: list[dict[str, str]], rate: float, seconds: float) -> dict:
    """`rate` actions a second for `seconds`, round-robin over the customers; the latency figures."""
    results: list = []
    threads = []
    total = int(rate * seconds)
    started = time.perf_counter()
    for n in range(total):
        time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        thread = threading.Thread(target=one_action, args=(gateway, headers[n % len(headers)], n, results))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    visible = sorted(r[1] for r in results if r[1] is not None)
    acked = sorted(r[0] for r in results if r[2] == 202)
    return {
        "actions": total,
        "seconds": round(elapsed, 1),
        "accepted": len(acked),
        "refused": sorted({r[2] for r in results if r[2] != 202}),
        "not_visible_in_10s": sum(1 for r in results if r[2] == 202 and r[1] is None),
        "ack_p50_ms": _ms(percentile(acked, 50)),
        "ack_p99_ms": _ms(percentile(acked, 99)),
        "visible_p50_ms": _ms(percentile(visible, 50)),
        "visible_p99_ms": _ms(percentile(visible, 99)),
        "visible_max_ms": _ms(visible[-1] if visible else None),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--demo", default=str(ROOT / ".run" / "demo"), help="the demo data set's folder")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    headers = log_in(args.gateway, demo_customers(Path(args.demo)))
    if not headers or args.rate * args.seconds > 20 * len(headers):
        parser.error(
            f"{len(headers)} customers logged in: too few for {args.rate * args.seconds:.0f} actions (20 an hour each)"
        )
    print(json.dumps(run(args.gateway, headers, args.rate, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
