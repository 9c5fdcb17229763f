"""Secrets from the environment or from files (Docker secrets), refused when known or short; the Kafka client
settings made from them; the principals' table kept equal to the services' topics."""

from __future__ import annotations

import importlib

import pytest

from shared import config, kafka_security

STRONG = "3f0c1a9e5b7d2c4e6f8a0b1c2d3e4f50"


def test_a_secret_comes_from_the_environment_or_from_its_file(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("INTERNAL_TOKEN_FILE", raising=False)
    monkeypatch.setenv("INTERNAL_TOKEN", STRONG)
    assert config.get("INTERNAL_TOKEN") == STRONG
    secret = tmp_path / "internal_token"
    secret.write_text(STRONG[::-1] + "\n")  # the trailing newline of `echo` or `openssl rand` is not part of it
    monkeypatch.delenv("INTERNAL_TOKEN")
    monkeypatch.setenv("INTERNAL_TOKEN_FILE", str(secret))
    assert config.get("INTERNAL_TOKEN") == STRONG[::-1]


def test_both_places_at_once_are_refused(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "key"
    secret.write_text(STRONG * 2)
    monkeypatch.setenv("GATEWAY_SECRET_KEY", STRONG * 2)
    monkeypatch.setenv("GATEWAY_SECRET_KEY_FILE", str(secret))
    with pytest.raises(config.MissingSetting, match="GATEWAY_SECRET_KEY and GATEWAY_SECRET_KEY_FILE are both set"):
        config.get("GATEWAY_SECRET_KEY")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("change-me", "is a known default value"),
        ("dev-internal-token-change-me", "is a known default value"),
        ("dev-gateway-secret-change-me-0123456789", "is a known default value"),
        ("my-token-CHANGE-ME-please-0123456789", "is a known default value"),
        ("postgres", "is a known default value"),
        ("0123456789abcde", "is shorter than 16 bytes"),
    ],
)
def test_known_defaults_and_short_secrets_are_refused(monkeypatch, value, reason) -> None:
    monkeypatch.delenv("KAFKA_SASL_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", value)
    with pytest.raises(config.MissingSetting, match=f"environment variable KAFKA_SASL_PASSWORD {reason}"):
        config.get("KAFKA_SASL_PASSWORD")


def test_an_unreadable_secret_file_names_the_variable(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("DATABASE_PASSWORD", raising=False)
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(config.MissingSetting, match="DATABASE_PASSWORD_FILE=.*absent cannot be read"):
        config.get("DATABASE_PASSWORD")


def test_each_process_signs_in_as_its_own_role(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:super@127.0.0.1:5432/postgres?sslmode=verify-full")
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("DATABASE_USER", "portal_ledger_reader")
    monkeypatch.setenv("DATABASE_PASSWORD", "p@ss/word:0123456789")
    assert config.service_database_url("ledger") == (
        "postgresql://portal_ledger_reader:p%40ss%2Fword%3A0123456789@127.0.0.1:5432/portal_ledger?sslmode=verify-full"
    )
    monkeypatch.delenv("DATABASE_USER")
    monkeypatch.delenv("DATABASE_PASSWORD")
    assert config.service_database_url("ledger").startswith("postgresql://postgres:super@")


def test_kafka_client_settings(monkeypatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    assert kafka_security.client_kwargs() == {}
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "billing")
    monkeypatch.delenv("KAFKA_SASL_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", STRONG)
    monkeypatch.setenv("KAFKA_SSL_CAFILE", "/etc/portal/ca.pem")
    assert kafka_security.client_kwargs() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "billing",
        "sasl_plain_password": STRONG,
        "ssl_cafile": "/etc/portal/ca.pem",
        "ssl_check_hostname": True,
    }
    monkeypatch.delenv("KAFKA_SASL_PASSWORD")
    with pytest.raises(config.MissingSetting, match="needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        kafka_security.client_kwargs()


def test_the_principals_table_follows_the_services_topics() -> None:
    for service, topics in kafka_security.SERVICE_TOPICS.items():
        projection = importlib.import_module(f"services.{service}.projection").PROJECTION
        assert tuple(projection.topics) == topics, service
    projector = kafka_security.PRINCIPALS["projector-tickets"]
    assert (projector.reads, projector.writes) == (("support-calls",), ("support-calls.dlq",))
    assert kafka_security.PRINCIPALS["portal"].writes == ("support-calls", "contracts")
    assert not kafka_security.PRINCIPALS["portal"].reads


def test_the_documented_principals_are_the_code_table() -> None:
    from tests.unit.test_config import ROOT

    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    documented = text.split("<!-- principals:begin -->\n", 1)[1].split("\n<!-- principals:end -->", 1)[0]
    assert documented == kafka_security.markdown_table()
