"""Wiring one service: its settings from the environment, its app and its projector."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask

from shared import config, db
from shared.observability import configure_logging
from shared.projector import Projector, ProjectorSettings
from shared.rebuild import rebuild
from shared.shadow import rebuild_shadow
from shared.web import create_service_app


def settings_from_env(service: str, need_token: bool = True) -> dict[str, Any]:
    """The settings every service reads from its environment."""
    return {
        "DATABASE_URL": config.service_database_url(service),
        "KAFKA_BOOTSTRAP_SERVERS": config.optional("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        "INTERNAL_TOKEN": config.required("INTERNAL_TOKEN") if need_token else "",
        "TOPIC_PREFIX": config.optional("TOPIC_PREFIX", ""),
        "READ_MODEL_SCHEMA": config.optional("READ_MODEL_SCHEMA", db.READ_MODEL_SCHEMA),
        "BATCH_SIZE": config.integer("PROJECTOR_BATCH_SIZE", 1000),
        "POLL_TIMEOUT_MS": config.integer("PROJECTOR_POLL_TIMEOUT_MS", 200),
        "CONSUMER_GROUP": config.optional("CONSUMER_GROUP", ""),
    }


def build_app(service: str, package: str, routes: ModuleType, projection: ModuleType,
              overrides: dict[str, Any] | None) -> Flask:
    """The service's Flask app: settings from the environment, or exactly `overrides` (tests)."""
    if overrides is None:
        settings = settings_from_env(service)
    else:
        settings = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", "TOPIC_PREFIX": "",
                    "READ_MODEL_SCHEMA": db.READ_MODEL_SCHEMA, **overrides}
    settings.setdefault("VENDOR", config.vendor_settings())  # the vendor's details (documents, payment, annex)
    configure_logging()
    return create_service_app(service, routes.blueprint, settings, _ddl(package), projection.TOPICS)


def _ddl(package: str) -> Path:
    return Path(sys.modules[package].__file__).with_name("schema.sql")


def projector_main(service: str, package: str, projection: ModuleType, argv: list[str] | None = None) -> int:
    """`python -m services.<name>.projector [--rebuild | --rebuild-shadow] [--until-caught-up]`."""
    args = _projector_args(package, argv)
    configure_logging()
    s = settings_from_env(service, need_token=False)
    settings = ProjectorSettings(
        service=service, database_url=s["DATABASE_URL"], bootstrap_servers=s["KAFKA_BOOTSTRAP_SERVERS"],
        topics=list(projection.TOPICS), ddl=_ddl(package), schema=s["READ_MODEL_SCHEMA"],
        group_id=s["CONSUMER_GROUP"], topic_prefix=s["TOPIC_PREFIX"], batch_size=s["BATCH_SIZE"],
        poll_timeout_ms=s["POLL_TIMEOUT_MS"], stop_when_caught_up=args.until_caught_up,
        metrics_port=config.integer("PROJECTOR_METRICS_PORT", 0) or None,
        projection_version=getattr(projection, "VERSION", 1),
    )
    if args.rebuild_shadow:
        rebuild_shadow(settings, projection.HANDLERS, args.grace_seconds)
        return 0
    if args.rebuild:
        rebuild(settings)
    Projector(settings, projection.HANDLERS).run()
    return 0


def _projector_args(package: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {package}.projector")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--rebuild", action="store_true",
                      help="empty the live read model and replay the topics (development: the API sees it empty)")
    mode.add_argument("--rebuild-shadow", action="store_true",
                      help="rebuild into a new schema while the API serves the old one, switch, then exit")
    parser.add_argument("--grace-seconds", type=float, default=30.0,
                        help="with --rebuild-shadow: wait this long after the switch before dropping the old schema")
    parser.add_argument("--until-caught-up", action="store_true", help="exit once every partition is applied")
    return parser.parse_args(argv)
