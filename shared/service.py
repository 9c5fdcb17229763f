"""Wiring one service: its settings from the environment, its app and its projector."""

from __future__ import annotations

import argparse
import faulthandler
import signal
from types import ModuleType
from typing import Any

from flask import Flask

from shared import config, kafka_security
from shared.projection.members import run_members
from shared.projection.protocol import Projection
from shared.projection.runner import Projector, ProjectorSettings
from shared.readmodel import connections as db
from shared.readmodel.rebuild import rebuild
from shared.readmodel.replay_progress import ReplayProgress
from shared.readmodel.shadow import rebuild_shadow
from shared.web.app import create_service_app
from shared.web.observability import configure_logging


def settings_from_env(service: str, need_token: bool = True) -> dict[str, Any]:
    """The settings every service reads from its environment (the Kafka security ones checked here too, so a
    bad or default secret stops the process at start with one line)."""
    kafka_security.client_kwargs()
    return {
        "DATABASE_URL": config.service_database_url(service),
        "KAFKA_BOOTSTRAP_SERVERS": config.get("KAFKA_BOOTSTRAP_SERVERS"),
        "INTERNAL_TOKEN": config.required("INTERNAL_TOKEN") if need_token else "",
        "TOPIC_PREFIX": config.get("TOPIC_PREFIX"),
        "READ_MODEL_SCHEMA": config.get("READ_MODEL_SCHEMA"),
        "BATCH_SIZE": config.get("PROJECTOR_BATCH_SIZE"),
        "POLL_TIMEOUT_MS": config.get("PROJECTOR_POLL_TIMEOUT_MS"),
        "CONSUMER_GROUP": config.get("CONSUMER_GROUP"),
    }


def build_app(projection: Projection, routes: ModuleType, overrides: dict[str, Any] | None) -> Flask:
    """The service's Flask app: settings from the environment, or exactly `overrides` (tests)."""
    if overrides is None:
        with config.exit_on_bad_settings():
            settings = settings_from_env(projection.service)
    else:
        settings = {
            "KAFKA_BOOTSTRAP_SERVERS": config.SETTINGS["KAFKA_BOOTSTRAP_SERVERS"].default,
            "TOPIC_PREFIX": "",
            "READ_MODEL_SCHEMA": db.READ_MODEL_SCHEMA,
            **overrides,
        }
    settings.setdefault("VENDOR", config.vendor_settings())  # the vendor's details (documents, payment, annex)
    configure_logging()
    return create_service_app(projection.service, routes.blueprint, settings, projection.ddl, list(projection.topics))


def projector_main(projection: Projection, argv: list[str] | None = None) -> int:
    """`python -m services.<name>.projector [--rebuild | --rebuild-shadow] [--until-caught-up] [--processes N]`."""
    args = _projector_args(f"services.{projection.service}", argv)
    configure_logging()
    # `kill -USR2 <pid>` writes every thread's stack to stderr (the log): where a projector that makes no
    # progress is waiting (docs/operations.md). Forked members inherit it.
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    with config.exit_on_bad_settings():
        s = settings_from_env(projection.service, need_token=False)
        metrics_port = config.get("PROJECTOR_METRICS_PORT") or None
        stall_s = config.get("PROJECTOR_STALL_S")
        hold_at = config.get("PROJECTOR_HOLD_AT")
    settings = ProjectorSettings(
        service=projection.service,
        database_url=s["DATABASE_URL"],
        bootstrap_servers=s["KAFKA_BOOTSTRAP_SERVERS"],
        topics=list(projection.topics),
        ddl=projection.ddl,
        schema=s["READ_MODEL_SCHEMA"],
        group_id=s["CONSUMER_GROUP"],
        topic_prefix=s["TOPIC_PREFIX"],
        batch_size=s["BATCH_SIZE"],
        poll_timeout_ms=s["POLL_TIMEOUT_MS"],
        stop_when_caught_up=args.until_caught_up,
        metrics_port=metrics_port,
        stall_s=stall_s,
        hold_at=hold_at,
        projection_version=projection.version,
    )
    if args.rebuild_shadow:
        rebuild_shadow(settings, projection, args.grace_seconds, args.processes)
        return 0
    if args.processes > 1:  # --until-caught-up (checked by the parser); stopped by a signal: 0, as one process
        return 1 if run_members(settings, projection, args.processes).failed else 0
    projector = Projector(settings, projection)
    if args.rebuild:
        rebuild(settings)
        projector.on_progress = ReplayProgress(settings.schema)
    projector.run()
    return 0


def _projector_args(package: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {package}.projector")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--rebuild",
        action="store_true",
        help="empty the live read model and replay the topics (development: the API sees it empty)",
    )
    mode.add_argument(
        "--rebuild-shadow",
        action="store_true",
        help="rebuild into a new schema while the API serves the old one, switch, then exit",
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=30.0,
        help="with --rebuild-shadow: wait this long after the switch before dropping the old schema",
    )
    parser.add_argument("--until-caught-up", action="store_true", help="exit once every partition is applied")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="with --rebuild-shadow or --until-caught-up: N members of one group share the partitions, each "
        "in a process of its own (a rebuild spread over the partitions; more than the partitions wait idle)",
    )
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.processes > 1 and (args.rebuild or not (args.rebuild_shadow or args.until_caught_up)):
        parser.error("--processes needs --rebuild-shadow or --until-caught-up (without --rebuild)")
    return args
