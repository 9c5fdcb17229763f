"""`python -m bench.decode`: a projector's per-event decoding and validation, three ways, on the same events in one
process, alternately; median microseconds per event of each, and the ratios.

- marshmallow alone: `json.loads`, then the envelope's and the data's `Schema.load` (the refusal path);
- `json.loads` and the compiled loaders (shared/events/compiled.py, session 1's change 1);
- the typed decoder (msgspec, shared/events/typed.py) through `load_event`, as the projectors call it now.

The events are the demo generator's (seed 42, a fixed day), serialized as the publisher sends them. One thread,
no broker, no database: this is the part of a projector's time the decoder changes, not its throughput
(`bench.compare` measures that). Writes a `table` result (`decode`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench import report
from demo.generator import generate
from shared.events import catalog
from shared.events.topics import TOPIC_OF_TYPE

DAY = date(2026, 11, 30)


def events(customers: int) -> list[tuple[bytes, str, str]]:
    """(value, topic, key) of every demo event."""
    out = []
    for topic_events in generate(customers=customers, seed=42, today=DAY).values():
        for event in topic_events:
            out.append((json.dumps(event, ensure_ascii=False).encode(), TOPIC_OF_TYPE[event["type"]], event["subject"]))
    return out


def marshmallow_alone(value: bytes, topic: str, key: str) -> Any:
    env, data = catalog._load(catalog.decode(value))  # noqa: SLF001 - the refusal path, measured
    catalog._check_consistency(env, data, topic, key)  # noqa: SLF001
    return data


def compiled(value: bytes, topic: str, key: str) -> Any:
    return catalog.validate_event(catalog.decode(value), topic, key)


WAYS: dict[str, Callable[[bytes, str, str], Any]] = {
    "json.loads + marshmallow": marshmallow_alone,
    "json.loads + compiled loaders": compiled,
    "typed decoder (msgspec)": catalog.load_event,
}


def per_event_us(way: Callable[[bytes, str, str], Any], sample: list[tuple[bytes, str, str]]) -> float:
    started = time.process_time()
    for value, topic, key in sample:
        way(value, topic, key)
    return (time.process_time() - started) / len(sample) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    args = parser.parse_args(argv)
    sample = events(args.customers)
    typed = sum(catalog.TYPED_EVENT(value) is not None for value, _, _ in sample)  # type: ignore[misc]
    load_before = os.getloadavg()
    figures: dict[str, list[float]] = {name: [] for name in WAYS}
    for _ in range(args.repeat):
        for name, way in WAYS.items():
            figures[name].append(per_event_us(way, sample))
    load_after = os.getloadavg()
    base = statistics.median(figures["json.loads + compiled loaders"])
    result: dict[str, Any] = {
        "kind": "table",
        "id": "decode",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": report.code_version(),
        "load_average": {"before": list(load_before), "after": list(load_after)},
        "intro": (
            f"`python -m bench.decode`: {len(sample):,} demo events ({args.customers} customers, seed 42), each way "
            f"in turn, median of {args.repeat}; CPU time of one thread per event. {typed:,} of the "
            f"{len(sample):,} took the typed path. 1-min load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after."
        ),
        "columns": ["decoding and validation", "CPU µs per event", "÷ compiled loaders"],
        "formats": [None, "{:.1f}", "{:.2f}"],
        "rows": [[name, statistics.median(runs), statistics.median(runs) / base] for name, runs in figures.items()],
    }
    path = report.save(args.results, result["id"], result)
    print(f"{path}\n" + "\n".join(report.table_section(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
