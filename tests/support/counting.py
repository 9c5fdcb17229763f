"""A small test projection: running totals per customer that double-counting would break.

python -m tests.support.counting [--until-caught-up] [--rebuild]
  (DATABASE_URL = the test database, TOPIC_PREFIX, CONSUMER_GROUP, KAFKA_BOOTSTRAP_SERVERS)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg

from shared.events.envelope import Event
from shared.projection.protocol import Projection
from shared.projection.runner import Projector, ProjectorSettings
from shared.readmodel.rebuild import rebuild
from shared.web.observability import configure_logging

DDL = Path(__file__).with_name("counting.sql")


def on_received(cur: psycopg.Cursor, event: Event) -> None:
    """Add the payment to the customer's total (deliberately not idempotent)."""
    cur.execute(
        "INSERT INTO paid (customer_code, total, events) VALUES (%(c)s, %(a)s, 1) "
        "ON CONFLICT (customer_code) DO UPDATE SET total = paid.total + %(a)s, events = paid.events + 1",
        {"c": event.subject, "a": event.data["amount"]},
    )


def on_refunded(cur: psycopg.Cursor, event: Event) -> None:
    """Subtract the refund."""
    cur.execute(
        "INSERT INTO paid (customer_code, total, events) VALUES (%(c)s, -%(a)s, 1) "
        "ON CONFLICT (customer_code) DO UPDATE SET total = paid.total - %(a)s, events = paid.events + 1",
        {"c": event.subject, "a": event.data["amount"]},
    )


PROJECTION = Projection(
    service="counting",
    topics=("payments",),
    ddl=DDL,
    handlers={"payment.received": on_received, "payment.refunded": on_refunded},
)


def settings(until_caught_up: bool) -> ProjectorSettings:
    """Settings from the environment, as a service projector reads them."""
    return ProjectorSettings(
        service="counting",
        database_url=os.environ["DATABASE_URL"],
        bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        topics=list(PROJECTION.topics),
        ddl=DDL,
        group_id=os.environ["CONSUMER_GROUP"],
        topic_prefix=os.environ.get("TOPIC_PREFIX", ""),
        batch_size=int(os.environ.get("PROJECTOR_BATCH_SIZE", "200")),
        stop_when_caught_up=until_caught_up,
    )


def main() -> int:
    """Run the counting projector."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--until-caught-up", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    s = settings(args.until_caught_up)
    if args.rebuild:
        rebuild(s)
    Projector(s, PROJECTION).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
