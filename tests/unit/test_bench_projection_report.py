"""bench/report.py's projection figures: the ratio with reading free, and the rebuilds by several members."""

from __future__ import annotations

from bench import report
from bench.report import members_rows, projection_rows


def row(projection: dict) -> list[str]:
    rows = projection_rows({"large": {"projection": {"ledger": {"events": 1, "rejected": 0, **projection}}}})
    return rows[2].split(" | ")


def test_the_ratio_with_reading_free_takes_the_bare_consumer_s_time_off_the_projector_s() -> None:
    projection = {"rate": 20_000.0, "rates": [20_000], "wall_rate": 19_000.0, "bare": 80_000.0, "ratio": 0.25}
    # 1/20,000 s less 1/80,000 s per event is 1/26,667 s: a third of the bare consumer's rate
    assert row(projection)[7:9] == ["0.25", "0.33"]


def test_a_projector_as_quick_as_the_bare_consumer_has_no_such_ratio() -> None:
    projection = {"rate": 90_000.0, "rates": [90_000], "wall_rate": 85_000.0, "bare": 80_000.0, "ratio": 1.125}
    assert row(projection)[8] == "-"


def _run(members: dict | None) -> dict:
    query = {"rps": 100.0, "p50": 10.0, "p99": 20.0, "errors": 0, "cpu_us": {"gateway": 500.0, "services": 700.0}}
    queries = {name: dict(query) for name in (*report.TARGET_QUERIES, "health/live")}
    projection = {
        s: {"events": 10, "rate": 10_000.0 + n, "rates": [10_000], "wall_rate": 9_000.0, "bare": 40_000.0 + n,
            "ratio": 0.25, "peak_rss_mb": 80.0, "rejected": 0}
        for n, s in enumerate(("contracts", "ledger", "tickets", "quota"))
    }  # fmt: skip
    if members:
        for n, figures in enumerate(projection.values()):
            figures["members"] = {**members, "ratio": members["ratio"] + n / 100}
    large = {"data": {"events": 1000, "customers": 100}, "queries": queries, "projection": projection, "memory": {}}
    return {"kind": "bench", "cpu_scope": "own", "results": {"large": large, "small": large}}


MEMBERS = {"processes": 3, "rate": 20_000.0, "rates": [20_000], "ratio": 0.5, "peak_rss_mb": 95.0, "wall_rate": 1.0}


def test_the_members_ratio_is_the_measured_one_with_the_one_process_figure_beside_it() -> None:
    got = report.summary(_run(MEMBERS))
    assert (got["members_ratio"], got["members"], got["ratio"]) == ([0.5, 0.53], 3, [0.25, 0.25])
    assert got["memory_max_mb"] == 95.0
    assert report._rebuild_ratio(got) == "0.50–0.53 with 3 members of one group (one process: 0.25)"
    assert report._rebuild_ratio(report.summary(_run(None))) == "0.25"


def test_the_members_table_compares_with_the_one_process_rebuild_of_the_same_run() -> None:
    rows = members_rows(_run(MEMBERS)["results"])
    assert "3 members of one group" in rows[1]
    ledger = next(r for r in rows if r.startswith("| large | ledger |"))
    assert ledger.split(" | ")[2:7] == ["20,000", "[20000]", "0.51", "2.00", "95"] and ledger.endswith("| yes |")
    assert members_rows(_run(None)["results"]) == []
