"""`python -m bench.documents`: PDF and invoice figures against a running system with the demo data (`make run`).

Prints: the settlement-sheet PDF of the last 3 years (p50/p90, one client at a time); GET /invoices and
GET /balance under 32 wrk connections, first alone, then while 4 clients keep downloading PDFs (does PDF work
starve the other queries?), and what those clients got meanwhile. Nothing here asserts a timing.
`PdfDownloads` is those clients, also run beside every load of `bench.compare_queries --pdf-clients N`.
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


class PdfDownloads:
    """`clients` threads downloading settlement-sheet PDFs for `tokens` in turn until the block ends; what they
    got within it (`figures`, after the block): how many PDFs a second and their p50, and the answers that were
    not a PDF. Beside a wrk load it asks whether PDF drawing starves the other requests of the gateway. An answer
    that ends after the block is not counted."""

    def __init__(self, gateway: str, tokens: list[str], clients: int = PDF_CLIENTS) -> None:
        if clients and not tokens:
            raise ValueError("PDF clients need at least one token")
        self._gateway, self._tokens, self._stop = gateway, tokens, threading.Event()
        self._threads = [threading.Thread(target=self._download, args=(n,)) for n in range(clients)]
        self._times: list[float] = []
        self._failed = 0
        self._lock = threading.Lock()
        self._started = self._stopped = 0.0
        self._ended = False

    def __enter__(self) -> PdfDownloads:
        self._started = time.perf_counter()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:  # answers ending from here on are not counted
            self._stop.set()
            self._stopped = time.perf_counter()
        for thread in self._threads:
            thread.join()
        self._ended = True

    def _download(self, first: int) -> None:
        n = first
        with requests.Session() as session:
            while not self._stop.is_set():
                token = self._tokens[n % len(self._tokens)]
                n += 1
                started = time.perf_counter()
                try:
                    answer = session.get(
                        self._gateway + sheet_path(), headers={"Authorization": f"Bearer {token}"}, timeout=30
                    )
                    pdf = answer.status_code == 200 and answer.content.startswith(b"%PDF-")
                except Exception:  # noqa: BLE001 - any failure is one answer that was not a PDF, not a dead client
                    pdf = False
                took = (time.perf_counter() - started) * 1000
                with self._lock:
                    if self._stop.is_set():
                        break
                    if pdf:
                        self._times.append(took)
                    else:
                        self._failed += 1

    @property
    def seconds(self) -> float:
        """How long the block lasted, from the clients' start to its end."""
        if not self._ended:
            raise RuntimeError("the figures of PDF downloads are known after their block")
        return max(self._stopped - self._started, 1e-9)

    def figures(self) -> dict[str, float]:
        """PDFs a second over the block, their p50 in ms (NaN when none came), and the answers that were not one."""
        per_s = len(self._times) / self.seconds
        p50 = statistics.median(self._times) if self._times else float("nan")
        return {"pdf_per_s": per_s, "pdf_p50": p50, "pdf_failed": self._failed}


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
    p90 = statistics.quantiles(times, n=10, method="inclusive")[-1]  # inclusive: never above the largest
    print(
        f"settlement-sheet PDF, 3 years: p50 {statistics.median(times):.0f} ms, p90 {p90:.0f} ms, "
        f"max {max(times):.0f} ms ({len(times)} downloads)"
    )
    paths = {"invoices": "/api/v1/invoices", "balance": "/api/v1/balance"}
    for name, path in paths.items():
        alone = wrk(args.gateway, "GET", path, tokens, args.seconds)
        print(
            f"{name} alone, 32 connections: {alone['rps']:.0f} req/s, p50 {alone['p50']:.1f} ms, "
            f"p99 {alone['p99']:.1f} ms, errors {alone['errors']}"
        )
    with PdfDownloads(args.gateway, tokens) as pdfs:
        for name, path in paths.items():
            busy = wrk(args.gateway, "GET", path, tokens, args.seconds)
            print(
                f"{name} while {PDF_CLIENTS} clients download PDFs: {busy['rps']:.0f} req/s, "
                f"p50 {busy['p50']:.1f} ms, p99 {busy['p99']:.1f} ms, errors {busy['errors']}"
            )
    print("PDFs meanwhile: {pdf_per_s:.1f}/s, p50 {pdf_p50:.0f} ms, {pdf_failed} not a PDF".format(**pdfs.figures()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
