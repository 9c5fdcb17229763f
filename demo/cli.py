"""Command line: write the demo topics as JSON Lines and print the demo logins."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from demo.awkward import FIXED_CASES
from demo.generator import demo_logins, generate
from shared.timeutil import today_budapest


def iso_date(text: str) -> date:
    """A YYYY-MM-DD option value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(prog="python -m demo", description="Write a deterministic demo data set.")
    parser.add_argument("--customers", type=int, default=25, help="number of customers (at least 8)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
    parser.add_argument("--today", type=iso_date, default=None, help="YYYY-MM-DD (default: today in Budapest)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)
    if args.customers < len(FIXED_CASES):
        parser.error(f"--customers must be at least {len(FIXED_CASES)} (the fixed demo cases)")
    return args


def write_topics(out: Path, topics: dict[str, list[dict]]) -> None:
    """One <topic>.jsonl per topic, one CloudEvent per line."""
    out.mkdir(parents=True, exist_ok=True)
    for topic, events in topics.items():
        lines = (json.dumps(event, ensure_ascii=False) + "\n" for event in events)
        (out / f"{topic}.jsonl").write_text("".join(lines), encoding="utf-8")


def login_table(logins: list[dict]) -> str:
    """The demo logins as a small fixed-width table."""
    rows = [("customer", "serial number", "password", "note")]
    rows += [(row["customer_code"], str(row["serial_number"]), row["password"] or "-", row["note"]) for row in logins]
    code_width, serial_width, password_width = (max(len(row[n]) for row in rows) for n in range(3))
    return "\n".join(
        f"{code:<{code_width}}  {serial:<{serial_width}}  {password:<{password_width}}  {note}"
        for code, serial, password, note in rows
    )


def main(argv: list[str] | None = None) -> None:
    """Generate the demo data set into --out and print the logins."""
    args = parse_args(argv)
    today = args.today or today_budapest()
    topics = generate(args.customers, args.seed, today)
    logins = demo_logins(args.customers, args.seed, today)
    write_topics(args.out, topics)
    (args.out / "logins.json").write_text(json.dumps(logins, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(f"{topic}: {len(events)}" for topic, events in topics.items())
    print(f"Demo data as of {today.isoformat()} (seed {args.seed}) written to {args.out}/ ({counts})\n")
    print(login_table(logins))
