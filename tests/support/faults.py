"""Fault injection on the local stack (scripts/infra.sh): kill -9 the Kafka broker, stop PostgreSQL hard.

Every fault is a context manager that brings the component back in its `finally`, so a failing
test never leaves the broker or the database down for the tests after it.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlparse

import psycopg

from shared.cli.admin import admin_client
from tests.support.infra import ROOT

INFRA = ROOT / "scripts" / "infra.sh"


def _lib(expression: str) -> str:
    """Evaluate a shell expression after sourcing scripts/lib.sh (the stack's own settings)."""
    script = f"source {ROOT / 'scripts' / 'lib.sh'}; {expression}"
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.strip()


def run_dir() -> Path:
    """Where the local stack keeps its pid files and logs."""
    return Path(os.environ.get("PORTAL_RUN_DIR", ROOT / ".run"))


def kafka_pid() -> int | None:
    """Pid of the local broker, if it runs."""
    pidfile = run_dir() / "pids" / "kafka.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def local_stack_problem(bootstrap: str, database_url: str) -> str | None:
    """Why the faults cannot be injected here (None: the tests run on the local stack they can kill)."""
    kafka_port = os.environ.get("PORTAL_KAFKA_PORT", "9092")
    pg_port = int(os.environ.get("PORTAL_PG_PORT", "54329"))
    if bootstrap not in (f"127.0.0.1:{kafka_port}", f"localhost:{kafka_port}"):
        return f"Kafka {bootstrap} is not the local stack's broker"
    if urlparse(database_url).port != pg_port:
        return f"PostgreSQL {database_url} is not the local stack's cluster"
    if kafka_pid() is None:
        return "the local broker's pid file names no running process"
    return None


def _infra_up() -> None:
    """`scripts/infra.sh up` (idempotent), detached from pytest's session so Ctrl-C never reaches the broker."""
    log = run_dir() / "logs" / "infra-faults.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        subprocess.run(
            [str(INFRA), "up"],
            cwd=ROOT,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=True,
            timeout=300,  # pg_ctl alone may wait 180 s for a crash recovery (scripts/infra.sh)
        )


def wait_kafka(bootstrap: str, timeout: float = 90) -> None:
    """Wait until the broker answers an admin request."""
    admin_client(bootstrap, timeout).close()


def kill_kafka() -> None:
    """SIGKILL the local broker and wait until it is gone."""
    pid = kafka_pid()
    assert pid is not None, "the local broker is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError(f"broker {pid} survived SIGKILL")


def start_kafka(bootstrap: str) -> None:
    """Start the broker again (scripts/infra.sh up) and wait until it answers."""
    _infra_up()
    wait_kafka(bootstrap)


def broker_killed(bootstrap: str) -> AbstractContextManager[dict[str, float]]:
    """kill -9 the broker on entry; always start it again on exit. Yields figures: `restart_s` (set on exit)."""
    return _down(kill_kafka, lambda: start_kafka(bootstrap))


@contextmanager
def _down(stop: Callable[[], None], start: Callable[[], None]) -> Iterator[dict[str, float]]:
    """`stop()` on entry; always `start()` on exit, timed: yields figures whose `restart_s` is set on exit
    (`killed_at` / `stopped_at`: the monotonic time the component went down)."""
    figures: dict[str, float] = {}
    stop()
    figures["killed_at"] = figures["stopped_at"] = time.monotonic()
    try:
        yield figures
    finally:
        started = time.monotonic()
        start()
        figures["restart_s"] = round(time.monotonic() - started, 1)


def collect_dead_sockets() -> None:
    """kafka-python leaves the sockets of its failed connection attempts (to the dead broker) to the garbage
    collector: collect them now, quietly, rather than in whichever test runs next (pytest makes their
    ResourceWarning an error there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _pg_ctl(args: str) -> None:
    """Run pg_ctl on the local cluster as its owner (the `postgres` user when we are root)."""
    bindir = _lib(
        'dir="$(pg_config --bindir 2>/dev/null || true)"; [ -x "$dir/pg_ctl" ] || '
        'dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; echo "$dir"'
    )
    _lib(f"as_pg_owner \"'{bindir}/pg_ctl' -D '$PGDATA_DIR' {args} >/dev/null\"")


def stop_postgres() -> None:
    """`pg_ctl stop -m immediate`: every backend dies at once, as in a crash."""
    _pg_ctl("-m immediate -w stop")


def start_postgres(database_url: str) -> None:
    """Start the cluster again with the stack's own options (scripts/infra.sh up) and wait for it."""
    _infra_up()
    wait_postgres(database_url)


def wait_postgres(database_url: str, timeout: float = 60) -> None:
    """Wait until PostgreSQL accepts a query."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(database_url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def postgres_stopped(database_url: str) -> AbstractContextManager[dict[str, float]]:
    """Stop PostgreSQL (immediate) on entry; always start it again on exit. Yields figures: `restart_s`."""
    return _down(stop_postgres, lambda: start_postgres(database_url))
