"""Dead letters of a service: list the refused messages, re-publish one once its producer has fixed it.

    python -m shared.cli.dead_letters list --service ledger [--since 2026-11-20T00:00:00Z] [--pending] [--json]
    python -m shared.cli.dead_letters republish --service ledger --id 17 [--file fixed.json] [--force]

`list` reads the service's `rejected_events` (in its live read-model schema). `republish` sends
the fixed event (`--file`: one JSON object, as corrected by the producing system; without it the
original message, which must validate now) through the validating publisher to the topic it was
refused on, and marks the row `republished_at`. Every service reading that topic gets it; one
that applied the event id before ignores it, so re-publishing twice is harmless.
Settings: DATABASE_URL or <SERVICE>_DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, TOPIC_PREFIX, READ_MODEL_SCHEMA.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from shared import config
from shared.events.publisher import Publisher
from shared.readmodel import connections as db
from shared.readmodel import pointer

LIST = """
SELECT id, rejected_at, topic, partition, "offset", event_id, event_type, reason, republished_at
FROM rejected_events
WHERE (%(since)s::timestamptz IS NULL OR rejected_at >= %(since)s) AND (NOT %(pending)s OR republished_at IS NULL)
ORDER BY id"""
ONE = 'SELECT id, topic, partition, "offset", event_type, value, republished_at FROM rejected_events WHERE id = %(id)s'
MARK = "UPDATE {}.rejected_events SET republished_at = now() WHERE id = %(id)s"


class Refused(Exception):
    """The dead letter cannot be re-published (not found, already done, still invalid)."""


def connect(service: str) -> tuple[psycopg.Connection[DictRow], str]:
    """An autocommit connection to the service's live read model, and the read model's name."""
    base = config.get("READ_MODEL_SCHEMA")
    conn = db.connect(config.service_database_url(service), base, autocommit=True)
    pointer.use_schema(conn, pointer.live(conn, base).schema)
    return conn, base


def list_rejected(
    conn: psycopg.Connection[DictRow], since: datetime | None = None, pending: bool = False
) -> list[dict]:
    """Rejected messages, oldest first."""
    return conn.execute(LIST, {"since": since, "pending": pending}).fetchall()


def fixed_line(row: dict[str, Any], path: str | None) -> str:
    """The event to send as one JSON line: the fixed file's object, or the original message."""
    if path is not None:
        with open(path, encoding="utf-8") as handle:
            try:
                event = json.load(handle)
            except ValueError as exc:
                raise Refused(f"{path} is not JSON: {exc}") from None
        if not isinstance(event, dict):
            raise Refused(f"{path} must hold one JSON object (a CloudEvent)")
        return json.dumps(event, ensure_ascii=False)
    try:
        return bytes(row["value"] or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("the original message is not UTF-8; give the fixed event with --file") from None


def republish(
    conn: psycopg.Connection[DictRow],
    base: str,
    publisher: Publisher,
    ident: int,
    path: str | None,
    force: bool = False,
) -> dict[str, Any]:
    """Send one dead letter (fixed) to its original topic and mark it republished; its row."""
    row = conn.execute(ONE, {"id": ident}).fetchone()
    if row is None:
        raise Refused(f"no rejected event #{ident}")
    if row["republished_at"] is not None and not force:
        raise Refused(
            f"#{ident} was republished at {row['republished_at']:%Y-%m-%d %H:%M:%S%z}; --force sends it again"
        )
    report = publisher.publish_lines(row["topic"], [fixed_line(row, path)])
    if report.refused:
        raise Refused(f"still invalid, not sent: {report.refused[0][1]}")
    with conn.transaction(), conn.cursor() as cur:  # the pointer is share-locked: a switch waits for the mark
        live = pointer.locked_live(cur, base)
        cur.execute(sql.SQL(MARK).format(sql.Identifier(live.schema)), {"id": ident})
    return row


def _print_rows(rows: list[dict], as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str, ensure_ascii=False))
        return
    print(
        f"{'ID':>6}  {'REJECTED AT (UTC)':19}  {'TOPIC:PARTITION@OFFSET':28}  {'TYPE':28}  "
        f"{'EVENT ID':36}  {'REPUBLISHED':19}  REASON"
    )
    for r in rows:
        where = f"{r['topic']}:{r['partition']}@{r['offset']}"
        done = f"{r['republished_at'].astimezone(UTC):%Y-%m-%d %H:%M:%S}" if r["republished_at"] else "-"
        print(
            f"{r['id']:>6}  {r['rejected_at'].astimezone(UTC):%Y-%m-%d %H:%M:%S}  {where:28}  {r['event_type'] or '-':28}  "
            f"{r['event_id'] or '-':36}  {done:19}  {r['reason']}"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal-deadletters", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser(
        "list",
        help="list rejected messages",
        description="List the messages a service's projector rejected, with the reason.",
    )
    listing.add_argument("--service", required=True, help="contracts, ledger, tickets or quota")
    listing.add_argument("--since", type=datetime.fromisoformat, help="only those rejected at or after (ISO 8601)")
    listing.add_argument("--pending", action="store_true", help="only those not republished yet")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    again = commands.add_parser(
        "republish",
        help="re-publish one rejected message, fixed",
        description="Send a rejected message again, as fixed (--file) or as it was, through the validating publisher.",
    )
    again.add_argument("--service", required=True, help="contracts, ledger, tickets or quota")
    again.add_argument("--id", type=int, required=True, help="the ID shown by `list`")
    again.add_argument("--file", help="the fixed event (one JSON object); default: the original message")
    again.add_argument("--force", action="store_true", help="send again even if republished before")
    return parser


@config.entry_point
def main(argv: list[str] | None = None) -> int:
    """Command line entry point: 0 done, 1 refused."""
    args = _parser().parse_args(argv)
    conn, base = connect(args.service)
    try:
        if args.command == "list":
            _print_rows(list_rejected(conn, args.since, args.pending), args.json)
            return 0
        publisher = Publisher(config.get("KAFKA_BOOTSTRAP_SERVERS"))
        try:
            row = republish(conn, base, publisher, args.id, args.file, args.force)
        finally:
            publisher.close()
        print(f"#{row['id']} re-published to {row['topic']}; every service reading {row['topic']} will apply it")
        return 0
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
