"""The one settings module: typed values, one-line refusals, and the documented table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared import config

ROOT = Path(__file__).resolve().parents[2]


def test_values_are_converted_and_defaults_come_from_the_table(monkeypatch) -> None:
    monkeypatch.setenv("PROJECTOR_BATCH_SIZE", "250")
    monkeypatch.delenv("SERVICE_TIMEOUT_S", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert config.get("PROJECTOR_BATCH_SIZE") == 250
    assert config.get("SERVICE_TIMEOUT_S") == 2.0
    assert config.get("KAFKA_BOOTSTRAP_SERVERS") == "127.0.0.1:9092"


def test_per_service_names_follow_the_patterns(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/postgres?sslmode=require")
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("QUOTA_URL", "http://quota:8000")
    monkeypatch.delenv("TICKETS_URL", raising=False)
    assert config.service_database_url("ledger") == "postgresql://u@db:5432/portal_ledger?sslmode=require"
    assert config.service_url("quota") == "http://quota:8000"
    assert config.service_url("tickets") == "http://127.0.0.1:8083"


def test_missing_and_malformed_values_name_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(config.MissingSetting, match="DATABASE_URL is required"):
        config.get("DATABASE_URL")
    monkeypatch.setenv("LOGIN_WINDOW_MINUTES", "fifteen")
    with pytest.raises(config.MissingSetting, match="LOGIN_WINDOW_MINUTES must be an integer, got 'fifteen'"):
        config.get("LOGIN_WINDOW_MINUTES")
    with pytest.raises(KeyError, match="NOT_A_SETTING"):
        config.get("NOT_A_SETTING")


@pytest.mark.parametrize("module", ["shared.cli.admin", "services.quota.projector"])
def test_entry_points_end_with_one_line_naming_the_variable(module: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "PROJECTOR_BATCH_SIZE": "many", "DATABASE_URL": ""}
    args = [sys.executable, "-m", module, *(["create-databases", "x"] if module.endswith("admin") else [])]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == config.BAD_SETTINGS_EXIT
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: environment variable ")
    assert ("DATABASE_URL" in lines[0]) or ("PROJECTOR_BATCH_SIZE" in lines[0])


def test_the_documented_table_is_the_code_table() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = text.split("<!-- settings:begin -->\n", 1)[1].split("\n<!-- settings:end -->", 1)[0]
    assert documented == config.markdown_table()
