"""`bench.throughput`'s timing of a rebuild from the projectors' logs, one member or several of one group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.report import projection_rows
from bench.throughput import _consuming_seconds


def write_log(path: Path, lines: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"ts": f"2026-11-30T10:00:{ts}Z", "msg": msg}) + "\n" for ts, msg in lines))
    return path


ASSIGNED = "assigned [('invoices', 0)]"


def test_one_member_from_its_assignment_to_its_last_batch(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "a.log",
        [("00.000", "starting"), ("01.000", ASSIGNED), ("02.000", "batch applied"), ("05.500", "batch applied")],
    )
    assert _consuming_seconds([log]) == (4.5, False)


def test_members_from_the_first_assignment_to_the_last_batch_of_any(tmp_path: Path) -> None:
    first = write_log(tmp_path / "a.log", [("01.000", ASSIGNED), ("03.000", "batch applied")])
    second = write_log(
        tmp_path / "b.log",
        [("02.000", ASSIGNED), ("04.000", "batch applied"), ("07.250", "batch applied"), ("07.300", "Connection lost")],
    )
    idle = write_log(tmp_path / "c.log", [("06.000", "assigned []")])  # joined when nothing was left: no batch
    assert _consuming_seconds([first, second, idle]) == (6.25, True)


def test_no_member_applying_anything_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no assignment or batch"):
        _consuming_seconds([write_log(tmp_path / "a.log", [("01.000", ASSIGNED)])])


def test_the_ratio_with_reading_free_takes_the_bare_consumer_s_time_off_the_projector_s() -> None:
    projection = {"rate": 20_000.0, "rates": [20_000], "wall_rate": 19_000.0, "bare": 80_000.0, "ratio": 0.25}
    rows = projection_rows({"large": {"projection": {"ledger": {"events": 1, "rejected": 0, **projection}}}})
    # 1/20,000 s less 1/80,000 s per event is 1/26,667 s: a third of the bare consumer's rate
    assert rows[2].split(" | ")[7:9] == ["0.25", "0.33"]
    faster = {**projection, "rate": 90_000.0, "ratio": 1.125}
    rows = projection_rows({"large": {"projection": {"ledger": {"events": 1, "rejected": 0, **faster}}}})
    assert rows[2].split(" | ")[8] == "-"
