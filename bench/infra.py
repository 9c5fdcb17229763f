"""Per-benchmark Kafka topics and PostgreSQL databases, the system's processes, and their memory."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from shared.cli.admin import create_topics, delete_topics
from shared.config import with_database
from tests.support.procs import spawn
from tests.support.system import INTERNAL_TOKEN, SECRET_KEY, SERVICES, STACK_SERVERS, System, app_target, free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Scope:
    """One benchmark's own topic prefix and databases; `close()` removes them."""

    bootstrap: str
    server_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    databases: list[str] = field(default_factory=list)
    topics_made: bool = False

    @property
    def prefix(self) -> str:
        return f"bench{self.run_id}."

    def make_topics(self, partitions: int = 3) -> None:
        create_topics(self.bootstrap, partitions, self.prefix)
        self.topics_made = True

    def database(self, name: str, fresh: bool = False) -> str:
        """URL of this run's database `name` (created if absent, emptied when fresh)."""
        db = f"bench{self.run_id}_{name}"
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            if fresh:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        if db not in self.databases:
            self.databases.append(db)
        return with_database(self.server_url, db)

    def close(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            for db in self.databases:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        if self.topics_made:
            delete_topics(self.bootstrap, self.prefix)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MB."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 if match else None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by the processes (those that have exited count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def pids_running(needle: str) -> list[int]:
    """Pids whose command line contains `needle` (PostgreSQL's backends, the Kafka broker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def pids_listening(port: int) -> list[int]:
    """The process listening on a local TCP port, and its children (PostgreSQL's postmaster and backends; the
    Kafka broker): only this run's servers, not those of other users of the machine."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return [int(entry.name), *children(int(entry.name))]
        except OSError:
            continue
    return []


def children(pid: int) -> list[int]:
    """Direct children of a process (an API server's workers, a rebuild's members)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# The servers an API can run under in a benchmark: gunicorn (shared/web/gunicorn_conf.py), Granian
# (shared/web/serve.py), or nginx in front of Granian (change 16, bench/servers.py; nginx is not a dependency).
SERVERS = ("gunicorn", "granian", "nginx+granian")


class BenchSystem(System):
    """The e2e System, with workers and threads as scripts/stack.sh runs them, and each API under the stack's
    server unless `servers` names another."""

    workers: dict[str, tuple[int, int]] = {}
    servers: dict[str, str] = {}  # API -> one of SERVERS, over STACK_SERVERS (or gunicorn, for an older tree)
    server_ports: tuple[int, int] = (5432, 9092)  # this run's PostgreSQL and Kafka

    def start_api(self, service: str, workers: int = 1) -> None:
        app = app_target(service)
        workers, threads = self.workers[service]
        launcher = (self.source or ROOT) / "shared" / "web" / "serve.py"
        # a tree from before change 18 has no Granian launcher: its stack ran every API under gunicorn
        server = self.servers.get(service, STACK_SERVERS[service] if launcher.exists() else "gunicorn")
        if server != "gunicorn" and not launcher.exists():
            raise SystemExit(f"{self.source} has no shared/web/serve.py: its APIs run only under gunicorn")
        if server == "gunicorn":
            self.gunicorn(f"{service}-api", app, self.ports[service], workers, threads)
        elif server == "granian":
            self.granian(f"{service}-api", app, self.ports[service], workers, threads)
        else:
            self.nginx_granian(service, app, workers, threads)

    def nginx_granian(self, service: str, app: str, workers: int, threads: int) -> None:
        """Start an API under Granian (shared/web/serve.py) behind nginx: processes `<service>-api` (nginx, on the
        API's port) and `<service>-api-upstream`."""
        from bench import servers  # bench.servers imports this module

        scratch = self.log_dir / f"{service}-nginx"
        scratch.mkdir(parents=True, exist_ok=True)
        upstream = free_port()
        nginx = servers.nginx_command(self.ports[service], upstream, scratch)
        self.procs[f"{service}-api"] = spawn(nginx, self.env, self.log_dir / f"{service}-nginx.log")
        self.granian(f"{service}-api-upstream", app, upstream, workers, threads)

    def cpu_groups(self) -> dict[str, list[int]]:
        """Pids per group whose CPU time the query benchmark divides among the requests."""
        pids = {name: [proc.pid, *children(proc.pid)] for name, proc in self.procs.items()}
        return {
            "gateway": [p for name in ("gateway-api", "gateway-api-upstream") for p in pids.get(name, [])],
            "services": [
                p
                for name, group in pids.items()
                if name.endswith(("-api", "-api-upstream")) and not name.startswith("gateway-")
                for p in group
            ],
            "projectors": [p for name, group in pids.items() if name.endswith("-projector") for p in group],
            "postgres": pids_listening(self.server_ports[0]),
            "kafka": pids_listening(self.server_ports[1]),
        }

    def peak_memory(self) -> dict[str, float]:
        """Peak RSS in MB of every process (for an API: its largest gunicorn process)."""
        peaks = {}
        for name, proc in self.procs.items():
            pids = [proc.pid, *children(proc.pid)]
            values = [v for v in (peak_rss_mb(p) for p in pids) if v is not None]
            if values:
                peaks[name] = max(values)
        return peaks


def start_system(
    scope: Scope,
    log_dir: Path,
    poll_timeout_ms: int,
    api_workers: tuple[int, int],
    gateway_workers: tuple[int, int],
    source: Path = ROOT,
    servers: dict[str, str] | None = None,
) -> BenchSystem:
    """Projectors (continuing from the rebuilt read models), APIs and the gateway on free ports; the APIs and the
    gateway run the code of `source` (another tree for `bench.compare_queries`)."""
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": scope.bootstrap,
        "TOPIC_PREFIX": scope.prefix,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "GATEWAY_SECRET_KEY": SECRET_KEY,
        "PYTHONPATH": str(source),
        "PROJECTOR_POLL_TIMEOUT_MS": str(poll_timeout_ms),
        "CONSUMER_GROUP": "",
        "LOGIN_FAILURES_PER_ADDRESS": "100000000",
        "LOGIN_FAILURES_PER_CODE": "100000000",
    }
    for secret in ("INTERNAL_TOKEN", "GATEWAY_SECRET_KEY"):  # the bench's own values, not the stack's files
        env.pop(f"{secret}_FILE", None)
    for name in (*SERVICES, "gateway"):
        env[f"{name.upper()}_DATABASE_URL"] = scope.database(name)
        env[f"{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    log_dir.mkdir(parents=True, exist_ok=True)
    system = BenchSystem(env, log_dir, ports)
    system.workers = {**dict.fromkeys(SERVICES, api_workers), "gateway": gateway_workers}
    system.source = source
    system.servers = servers or {}
    system.server_ports = (
        urlsplit(scope.server_url).port or 5432,
        int(scope.bootstrap.split(",")[0].rsplit(":", 1)[1]),
    )
    try:
        for service in SERVICES:
            system.start_projector(service)
            system.start_api(service)
        system.start_api("gateway")
        system.wait_ready(timeout=120)
    except BaseException:  # nothing of a system that did not start is left running
        system.shutdown()
        raise
    return system


def _first_line(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine(server_url: str, bootstrap: str, load_before: tuple[float, float, float]) -> dict[str, str]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    with psycopg.connect(server_url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    kafka = os.environ.get("BENCH_KAFKA_VERSION") or _kafka_version()
    load_after = os.getloadavg()
    return {
        "nproc": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg,
        "kafka": f"{kafka} (broker at {bootstrap})",
        "load": f"1-min load average {load_before[0]:.1f} before, {load_after[0]:.1f} after",
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _kafka_version() -> str:
    pom = ROOT / "scripts" / "kafka" / "pom.xml"
    match = re.search(r"<kafka.version>(.*?)</kafka.version>", pom.read_text()) if pom.exists() else None
    return match.group(1) if match else "unknown"


OUTAGE_SIGNS = ("Connection refused", "Connection lost", "ECONNREFUSED", "server closed the connection")


def outages(log_dir: Path) -> list[str]:
    """First moments Kafka or PostgreSQL went away, per process log: other users restarting the shared broker
    or database; figures measured across such a moment are not the system's own."""
    seen = []
    for log in sorted(log_dir.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if any(sign in line for sign in OUTAGE_SIGNS):
                stamp = line.split('"ts": "', 1)[-1][:23] if '"ts": "' in line else "?"
                seen.append(f"{log.stem} at {stamp}")
                break
    return seen
