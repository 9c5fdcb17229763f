"""docker-compose.yml: valid against the compose specification's JSON schema (ops/compose/compose-spec.json,
checked by scripts/check_compose.py, which `make lint` runs too), and the promises docs/operations.md makes
about it. Docker is not needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from shared import db_roles

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("contracts", "ledger", "tickets", "quota", "gateway")


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
    roles = [role for service in SERVICES for role in db_roles.roles_of(service)]
    names = ("internal_token", "gateway_secret_key", "postgres_password", *(f"pg-{role}" for role in roles))
    assert files == {name: f"./.secrets/{name}" for name in names}
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


def test_the_apis_run_under_the_shared_server_configurations():
    services = compose()["services"]
    for name in ("contracts", "ledger", "tickets", "quota"):  # Granian, through shared/web/serve.py
        command = services[f"{name}-api"]["command"]
        assert command.startswith("python -m shared.web.serve --bind 0.0.0.0:8000 "), command
        assert command.endswith(f'"services.{name}.app:create_app()"'), command
    assert services["gateway"]["command"].startswith("gunicorn -c python:shared.web.gunicorn_conf ")
    gunicorns = [s["command"] for s in services.values() if "gunicorn" in str(s.get("command", ""))]
    assert gunicorns == [services["gateway"]["command"]]
    assert "python:shared.web.gunicorn_conf" in (ROOT / "Dockerfile").read_text()


def test_compose_secrets_sh_makes_every_secret_the_file_names(tmp_path):
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "compose-secrets.sh"
    script.write_text((ROOT / "scripts" / "compose-secrets.sh").read_text())
    subprocess.run(["bash", str(script)], check=True, capture_output=True, timeout=60)
    made = {f.name: f for f in (tmp_path / ".secrets").iterdir()}
    assert set(made) == set(compose()["secrets"])
    assert all(len(f.read_text().strip()) == 64 and f.stat().st_mode & 0o077 == 0 for f in made.values())


def test_no_application_process_but_init_signs_in_as_the_superuser():
    services = compose()["services"]
    expected = {f"{s}-projector": db_roles.owner_role(s) for s in SERVICES if s != "gateway"}
    expected |= {f"{s}-api": db_roles.reader_role(s) for s in SERVICES if s != "gateway"}
    expected |= {"gateway": db_roles.owner_role("gateway"), "init": "portal"}
    users = {name: (s.get("environment") or {}).get("DATABASE_USER") for name, s in services.items()}
    assert {name: user for name, user in users.items() if user} == expected
    for name, user in expected.items():
        secrets = services[name]["secrets"]
        assert ("postgres_password" in secrets) == (name == "init"), name
        if name != "init":
            assert secrets[-1] == f"pg-{user}" and services[name]["environment"]["DATABASE_PASSWORD_FILE"].endswith(
                f"/pg-{user}"
            )
    assert services["postgres"]["environment"]["POSTGRES_USER"] == "portal"
    assert "--from-env" in services["init"]["command"] and all(s in services["init"]["command"] for s in SERVICES)
