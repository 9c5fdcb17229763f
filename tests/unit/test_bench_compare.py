"""`bench.compare`'s lines (medians and ratios of each side) and the CPU a rebuild is charged with."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import compare, throughput


def test_a_line_has_each_sides_medians_and_their_ratios() -> None:
    rates = {"before": [900.0, 1000.0, 1100.0], "after": [1500.0, 1200.0, 1300.0]}
    cpu = {"before": [80.0, 100.0, 90.0], "after": [60.0, 45.0, 50.0]}
    line = compare.row("ledger", 5000, rates, cpu, [4000.0, 3000.0, 5000.0])
    assert line == ["ledger", 5000, 1000.0, 1300.0, 1.3, 4000.0, 90.0, 50.0, pytest.approx(50 / 90)]
    assert len(line) == len(compare.COLUMNS) == len(compare.FORMATS)


def test_the_children_cpu_counts_a_child_once_waited_for_and_a_rebuild_gives_it_per_event() -> None:
    burn = "import time\nwhile time.process_time() < 0.3: pass"
    before = throughput._children_cpu()
    subprocess.run([sys.executable, "-c", burn], check=True)
    assert throughput._children_cpu() - before >= 0.3
    rebuilt = throughput.Rebuild("quota", 2000, 1.0, 1.5, 50.0, cpu=0.3)
    assert rebuilt.cpu_per_event_us == pytest.approx(150.0)
