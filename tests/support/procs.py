"""Running projector processes and reading their read models in tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from shared import kafka_security
from shared.readmodel import connections as db
from tests.support.infra import ROOT


def projector_env(database_url: str, topic_prefix: str, group: str, **extra: str) -> dict[str, str]:
    """Environment of a test projector process."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TOPIC_PREFIX": topic_prefix,
        "CONSUMER_GROUP": group,
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def spawn(
    args: list[str],
    env: dict[str, str],
    log: Path | None = None,
    cwd: Path = ROOT,
    new_session: bool = False,
    stderr_pipe: bool = False,
) -> subprocess.Popen:
    """Start a process of ours (a projector, an API, a tool): the one way tests and benchmarks start them.

    `args` starting with `-m` run a module with this interpreter; its output is appended to `log` when given.
    """
    if args and args[0] == "-m":
        args = [sys.executable, *args]
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.PIPE if stderr_pipe else out,
            start_new_session=new_session,
        )
    finally:
        if log:
            out.close()


def terminate(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL if it has not gone within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_counting(env: dict[str, str], *args: str, capture: bool = False) -> subprocess.Popen:
    """Start the counting test projector (stderr captured only when asked)."""
    return spawn(["-m", "tests.support.counting", *args], env, stderr_pipe=capture)


def run_counting(env: dict[str, str], *args: str, timeout: float = 120) -> None:
    """Run the counting projector until it has caught up."""
    proc = start_counting(env, "--until-caught-up", *args, capture=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"not caught up within {timeout:g} s: {err.decode(errors='replace')[-2000:]}") from None
    assert proc.returncode == 0, err.decode()[-2000:]


def rows(database_url: str, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run a read query against a read model."""
    with db.connect(database_url) as conn:
        return conn.execute(query, params or {}).fetchall()


def stacks_of(proc: subprocess.Popen, log: Path, timeout: float = 10, group: bool = False) -> str:
    """Where a live projector is waiting: SIGUSR2 makes it write every thread's stack to its log (faulthandler,
    shared/service.py); `group`: every process of its session (a rebuild's members too). The stacks, or why
    there are none."""
    if proc.poll() is not None:
        return f"(it has exited: {proc.returncode})"
    before = log.read_text(errors="replace") if log.exists() else ""
    if group:
        os.killpg(proc.pid, signal.SIGUSR2)
    else:
        proc.send_signal(signal.SIGUSR2)
    try:
        wait_for(lambda: "(most recent call first)" in log.read_text(errors="replace")[len(before) :], timeout, 0.1)
    except AssertionError:
        return f"(no stacks written within {timeout:g} s)"
    time.sleep(0.5)  # the handler writes the whole dump at once; this only leaves it time to finish
    added = log.read_text(errors="replace")[len(before) :]
    return "\n".join(line for line in added.splitlines() if not line.startswith("{"))  # log lines out


def log_tail(log: Path, lines: int = 40, leave_out: str = '"msg": "batch applied"') -> str:
    """The last lines of a log without the routine ones."""
    if not log.exists():
        return "(no log)"
    kept = [line for line in log.read_text(errors="replace").splitlines() if leave_out not in line]
    return "\n".join(kept[-lines:])


def wait_for(predicate, timeout: float = 60, interval: float = 0.2):  # noqa: ANN001
    """Poll until `predicate()` is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def send_raw(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes | None]]) -> None:
    """Send raw (key, value) messages, bypassing the publisher's validation."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, **kafka_security.client_kwargs(), acks="all", max_request_size=4 * 1024 * 1024
    )
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close()
