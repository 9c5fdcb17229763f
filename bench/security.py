"""`python -m bench.security`: what TLS + SASL/SCRAM cost the publisher and a projector, against plaintext.

In one run, against the same local broker: the broker is restarted with its dev-only PLAINTEXT listener on
127.0.0.1 (scripts/infra.sh restart-kafka, PORTAL_KAFKA_DEV_PLAINTEXT_PORT) beside its SASL_SSL one, and
restarted without it at the end. `User:ANONYMOUS` (the plaintext clients) gets ACLs on this run's topic prefix
and groups only, removed afterwards. Then, alternating the two listeners, three times each:

- publish: `python -m shared.cli.publish` (its own process, as `portal-publish` runs) sends N valid
  `payment.received` events (fixed seed), as the `bank` principal over SASL_SSL or anonymously over plaintext;
- rebuild: the ledger projector (`python -m services.ledger.projector --until-caught-up`, its own process, a
  fresh database, a new consumer group) reads every record of the run's topics (the six publish runs' 6N records,
  N distinct events: the copies are recognised by their ids), as `projector-ledger` over SASL_SSL or
  anonymously over plaintext.

Medians of the three, as events per second of the process's whole life (start-up included, equal for both).
Prints a table, writes `.run/bench-security.json` and the table into docs/security.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType
from psycopg import sql

from bench.publisher import write_events
from shared.cli.admin import admin_client, create_topics, delete_topics
from shared.config import with_database
from tests.support.system import free_port

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bench-security:begin -->", "<!-- bench-security:end -->"
MODES = ("plaintext", "sasl_ssl")


def anonymous_acls(prefix: str) -> list[ACL]:
    """What the dev-only plaintext listener's clients may do: this run's topics and groups, nothing else."""

    def allow(op: ACLOperation, kind: ResourceType) -> ACL:
        pattern = ResourcePattern(kind, prefix, ACLResourcePatternType.PREFIXED)
        return ACL("User:ANONYMOUS", "*", op, ACLPermissionType.ALLOW, pattern)

    ops = (ACLOperation.READ, ACLOperation.WRITE, ACLOperation.DESCRIBE)
    return [allow(op, ResourceType.TOPIC) for op in ops] + [allow(ACLOperation.READ, ResourceType.GROUP)]


def restart_kafka(dev_port: int | None) -> None:
    """The local broker again, with (or without) the dev-only plaintext listener."""
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_KAFKA_DEV_PLAINTEXT_PORT"}
    if dev_port:
        env["PORTAL_KAFKA_DEV_PLAINTEXT_PORT"] = str(dev_port)
    subprocess.run(
        [str(ROOT / "scripts" / "infra.sh"), "restart-kafka"], env=env, check=True, stdout=subprocess.DEVNULL
    )


def mode_env(mode: str, dev_port: int, principal: str) -> dict[str, str]:
    """The environment of a child process speaking to one listener."""
    secrets = Path(os.environ.get("PORTAL_SECRETS_DIR", ROOT / ".run" / "secrets"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_SASL_")}
    if mode == "plaintext":
        return {**env, "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{dev_port}"}
    return {
        **env,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_USERNAME": principal,
        "KAFKA_SASL_PASSWORD_FILE": str(secrets / f"kafka-{principal}"),
    }


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one child process, which must succeed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def run(events: int, repeats: int, server_url: str) -> dict:
    dev_port = free_port()
    prefix = f"benchsec{uuid.uuid4().hex[:6]}."
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    work = ROOT / ".run" / "bench-security"
    work.mkdir(parents=True, exist_ok=True)
    data = work / "payments.jsonl"
    write_events(data, events, seed=21)
    restart_kafka(dev_port)
    create_topics(bootstrap, 3, prefix)  # with every principal's ACLs for the prefix
    admin = admin_client(bootstrap)
    admin.create_acls(anonymous_acls(prefix))
    databases: list[str] = []
    seconds: dict[str, dict[str, list[float]]] = {"publish": {m: [] for m in MODES}, "rebuild": {m: [] for m in MODES}}
    try:
        for rep in range(repeats):
            for mode in MODES if rep % 2 == 0 else MODES[::-1]:
                env = {**mode_env(mode, dev_port, "bank"), "TOPIC_PREFIX": prefix}
                seconds["publish"][mode].append(
                    timed(["-m", "shared.cli.publish", "--topic", "payments", "--quiet", str(data)], env)
                )
        published = events * repeats * len(MODES)
        for rep in range(repeats):
            for mode in MODES if rep % 2 == 0 else MODES[::-1]:
                db = f"{prefix.rstrip('.')}_{mode}_{rep}"
                with psycopg.connect(server_url, autocommit=True) as conn:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
                databases.append(db)
                env = {
                    **mode_env(mode, dev_port, "projector-ledger"),
                    "TOPIC_PREFIX": prefix,
                    "CONSUMER_GROUP": f"{prefix}ledger.{mode}{rep}",
                    "DATABASE_URL": server_url,
                    "LEDGER_DATABASE_URL": with_database(server_url, db),
                    "PROJECTOR_METRICS_PORT": "",
                }
                seconds["rebuild"][mode].append(timed(["-m", "services.ledger.projector", "--until-caught-up"], env))
                with psycopg.connect(with_database(server_url, db)) as conn:
                    applied = conn.execute("SELECT count(*) FROM readmodel.payment").fetchone()[0]
                assert applied == events, (mode, applied)  # every publish run sent the same events (same ids)
    finally:
        admin.delete_acls(anonymous_acls(prefix))
        admin.close()
        delete_topics(bootstrap, prefix)
        with psycopg.connect(server_url, autocommit=True) as conn:
            for db in databases:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        restart_kafka(None)
    rows = {}
    for phase, count in (("publish", events), ("rebuild", published)):
        med = {mode: statistics.median(seconds[phase][mode]) for mode in MODES}
        rows[phase] = {
            "events": count,
            "seconds": seconds[phase],
            "median_events_per_s": {mode: round(count / med[mode]) for mode in MODES},
            "sasl_ssl_cost_pct": round((med["sasl_ssl"] / med["plaintext"] - 1) * 100, 1),
        }
    return {
        "when": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "repeats": repeats,
        "results": rows,
    }


def table(result: dict) -> str:
    lines = [
        f"Measured {result['when']} on {result['machine']}, medians of {result['repeats']} "
        "(`python -m bench.security`):",
        "",
        "| step | events | plaintext (events/s) | SASL_SSL (events/s) | SASL_SSL time vs plaintext |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {"publish": "publisher CLI (`bank`)", "rebuild": "ledger projector rebuild (`projector-ledger`), records"}
    for phase, row in result["results"].items():
        rate = row["median_events_per_s"]
        lines.append(
            f"| {names[phase]} | {row['events']:,} | {rate['plaintext']:,} | {rate['sasl_ssl']:,} | "
            f"{row['sasl_ssl_cost_pct']:+.1f}% |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.security", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events per publish run (default 10,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "security.md")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args(argv)
    server_url = os.environ.get("DATABASE_URL")
    if not server_url or os.environ.get("KAFKA_SECURITY_PROTOCOL", "").upper() != "SASL_SSL":
        print("run it through the stack's environment: scripts/stack.sh bench-security", file=sys.stderr)
        return 2
    result = run(args.events, args.repeats, server_url)
    text = table(result)
    print(text)
    out = ROOT / ".run" / "bench-security.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not args.no_docs:
        doc = args.docs.read_text(encoding="utf-8")
        head, rest = doc.split(START, 1)
        _, tail = rest.split(END, 1)
        args.docs.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
