"""The whole system as processes for end-to-end tests: four services (API + projector) and the gateway."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.cli.catchup import wait_caught_up
from tests.support import security
from tests.support.infra import ROOT
from tests.support.procs import spawn, terminate

SERVICES = ("contracts", "ledger", "tickets", "quota")
INTERNAL_TOKEN = "e2e-internal-token"  # test values: long enough and no known default (shared/config.py)
SECRET_KEY = "e2e-gateway-secret-0123456789abcdef0123"
# The gateway's gunicorn configuration, as scripts/stack.sh and Docker use it (the services run shared/web/serve.py).
GUNICORN_CONF = "python:shared.web.gunicorn_conf"
# Which server each API runs under, as scripts/stack.sh runs them (docs/decisions.md).
STACK_SERVERS = {**dict.fromkeys(SERVICES, "granian"), "gateway": "gunicorn"}


def app_target(service: str) -> str:
    """The app factory of a service's API, or of the gateway, as the servers take it."""
    return "gateway.app:create_app()" if service == "gateway" else f"services.{service}.app:create_app()"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class System:
    """Processes of one running system, with its ports and databases."""

    env: dict[str, str]
    log_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    handed_over: set[str] = field(default_factory=set)  # databases given to their service's roles
    # Another source tree for the APIs (bench.compare_queries): gunicorn puts its working directory first on
    # sys.path, so the directory decides whose code it serves, whatever PYTHONPATH says.
    source: Path | None = None

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def _spawn(self, name: str, args: list[str]) -> None:
        self.procs[name] = spawn(args, self.env, self.log_dir / f"{name}.log")

    def gunicorn(
        self, name: str, app: str, port: int, workers: int = 1, threads: int = 8, env: dict[str, str] | None = None
    ) -> None:
        """Start `app` under gunicorn as scripts/stack.sh does (shared/web/gunicorn_conf.py)."""
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        config = ["-c", "python:shared.web.gunicorn_conf", "--workers", str(workers), "--threads", str(threads)]
        self._start_server(
            name, app, [gunicorn, *config, "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2"], env
        )

    def _start_server(self, name: str, app: str, command: list[str], env: dict[str, str] | None) -> None:
        """Start an API server (`command` then `app`) with the app's identity, a metrics directory of its own
        (`<log_dir>/metrics/<name>`), logging to `<log_dir>/<name>.log`, in the source tree's directory."""
        self.procs[name] = spawn(
            [*command, app],
            self._with_identity(
                security.app_service(app),
                {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self.log_dir / "metrics" / name), **(env or {})},
                security.app_identity(app),
            ),
            self.log_dir / f"{name}.log",
            **({"cwd": self.source} if self.source else {}),
        )

    def _with_identity(self, service: str | None, env: dict[str, str], identity: dict[str, str]) -> dict[str, str]:
        """`env` plus the process's own principal and role (tests/support/security.py); the database it will use
        is handed to the service's roles first (once)."""
        if not identity or service is None:
            return env
        url = env.get(f"{service.upper()}_DATABASE_URL")
        if url and url not in self.handed_over:
            security.hand_over(os.environ["DATABASE_URL"], url, service)
            self.handed_over.add(url)
        return {**env, **identity}

    def granian(
        self, name: str, app: str, port: int, workers: int = 1, threads: int = 4, env: dict[str, str] | None = None
    ) -> None:
        """Start a service's API under Granian as scripts/stack.sh does (shared/web/serve.py)."""
        options = ["--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}"]
        self._start_server(name, app, ["-m", "shared.web.serve", *options], env)

    def start_api(self, service: str, workers: int = 1) -> None:
        """Start one service's API under Granian, or the gateway under gunicorn, as scripts/stack.sh does."""
        start = getattr(self, STACK_SERVERS[service])
        start(f"{service}-api", app_target(service), self.ports[service], workers)

    def start_gateway(self, name: str, **env: str) -> str:
        """Start one more gateway process (own port, settings changed by `env`); returns its URL."""
        self.ports[name] = free_port()
        self.gunicorn(name, "gateway.app:create_app()", self.ports[name], env=env)
        wait_live(self.url(name))
        return self.url(name)

    def start_projector(self, service: str) -> None:
        """Start one service's projector, its metrics on a port of its own (`ports['<service>-projector']`)."""
        name = f"{service}-projector"
        env = self._with_identity(service, self.env, security.projector_identity(service))
        if "PROJECTOR_METRICS_PORT" not in env:  # a caller's choice (a port, or "" for none) is kept
            self.ports.setdefault(name, free_port())
            env = {**env, "PROJECTOR_METRICS_PORT": str(self.ports[name])}
        self.procs[name] = spawn(["-m", f"services.{service}.projector"], env, self.log_dir / f"{name}.log")

    def stop(self, name: str) -> None:
        """Stop one process (e.g. 'ledger-api') and wait for it."""
        terminate(self.procs.pop(name), timeout=15)

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until every API answers /health/live."""
        deadline = time.monotonic() + timeout
        for name in (*SERVICES, "gateway"):
            wait_live(self.url(name), max(deadline - time.monotonic(), 1), f"{name} did not start; see {self.log_dir}")

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Wait until every projection has applied everything published so far."""
        lags = wait_caught_up({s: self.url(s) for s in SERVICES}, timeout)
        assert all(lag == 0 for lag in lags.values()), f"projections behind: {lags}"

    def shutdown(self) -> None:
        """Stop every process."""
        for name in list(self.procs):
            self.stop(name)


