"""The record of the suite's runs beside a CPU hog (scripts/stress_record.py) and its table in docs/reliability.md."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("stress_record", ROOT / "scripts" / "stress_record.py")
assert spec and spec.loader
stress_record = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stress_record)


def test_counts_come_from_the_last_summary_line():
    log = "\n".join(
        [
            "tests/unit/test_x.py ....",
            "======================== 3 passed, 1 skipped in 2.00s ========================",
            "=========== 1 failed, 777 passed, 41 errors in 1402.33s (0:23:22) ===========",
        ]
    )
    assert stress_record.counts(log) == {"passed": 777, "failed": 1, "errors": 41, "skipped": 0}
    assert stress_record.counts("no summary: the run was killed") == {
        "passed": 0,
        "failed": 0,
        "errors": 0,
        "skipped": 0,
    }


def test_a_recorded_run_lands_in_the_table(tmp_path):
    log, runs, doc = tmp_path / "run.log", tmp_path / "runs.jsonl", tmp_path / "doc.md"
    log.write_text("============ 830 passed in 1500.10s (0:25:00) ============\n")
    doc.write_text(f"intro\n{stress_record.START}\nold\n{stress_record.END}\nafter\n")
    args = ["--commit", "0123456789abcdef", "--started", "2026-11-30T03:00:00Z", "--seconds", "2400", "--rc", "0"]
    stress_record.main([str(log), *args, "--load-start", "2.5", "--load-end", "4.1", "--out", str(runs)])
    stress_record.write_doc(runs, doc)
    row = json.loads(runs.read_text())
    assert row["commit"] == "0123456789ab" and row["passed"] == 830 and row["exit_status"] == 0
    text = doc.read_text()
    assert "| 1 | 2026-11-30T03:00:00Z | `0123456789ab` |" in text and "| 40.0 | 830 | 0 | 0 | 0 | 2.5 → 4.1 |" in text
    assert "1 of 1 runs green; the last 1 in a row." in text and text.startswith("intro\n") and text.endswith("after\n")


def test_the_streak_counts_back_from_the_last_started_run(tmp_path):
    runs = tmp_path / "runs.jsonl"

    def row(started: str, passed: int, failed: int = 0, rc: int = 0) -> str:
        return json.dumps(
            {"commit": "c", "started": started, "what": "w", "hog": "h", "seconds": 60, "exit_status": rc}
            | {"passed": passed, "failed": failed, "errors": 0, "skipped": 0, "load_start": 1, "load_end": 2}
        )

    # appended in the order the runs ended: the 02:00 run (red) ended after the 03:00 one
    lines = [row("01:00", 800), row("03:00", 800), row("02:00", 790, 10, 1), row("04:00", 800), row("05:00", 0, rc=2)]
    runs.write_text("\n".join(lines) + "\n")
    rows = stress_record.recorded(runs)
    assert [r["started"] for r in rows] == ["01:00", "02:00", "03:00", "04:00", "05:00"]
    assert "3 of 5 runs green; the latest run is red." in stress_record.render(rows)  # a run with nothing passed is red
    assert "3 of 4 runs green; the last 2 in a row." in stress_record.render(rows[:4])


def test_the_documented_table_is_the_recorded_runs():
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    shown = text[text.index(stress_record.START) : text.index(stress_record.END) + len(stress_record.END)]
    assert shown == stress_record.render(stress_record.recorded())
