"""`python -m bench.documents`: PDF and invoice figures against a running system with the demo data (`make run`).

Prints: the settlement-sheet PDF of the last 3 years (p50/p90, one client at a time); GET /invoices and
GET /balance under 32 wrk connections, first alone, then while 4 clients keep downloading PDFs (does PDF work
starve the other queries?); and the PDF drawing alone in this process. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from datetime import timedelta

import requests

from bench.load import wrk
from demo import demo_logins
from shared.timeutil import today_budapest

PDF_CLIENTS = 4


def log_in(gateway: str, logins: list[dict]) -> list[str]:
    """A token per demo login (POST /api/v1/sessions)."""
    tokens = []
    for row in logins:
        body = {"customer_code": row["customer_code"], "serial_number": row["serial_number"]}
        if row["password"]:
            body["password"] = row["password"]
        answer = requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=10)
        if answer.status_code == 201:
            tokens.append(answer.json()["token"])
    return tokens


def sheet_path() -> str:
    """The settlement sheet of the last 3 years as a PDF."""
    today = today_budapest()
    return f"/api/v1/statements/settlement-sheet?from={today - timedelta(days=3 * 365)}&to={today}&format=pdf"


def pdf_latencies(gateway: str, tokens: list[str], rounds: int) -> list[float]:
    """Milliseconds per PDF download, one client, every token `rounds` times."""
    session, times = requests.Session(), []
    for _ in range(rounds):
        for token in tokens:
            started = time.perf_counter()
            answer = session.get(gateway + sheet_path(), headers={"Authorization": f"Bearer {token}"}, timeout=30)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200 and answer.content.startswith(b"%PDF-"), answer.status_code
    return times


def keep_downloading(gateway: str, tokens: list[str], stop: threading.Event) -> None:
    """One PDF client: download sheets until told to stop."""
    session = requests.Session()
    while not stop.is_set():
        for token in tokens:
            session.get(gateway + sheet_path(), headers={"Authorization": f"Bearer {token}"}, timeout=30)


def main() -> int:
    port = os.environ.get("PORTAL_GATEWAY_PORT", "8080")
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{port}")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tokens = log_in(args.gateway, demo_logins())
    print(f"{len(tokens)} demo customers logged in")
    times = pdf_latencies(args.gateway, tokens, args.rounds)
    print(
        f"settlement-sheet PDF, 3 years: p50 {statistics.median(times):.0f} ms, "
        f"p90 {statistics.quantiles(times, n=10)[-1]:.0f} ms, max {max(times):.0f} ms ({len(times)} downloads)"
    )
    paths = {"invoices": "/api/v1/invoices", "balance": "/api/v1/balance"}
    for name, path in paths.items():
        alone = wrk(args.gateway, "GET", path, tokens, args.seconds)
        print(
            f"{name} alone, 32 connections: {alone['rps']:.0f} req/s, p50 {alone['p50']:.1f} ms, "
            f"p99 {alone['p99']:.1f} ms, errors {alone['errors']}"
        )
    stop = threading.Event()
    clients = [threading.Thread(target=keep_downloading, args=(args.gateway, tokens, stop)) for _ in range(PDF_CLIENTS)]
    for client in clients:
        client.start()
    try:
        for name, path in paths.items():
            busy = wrk(args.gateway, "GET", path, tokens, args.seconds)
            print(
                f"{name} while {PDF_CLIENTS} clients download PDFs: {busy['rps']:.0f} req/s, "
                f"p50 {busy['p50']:.1f} ms, p99 {busy['p99']:.1f} ms, errors {busy['errors']}"
            )
    finally:
        stop.set()
        for client in clients:
            client.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