def wait_live(url: str, timeout: float = 60, message: str | None = None) -> None:
    """Wait until a process answers `GET /health/live` with 200."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(message or f"{url} did not start")
        time.sleep(0.2)


def start_system(
    kafka_bootstrap: str,
    topic_prefix: str,
    make_database,
    log_dir: Path,
    run_id: str,
    extra_env: dict[str, str] | None = None,
    name: str = "e2e",
) -> System:
    """Start all services and the gateway against real Kafka and PostgreSQL (`extra_env` overrides settings)."""
    ports = {process: free_port() for process in (*SERVICES, "gateway")}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TOPIC_PREFIX": topic_prefix,
        "INTERNAL_TOKEN": INTERNAL_TOKEN,
        "GATEWAY_SECRET_KEY": SECRET_KEY,
        "PYTHONPATH": str(ROOT),
        "PROJECTOR_POLL_TIMEOUT_MS": "100",
        "CONSUMER_GROUP": "",
        # every e2e login comes from 127.0.0.1; the per-address limit has its own gateway test
        "LOGIN_FAILURES_PER_ADDRESS": "100000",
        # On a loaded 2-core machine an argon2 check or a query can take more than the production 2 s: the
        # tests must not turn load into 503s. The timeout itself is tested on its own (a hung service).
        "SERVICE_TIMEOUT_S": "10",
        "SERVICE_CONNECT_TIMEOUT_S": "2",
        "HEALTH_TIMEOUT_S": "10",
        # Likewise no quick 429 for a login that waits for a check slot behind slow verifications: the tests
        # count the brute-force limits' answers. The admission itself has its own gateway test.
        "LOGIN_QUEUE_WAIT_S": "30",
        **(extra_env or {}),
    }
    for service in (*SERVICES, "gateway"):
        env[f"{service.upper()}_DATABASE_URL"] = make_database(f"{name}_{service}")
    for service in (*SERVICES, "gateway"):
        env[f"{service.upper()}_URL"] = f"http://127.0.0.1:{ports[service]}"
    log_dir.mkdir(parents=True, exist_ok=True)
    system = System(env, log_dir, ports)
    try:
        for service in SERVICES:
            system.start_projector(service)
            system.start_api(service)
        system.start_api("gateway")
        system.wait_ready()
    except BaseException:
        system.shutdown()  # no process outlives a failed start
        raise
    return system
