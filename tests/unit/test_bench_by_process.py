"""`bench.compare_queries`' table by process group: the median of the runs per side, and after ÷ before as the
median of each run's own ratio (the run's pair), not the ratio of the two medians."""

from __future__ import annotations

import argparse
import math

import pytest

from bench.compare_queries import QUERIES, by_process_table, client_count, paired_ratio, pdf_table


def runs(gateway: list[float], services: list[float]) -> list[dict]:
    return [
        {"cpu_us": {"gateway": g, "services": s, "postgres": 50.0, "projectors": 1.0}}
        for g, s in zip(gateway, services, strict=True)
    ]


def test_medians_and_ratios_by_group() -> None:
    names = ("health/live", *QUERIES)
    figures = {
        "before": {n: runs([100, 300, 200], [400, 1_000, 500]) for n in names},
        "after": {n: runs([150, 100, 90], [250, 250, 0]) for n in names},
    }
    table = by_process_table(figures, {"id": "compare-x", "when": "w", "code": "c", "load_average": {}}, 3)
    assert table["id"] == "compare-x-by-process"
    assert [row[0] for row in table["rows"]] == list(names)
    gateway_before, gateway_after, gateway_ratio, services_before, services_after, services_ratio = table["rows"][1][
        1:7
    ]
    # the runs' ratios 1.5, 1/3 and 0.45: their median, where the medians' ratio would say 0.5
    assert (gateway_before, gateway_after, gateway_ratio) == (200, 100, 0.45)
    # 0.625, 0.25 and 0
    assert (services_before, services_after, services_ratio) == (500, 250, 0.25)
    assert table["rows"][1][7:] == [50.0, 50.0, 1.0]
    assert len(table["columns"]) == len(table["formats"]) == len(table["rows"][0])


def test_a_group_without_cpu_before_has_no_ratio() -> None:
    names = ("health/live", *QUERIES)
    figures = {side: {n: runs([0, 0, 0], [1, 1, 1]) for n in names} for side in ("before", "after")}
    table = by_process_table(figures, {"id": "x", "when": "w", "code": "c", "load_average": {}}, 3)
    assert math.isnan(table["rows"][0][3])


def test_paired_ratio_skips_runs_without_a_figure_before() -> None:
    assert paired_ratio([0, 10, 20], [5, 20, 10]) == 1.25  # 2.0 and 0.5; the first run has nothing to divide by
    assert math.isnan(paired_ratio([0], [3]))


def pdf_runs(per_s: list[float], p50: list[float], failed: list[int]) -> list[dict]:
    return [{"pdf_per_s": r, "pdf_p50": m, "pdf_failed": f} for r, m, f in zip(per_s, p50, failed, strict=True)]


def test_pdf_table_medians_ratios_and_failures() -> None:
    names = ("health/live", "balance")
    figures = {
        "before": {n: pdf_runs([4.0, 2.0, 3.0], [400, 900, 500], [0, 1, 0]) for n in names},
        "after": {n: pdf_runs([2.0, 2.0, 6.0], [800, 700, 300], [2, 0, 3]) for n in names},
    }
    table = pdf_table(figures, {"id": "compare-x", "when": "w", "code": "c", "load_average": {}}, 3, 4, names)
    assert table["id"] == "compare-x-pdfs"
    assert "4 clients" in table["intro"]
    # PDFs/s medians 3 and 2; the runs' ratios 0.5, 1.0 and 2.0: median 1.0, where the medians' ratio says 2/3
    assert table["rows"][1] == ["balance", 3.0, 2.0, 1.0, 500, 700, 1, 5]
    assert len(table["columns"]) == len(table["formats"]) == len(table["rows"][0])


def test_pdf_table_leaves_out_runs_without_a_pdf_from_the_p50() -> None:
    names = ("balance",)
    figures = {
        "before": {"balance": pdf_runs([1.0, 0.0, 1.0], [400, math.nan, 600], [0, 3, 0])},
        "after": {"balance": pdf_runs([0.0, 0.0, 0.0], [math.nan] * 3, [4, 4, 4])},
    }
    row = pdf_table(figures, {"id": "x", "when": "w", "code": "c", "load_average": {}}, 3, 1, names)["rows"][0]
    assert row[4] == 500  # the median of the two runs that had a PDF
    assert math.isnan(row[5])  # no run had one
    assert row[6:] == [3, 12]


def test_pdf_clients_are_zero_or_more() -> None:
    assert client_count("0") == 0 and client_count("4") == 4
    for text in ("-1", "two", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            client_count(text)
