"""docker-compose.yml: valid against the compose specification's JSON schema (ops/compose/compose-spec.json,
checked by scripts/check_compose.py, which `make lint` runs too), and the promises docs/operations.md makes
about it. Docker is not needed."""

from __future__ import annotations

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


def test_secrets_are_docker_secrets_from_files_and_never_in_the_environment():
    text, spec = COMPOSE.read_text(), compose()
    assert "change-me" not in text.lower()
    assert "portal:portal@" not in text
    files = {name: secret["file"] for name, secret in spec["secrets"].items()}
    assert files == {
        name: f"./.secrets/{name}" for name in ("internal_token", "gateway_secret_key", "postgres_password")
    }
    assert ".secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    assert "scripts/compose-secrets.sh" in text and (ROOT / "scripts" / "compose-secrets.sh").is_file()
    for name, service in spec["services"].items():
        env = service.get("environment") or {}
        for secret in ("INTERNAL_TOKEN", "GATEWAY_SECRET_KEY", "DATABASE_PASSWORD", "POSTGRES_PASSWORD"):
            assert secret not in env, (name, secret)  # only the *_FILE form
        for variable, path in env.items():
            if variable.endswith("_FILE") and path.startswith("/run/secrets/"):
                assert path.removeprefix("/run/secrets/") in service["secrets"], (name, variable)


def test_the_postgres_health_check_asks_the_real_server_over_tcp():
    check = compose()["services"]["postgres"]["healthcheck"]["test"]
    assert check[0] == "CMD" and "pg_isready" in check
    assert check[check.index("-h") + 1] == "127.0.0.1"


def test_every_gunicorn_uses_the_shared_configuration():
    commands = [s["command"] for s in compose()["services"].values() if "gunicorn" in str(s.get("command", ""))]
    assert len(commands) == 5
    assert all("-c python:shared.web.gunicorn_conf" in c for c in commands), commands
    assert "python:shared.web.gunicorn_conf" in (ROOT / "Dockerfile").read_text()
