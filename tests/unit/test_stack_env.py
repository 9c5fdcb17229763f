"""`scripts/stack.sh env` and the settings a shell exported: another stack's are dropped, anyone else's kept.

A shell that evaluated one checkout's `scripts/stack.sh env` and then ran another stack's scripts (another checkout, or
other PORTAL_*_PORT values) pointed that stack's tests at the first broker, its CA and its secrets. The scripts run
here with a run directory of their own (secrets made there), and start no process.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LISTED = re.search(r"^STACK_ENV_VARS=\(([^)]*)\)", (ROOT / "scripts" / "lib.sh").read_text(), re.M)
assert LISTED, "scripts/lib.sh lists STACK_ENV_VARS"
STACK_VARS = LISTED[1].split()  # the settings `stack.sh env` prints, as scripts/lib.sh lists them


def stack_env(run_dir: Path, kafka_port: int, exported: dict[str, str]) -> tuple[dict[str, str], str]:
    """The settings `scripts/stack.sh env` prints for the stack of `run_dir` and `kafka_port`, from a shell that
    exported `exported`; and what it said on stderr."""
    env = {k: v for k, v in os.environ.items() if k not in STACK_VARS and not k.startswith("PORTAL_")}
    env |= {"PORTAL_RUN_DIR": str(run_dir), "PORTAL_KAFKA_PORT": str(kafka_port), **exported}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "stack.sh"), "env"], env=env, capture_output=True, text=True, check=True
    )
    settings = {}
    for line in done.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        settings[name] = shlex.split(value)[0]
    return settings, done.stderr


def test_another_stacks_settings_are_replaced_by_this_ones(tmp_path):
    first, _ = stack_env(tmp_path / "first", 19092, {})
    assert first["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert first["KAFKA_SSL_CAFILE"] == str(tmp_path / "first" / "tls" / "ca.pem")

    second, said = stack_env(tmp_path / "second", 29092, first)

    assert second["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:29092"
    assert second["KAFKA_SSL_CAFILE"] == str(tmp_path / "second" / "tls" / "ca.pem")
    assert second["KAFKA_SASL_PASSWORD_FILE"] == str(tmp_path / "second" / "secrets" / "kafka-operator")
    assert second["INTERNAL_TOKEN_FILE"] == str(tmp_path / "second" / "secrets" / "internal_token")
    assert second["DATABASE_URL"] != first["DATABASE_URL"]  # the second stack's own superuser password
    assert second["PORTAL_ENV_STACK"] == f"{tmp_path / 'second'} kafka:29092 postgres:54329 gateway:8080"
    assert "Ignoring the settings exported for another stack" in said
    assert first["PORTAL_ENV_STACK"] in said


def test_other_ports_of_the_same_checkout_are_another_stack(tmp_path):
    first, _ = stack_env(tmp_path / "run", 19092, {})
    second, said = stack_env(tmp_path / "run", 29092, first)
    assert second["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:29092"
    assert "Ignoring" in said


def test_this_stacks_own_settings_are_kept(tmp_path):
    first, _ = stack_env(tmp_path / "run", 19092, {})
    again, said = stack_env(tmp_path / "run", 19092, {**first, "INTERNAL_TOKEN_FILE": "/etc/portal/token"})
    assert again["INTERNAL_TOKEN_FILE"] == "/etc/portal/token"
    assert again["KAFKA_SSL_CAFILE"] == first["KAFKA_SSL_CAFILE"]
    assert said == ""


def test_settings_exported_by_hand_are_kept(tmp_path):
    external = {"KAFKA_BOOTSTRAP_SERVERS": "broker.example:9093", "KAFKA_SSL_CAFILE": "/etc/kafka/ca.pem"}
    settings, said = stack_env(tmp_path / "run", 19092, external)
    assert settings["KAFKA_BOOTSTRAP_SERVERS"] == "broker.example:9093"
    assert settings["KAFKA_SSL_CAFILE"] == "/etc/kafka/ca.pem"
    assert said == ""
