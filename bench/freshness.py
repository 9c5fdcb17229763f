"""Benchmark 2: a steady stream of payments; time from publish until the gateway's balance shows one."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from datetime import date

import requests
from kafka import KafkaProducer

from bench.infra import Scope
from shared import kafka_security
from shared.events.topics import physical


def payment(customer_code: str, payment_id: str, today: date) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "bank",
        "type": "payment.received",
        "time": f"{today.isoformat()}T09:00:00Z",
        "subject": customer_code,
        "datacontenttype": "application/json",
        "data": {
            "payment_id": payment_id,
            "customer_code": customer_code,
            "received_on": today.isoformat(),
            "amount": 1000,
            "method": "bank_transfer",
            "reference": "bench",
        },
    }


def _probe(
    gateway: str,
    token: str,
    today: date,
    payment_id: str,
    sent_at: float,
    timeout_s: float,
    interval_s: float,
    results: list[float | None],
) -> None:
    """Poll the balance until the payment shows; record the seconds since it was sent (None: never)."""
    session = requests.Session()
    deadline = sent_at + timeout_s
    while time.perf_counter() < deadline:
        answer = session.get(
            f"{gateway}/api/v1/balance",
            params={"as_of": today.isoformat()},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        if answer.status_code == 200 and payment_id in answer.text:
            results.append(time.perf_counter() - sent_at)
            return
        time.sleep(interval_s)
    results.append(None)


def run(
    scope: Scope,
    gateway: str,
    tokens: list[tuple[str, str]],
    today: date,
    rate: int,
    seconds: float,
    probes_per_s: float = 5,
    poll_interval_s: float = 0.02,
) -> dict:
    """Publish `rate` payments/s for `seconds`; every 1/probes_per_s s one is probed through the gateway."""
    producer = KafkaProducer(bootstrap_servers=scope.bootstrap, **kafka_security.client_kwargs(), acks=1, linger_ms=5)
    topic = physical("payments", scope.prefix)
    rng = random.Random(7)
    results: list[float | None] = []
    threads: list[threading.Thread] = []
    probe_every = max(1, round(rate / probes_per_s))
    started = time.perf_counter()
    sent = 0
    try:
        while (now := time.perf_counter()) - started < seconds:
            due = int((now - started) * rate)
            while sent < due:
                code, token = rng.choice(tokens)
                payment_id = f"BENCH-{scope.run_id}-{sent}"
                event = payment(code, payment_id, today)
                sent_at = time.perf_counter()
                producer.send(topic, key=code.encode(), value=json.dumps(event).encode())
                if sent % probe_every == 0:
                    thread = threading.Thread(
                        target=_probe,
                        args=(gateway, token, today, payment_id, sent_at, 10.0, poll_interval_s, results),
                        daemon=True,
                    )
                    thread.start()
                    threads.append(thread)
                sent += 1
            time.sleep(0.002)
        producer.flush()
        elapsed = time.perf_counter() - started
        for thread in threads:
            thread.join(timeout=15)
    finally:
        producer.close()
    seen = sorted(r for r in results if r is not None)
    return {
        "events": sent,
        "seconds": elapsed,
        "rate": sent / elapsed,
        "probes": len(results),
        "missed": sum(1 for r in results if r is None),
        "p50": percentile(seen, 50),
        "p99": percentile(seen, 99),
        "max": seen[-1] if seen else None,
    }


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]
