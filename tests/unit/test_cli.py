"""The command line tools: help on every subcommand, exit codes, progress text (no Kafka needed)."""

from __future__ import annotations

import io

import pytest

from shared.cli import admin, catchup
from shared.cli import dead_letters as deadletters
from shared.cli.progress import Progress, duration
from shared.events import publisher as publish

COMMANDS = [
    (publish.main, []),
    (catchup.main, []),
    (admin.main, []),
    (admin.main, ["wait-kafka"]),
    (admin.main, ["create-topics"]),
    (admin.main, ["create-databases"]),
    (deadletters.main, []),
    (deadletters.main, ["list"]),
    (deadletters.main, ["republish"]),
]


@pytest.mark.parametrize(("main", "words"), COMMANDS)
def test_every_command_and_subcommand_has_help(main, words, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*words, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: portal-")
    assert "show this help message and exit" in out
    described = [line for line in out.splitlines()[1:] if line.strip() and not line.startswith(("usage", " "))]
    assert described, out  # a description or option list beyond the usage line


def test_publish_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        publish.main(["--topic", "nonsense", "file.jsonl"])
    assert exited.value.code == publish.EXIT_USAGE == 2
    assert publish.main(["--topic", "payments", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_progress_shows_count_rate_and_time_left():
    now = [100.0]
    out = io.StringIO()
    progress = Progress("publishing to payments", stream=out, every=1.0, clock=lambda: now[0])
    now[0] = 104.0
    progress.update(40_000, 0.25, "3 refused")
    now[0] = 104.5
    progress.update(45_000, 0.3)  # within `every` of the last line: not shown
    now[0] = 110.0
    progress.finish(100_000, "3 refused")
    assert out.getvalue().splitlines() == [
        "publishing to payments: 40 000 lines, 10 000 lines/s, 25%, 12 s left, 3 refused",
        "publishing to payments: 100 000 lines in 10 s, 10 000 lines/s, 3 refused",
    ]


def test_progress_is_silent_when_disabled():
    out = io.StringIO()
    progress = Progress("x", stream=out, enabled=False, every=0)
    progress.update(1, 0.5)
    progress.finish(2)
    assert out.getvalue() == ""


@pytest.mark.parametrize(("seconds", "text"), [(None, "?"), (4.4, "4 s"), (65, "1 min 05 s"), (3720, "1 h 02 min")])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_catchup_progress_counts_what_was_applied_since_the_most_behind():
    now = [0.0]
    out = io.StringIO()
    watch = catchup.CatchupProgress(
        Progress("catching up", unit="messages applied", stream=out, every=0, clock=lambda: now[0])
    )
    now[0] = 1.0
    watch({"ledger": 1000, "quota": None})
    now[0] = 3.0
    watch({"ledger": 250, "quota": 0})
    lines = out.getvalue().splitlines()
    assert (
        lines[0]
        == "catching up: 0 messages applied, 0 messages applied/s, 0%, ? left, 1 000 behind (ledger 1000 quota not ready)"
    )
    assert (
        lines[1]
        == "catching up: 750 messages applied, 250 messages applied/s, 75%, 1 s left, 250 behind (ledger 250 quota 0)"
    )


def test_replay_progress_logs_applied_of_total_rate_and_time_left(caplog):
    from shared.readmodel.replay_progress import ReplayProgress

    now = [0.0]
    progress = ReplayProgress("ledger_v2", every=5.0, clock=lambda: now[0])
    now[0] = 2.0
    assert progress(1000, {("payments", 0): 9000}) is None  # within 5 s of the start: counted, not logged
    now[0] = 10.0
    with caplog.at_level("INFO", logger="rebuild"):
        figures = progress(3000, {("payments", 0): 4000, ("invoices", 1): 2000})
    assert figures == {
        "schema": "ledger_v2",
        "applied": 4000,
        "total": 10000,
        "percent": 40.0,
        "per_second": 400,
        "seconds_left": 15,
    }
    assert caplog.messages == ["rebuild: 4,000 of 10,000 events (40.0%), 400/s, 15 s left"]
