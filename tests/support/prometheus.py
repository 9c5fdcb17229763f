"""A real Prometheus server (Debian's `prometheus`) scraping a running System, for tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.infra import ROOT
from tests.support.procs import terminate
from tests.support.system import SERVICES, System, free_port

CONFIG_SCRIPT = ROOT / "scripts" / "prometheus_config.py"


def config_for(system: System, token_file: Path, interval: str = "1s") -> str:
    """The configuration `scripts/stack.sh run` would generate, for the system's ports."""
    args = [
        sys.executable,
        str(CONFIG_SCRIPT),
        "--gateway",
        f"127.0.0.1:{system.ports['gateway']}",
        "--interval",
        interval,
        "--token-file",
        str(token_file),
    ]
    for service in SERVICES:
        args += [
            "--service",
            f"{service}=127.0.0.1:{system.ports[service]}",
            "--projector",
            f"{service}=127.0.0.1:{system.ports[f'{service}-projector']}",
        ]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@contextmanager
def prometheus_for(system: System, workdir: Path) -> Iterator[str]:
    """Run Prometheus against `system`; yields its base URL."""
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus package is required (apt-get install prometheus; .ci/run installs it)"
    workdir.mkdir(parents=True, exist_ok=True)
    config, token = workdir / "prometheus.yml", workdir / "internal_token"
    token.write_text(system.env["INTERNAL_TOKEN"])
    config.write_text(config_for(system, token))
    port = free_port()
    log = open(workdir / "prometheus.log", "ab")  # noqa: SIM115 - owned by the child process
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None, f"prometheus exited; see {workdir / 'prometheus.log'}"
            assert time.monotonic() < deadline, f"prometheus did not start; see {workdir / 'prometheus.log'}"
            time.sleep(0.2)
        yield url
    finally:
        terminate(proc, timeout=10)


def api(url: str, path: str, **params: str) -> object:
    """The `data` of a Prometheus HTTP API answer."""
    body = requests.get(f"{url}/api/v1/{path}", params=params, timeout=5).json()
    assert body["status"] == "success", body
    return body["data"]
