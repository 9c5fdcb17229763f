"""The cluster CLI's help, and the generated cluster figures of docs/operations.md (scripts/cluster_report.py)."""

from __future__ import annotations

import importlib.util

import pytest

from shared.cli import cluster
from shared.cli.cluster import Partition
from tests.support.infra import ROOT

spec = importlib.util.spec_from_file_location("cluster_report", ROOT / "scripts" / "cluster_report.py")
assert spec and spec.loader
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


@pytest.mark.parametrize("words", [[], ["status"], ["wait"]])
def test_the_cluster_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as exited:
        cluster.main([*words, "--help"])
    assert exited.value.code == 0
    assert "show this help message and exit" in capsys.readouterr().out


def test_a_partition_is_under_replicated_while_its_isr_is_short():
    assert Partition("t", 0, 1, (1, 2, 3), (1, 2)).under_replicated
    assert not Partition("t", 0, 1, (1, 2, 3), (3, 1, 2)).under_replicated


def test_the_report_renders_every_recorded_figure_between_the_markers():
    figures = {
        "leader_killed": {
            "run": "R1",
            "events_total": 8179,
            "events": {"ledger": 2000},
            "killed_broker": 3,
            "killed_broker_was_controller": True,
            "leader_election_s": 7.1,
            "lost": 0,
        },
        "rolling_restart": {
            "run": "R2",
            "restarts": [
                {
                    "broker": n,
                    "controlled_shutdown_s": 5.2,
                    "events_while_down": 800,
                    "part_applied_while_down_s": 1.3,
                    "start_until_in_sync_s": 41.3,
                }
                for n in (1, 2, 3)
            ],
            "queries_total": 14274,
            "queries_failed": 0,
            "ledger_events_published_during_restart": 2400,
        },
    }
    text = report.render(figures)
    assert text.startswith(report.START) and text.endswith(report.END)
    assert "| events published (all four services' loads) | 8,179 |" in text
    assert "| it was also the active controller | yes |" in text
    assert "| events per service | ledger 2,000 |" in text
    assert "| 3 | 5.2 | 800 | 1.3 | 41.3 |" in text
    assert "during the restart: 14,274; failed (not 200): 0." in text


def test_operations_md_holds_the_markers_of_the_generated_cluster_figures():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert text.index(report.START) < text.index(report.END)
