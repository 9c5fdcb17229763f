"""docker-compose.yml: valid against the compose specification's JSON schema (ops/compose/compose-spec.json,
checked by scripts/check_compose.py, which `make lint` runs too), and the promises docs/operations.md makes
about it. Docker is not needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_file_is_valid_against_the_compose_specification():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_compose.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kafka_writes_its_log_into_the_mounted_volume():
    kafka = compose()["services"]["kafka"]
    mounts = {m.split(":", 1)[1] for m in kafka["volumes"] if m.startswith("kafka-data:")}
    assert kafka["environment"]["KAFKA_LOG_DIRS"] in mounts
    assert kafka["environment"]["CLUSTER_ID"]  # the same id every start, matching the formatted volume


def test_secrets_have_no_defaults_and_stop_compose_with_a_message():
    text = COMPOSE.read_text()
    assert "change-me" not in text.lower()
    for name in ("INTERNAL_TOKEN", "GATEWAY_SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        assert all(use.startswith(":?") and len(use) > 10 for use in uses), (name, uses)
    assert "portal:portal@" not in text


def test_the_postgres_health_check_asks_the_real_server_over_tcp():
    check = compose()["services"]["postgres"]["healthcheck"]["test"]
    assert check[0] == "CMD" and "pg_isready" in check
    assert check[check.index("-h") + 1] == "127.0.0.1"


def test_every_gunicorn_uses_the_shared_configuration():
    commands = [s["command"] for s in compose()["services"].values() if "gunicorn" in str(s.get("command", ""))]
    assert len(commands) == 5
    assert all("-c python:shared.web.gunicorn_conf" in c for c in commands), commands
    assert "python:shared.web.gunicorn_conf" in (ROOT / "Dockerfile").read_text()
