"""docs/performance.md is what `python -m bench.report` makes of the committed results in bench/results/."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_is_generated_from_the_committed_results() -> None:
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert report.generate(text, report.load_all(ROOT / "bench" / "results")) == text


def test_every_result_file_is_shown_and_every_section_has_its_file() -> None:
    results = report.load_all(ROOT / "bench" / "results")
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    names = {m["name"] for m in report.MARKER.finditer(text)}
    assert {"targets", "history", "latest"} <= names
    for result in results:
        if result["kind"] in ("table", "publisher"):
            assert f"{result['kind']}:{result['id']}" in names, result["file"]
    for name in names:
        assert report.renderer(name, results)  # raises for a section no file gives


def test_summaries_of_a_run_give_ranges_over_the_issues_five_queries(tmp_path: Path) -> None:
    query = {"rps": 100.0, "p50": 10.0, "p99": 20.0, "errors": 0, "cpu_us": {"gateway": 500.0, "services": 700.0}}
    queries = {name: dict(query) for name in report.TARGET_QUERIES}
    queries["balance"] = {**query, "rps": 50.0, "p99": 40.0}
    queries["health/live"] = {**query, "rps": 1000.0}
    queries["login"] = {**query, "statuses": {"201": 10, "429": 30, "503": 1}}
    projection = {"rate": 10.0, "ratio": 0.4, "peak_rss_mb": 80.0}
    large = {
        "data": {"events": 1000, "customers": 100},
        "queries": queries,
        "projection": {s: dict(projection) for s in ("contracts", "ledger", "tickets", "quota")},
        "memory": {"gateway-api": 120.0},
    }
    run = {"kind": "bench", "cpu_scope": "own", "results": {"large": large, "small": json.loads(json.dumps(large))}}
    got = report.summary(run)
    assert got["rps"] == [50.0, 100.0]
    assert got["p99"] == [20.0, 40.0]
    assert got["live_ratio"] == [0.05, 0.1]
    assert got["cpu_ms"] == [1.2, 1.2]
    assert got["login"] == {"answers": 41, "ok": 10, "busy": 30, "server_errors": 1}
    assert got["memory_max_mb"] == 120.0
    unscoped = report.summary({**run, "cpu_scope": None})  # counted other users' servers: no total
    assert unscoped["cpu_ms"] is None and unscoped["python_cpu_ms"] == [1.2, 1.2]
